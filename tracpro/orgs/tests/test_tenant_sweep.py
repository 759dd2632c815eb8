"""The tenant sweep: every URL pattern, enumerated from the resolver, is checked for
cross-org access, so a view is covered the day it is added.

On an org host, for every route that is not public:
- anonymous visitors are sent to the login page;
- a logged-in user who is not a member (and a member of the other org) gets 404;
- members of the org get 404 when the URL names another org's objects.
On the root host, management routes are for superusers only (404 otherwise).

URL arguments are filled with objects made by the `SWEEP_FACTORIES` of each
app's `tests/factories.py` (`pk`/`id` use the view's model; `<model>_id` and
`<model>_pk` the named model) or with plain `SWEEP_VALUES`. A route the sweep
cannot fill fails.
"""

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tracpro.orgs.models import Org

ORG_URLCONF = "tracpro.urls"
ROOT_URLCONF = "tracpro.urls_root"

# Routes anyone may open. A new public route must be added here on purpose.
PUBLIC_ROUTES = {
    "healthz",
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation",
    "accounts:set_language",
}
# Root-host routes any logged-in user may open (everything else there is superuser-only).
ROOT_ROUTES_FOR_USERS = {
    "home",
    "accounts:logout",
    "accounts:password_change",
    "accounts:password_change_done",
}


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


ORG_ROUTES = collect_routes(ORG_URLCONF)
ROOT_ROUTES = collect_routes(ROOT_URLCONF)


@pytest.fixture
def maker() -> ObjectMaker:
    return ObjectMaker(*sweep_registry())


def test_it_knows_every_public_route():
    public = {r.name for r in ORG_ROUTES + ROOT_ROUTES if r.is_public}
    assert public == PUBLIC_ROUTES


def assert_open_to_anyone(response) -> None:
    """A public route answers an anonymous visitor itself: no login redirect, no error."""
    assert response.status_code < 500, f"anonymous got {response.status_code}"
    location = response.get("Location", "")
    assert not location.startswith(settings.LOGIN_URL), "a public route asked for a login"


@pytest.mark.parametrize("route", ORG_ROUTES, ids=[r.name for r in ORG_ROUTES])
def test_org_route_keeps_tenants_apart(route, maker, client_for, acme, beta, ann, sam, bea, olly):
    if route.is_public:
        url = reverse(route.name, urlconf=ORG_URLCONF, kwargs=maker.kwargs_for(route, acme))
        assert_open_to_anyone(request(client_for(None, acme), url))
        return
    try:
        own = reverse(route.name, urlconf=ORG_URLCONF, kwargs=maker.kwargs_for(route, acme))
        foreign = reverse(route.name, urlconf=ORG_URLCONF, kwargs=maker.kwargs_for(route, beta))
    except Unfillable as problem:
        pytest.fail(f"the sweep cannot fill {route.name}: {problem}")

    response = request(client_for(None, acme), own)
    assert response.status_code == 302, f"anonymous got {response.status_code}"
    assert response["Location"].startswith(settings.LOGIN_URL)

    for outsider in (olly, bea):
        response = request(client_for(outsider, acme), own)
        assert response.status_code == 404, f"{outsider} got {response.status_code}"

    if route.kwargs:
        for member in (ann, sam):
            response = request(client_for(member, acme), foreign)
            assert response.status_code == 404, f"{member} reached beta's objects"


@pytest.mark.parametrize("route", ROOT_ROUTES, ids=[r.name for r in ROOT_ROUTES])
def test_root_route_is_for_superusers(route, maker, client_for, acme, ann, olly):
    if route.is_public:
        url = reverse(route.name, urlconf=ROOT_URLCONF, kwargs=maker.kwargs_for(route, acme))
        assert_open_to_anyone(request(client_for(None), url))
        return
    try:
        url = reverse(route.name, urlconf=ROOT_URLCONF, kwargs=maker.kwargs_for(route, acme))
    except Unfillable as problem:
        pytest.fail(f"the sweep cannot fill {route.name}: {problem}")

    response = request(client_for(None), url)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)

    if route.name not in ROOT_ROUTES_FOR_USERS:
        for user in (olly, ann):
            assert request(client_for(user), url).status_code == 404
