"""Every route of both hosts, enumerated from the resolver, and the objects their
URL arguments point at: the sweeps (tenancy, CSRF, anonymous access, hostile
input, CSP in the browser) use these so a new route is covered the day it is added.

URL arguments are filled with objects made by the `SWEEP_FACTORIES` of each
app's `tests/factories.py` (`pk`/`id` use the view's model; `<model>_id` and
`<model>_pk` the named model) or with plain `SWEEP_VALUES`. A route that cannot
be filled raises `Unfillable`, and the sweeps fail on it.
"""

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tracpro.orgs.models import Org

ORG_URLCONF = "tracpro.urls"
ROOT_URLCONF = "tracpro.urls_root"


@dataclass(frozen=True)
class Route:
    name: str
    kwargs: tuple[str, ...]
    callback: Callable

    @property
    def is_public(self) -> bool:
        return getattr(self.callback, "login_required", True) is False

    @property
    def view_model(self) -> type[Model] | None:
        return getattr(getattr(self.callback, "view_class", None), "model", None)


def collect_routes(urlconf: str) -> list[Route]:
    def walk(patterns, namespace: str, kwargs: tuple[str, ...]) -> Iterator[Route]:
        for pattern in patterns:
            found = kwargs + tuple(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                yield from walk(pattern.url_patterns, inner, found)
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"every route needs a name: {pattern.pattern} in {urlconf}"
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield Route(name, found, pattern.callback)

    return list(walk(get_resolver(urlconf).url_patterns, "", ()))


def sweep_registry() -> tuple[dict[str, Callable[[Org], Model]], dict[str, str]]:
    factories: dict[str, Callable[[Org], Model]] = {}
    values: dict[str, str] = {}
    for app in settings.INSTALLED_APPS:
        if not app.startswith("tracpro."):
            continue
        try:
            module = importlib.import_module(f"{app}.tests.factories")
        except ModuleNotFoundError:
            continue
        factories.update(getattr(module, "SWEEP_FACTORIES", {}))
        values.update(getattr(module, "SWEEP_VALUES", {}))
    return factories, values


class Unfillable(Exception):
    pass


@dataclass
class ObjectMaker:
    """Makes (once per org and model) the objects URL arguments point at."""

    factories: dict[str, Callable[[Org], Model]]
    values: dict[str, str]
    made: dict[tuple[int, str], Model] = field(default_factory=dict)

    def kwargs_for(self, route: Route, org: Org) -> dict[str, object]:
        return {name: self.value_for(route, name, org) for name in route.kwargs}

    def value_for(self, route: Route, name: str, org: Org) -> object:
        if name in self.values:
            return self.values[name]
        model = self.model_for(route, name)
        label = model._meta.label
        if label not in self.factories:
            raise Unfillable(f"no SWEEP_FACTORIES entry for {label} (argument {name!r})")
        key = (org.pk, label)
        if key not in self.made:
            self.made[key] = self.factories[label](org)
        return self.made[key].pk

    @staticmethod
    def model_for(route: Route, name: str) -> type[Model]:
        if name in ("pk", "id"):
            if route.view_model is None:
                raise Unfillable("a `pk` argument needs a view with a `model`")
            return route.view_model
        base = name.removesuffix("_id").removesuffix("_pk")
        for model in apps.get_models():
            if model._meta.model_name == base and model.__module__.startswith("tracpro."):
                return model
        raise Unfillable(f"cannot tell which model argument {name!r} names")


def request(client: Client, url: str):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


def both_hosts() -> list[tuple[str, Route]]:
    """(urlconf, route) for every route of the org hosts, then of the root host."""
    return [(ORG_URLCONF, route) for route in collect_routes(ORG_URLCONF)] + [
        (ROOT_URLCONF, route) for route in collect_routes(ROOT_URLCONF)
    ]


def route_id(item: tuple[str, Route]) -> str:
    urlconf, route = item
    return f"{'org' if urlconf == ORG_URLCONF else 'root'}:{route.name}"


def url_of(route: Route, urlconf: str, maker: ObjectMaker, org: Org) -> str:
    """The route's URL with its arguments filled for `org`; a sweep that cannot fill
    one fails, naming the route."""
    import pytest

    try:
        return reverse(route.name, urlconf=urlconf, kwargs=maker.kwargs_for(route, org))
    except Unfillable as problem:
        pytest.fail(f"the sweep cannot fill {route.name}: {problem}")
