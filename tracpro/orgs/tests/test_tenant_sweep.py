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

import pytest

from django.conf import settings
from django.urls import reverse

from tracpro.tests.routes import (
    ORG_URLCONF,
    ROOT_URLCONF,
    ObjectMaker,
    Unfillable,
    collect_routes,
    request,
    sweep_registry,
)

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
