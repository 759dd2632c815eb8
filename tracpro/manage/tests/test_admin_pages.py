"""Administration pages: org admins (and superusers) only; a supervisor gets 404 on every
one of them, whatever the method."""

import pytest

from django.urls import reverse

from tracpro.orgs.tests.test_tenant_sweep import (
    ORG_ROUTES,
    ORG_URLCONF,
    ObjectMaker,
    sweep_registry,
)

ADMIN_NAMESPACES = ("groups:", "users:", "orgs:")
# Everyone inside the org uses the region switcher.
FOR_EVERY_MEMBER = {"groups:choose_region"}

ADMIN_ROUTES = [
    route
    for route in ORG_ROUTES
    if route.name.startswith(ADMIN_NAMESPACES) and route.name not in FOR_EVERY_MEMBER
]


def test_it_knows_the_administration_pages():
    names = {route.name for route in ADMIN_ROUTES}
    assert {"groups:region_list", "users:create", "orgs:settings"} <= names


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=[route.name for route in ADMIN_ROUTES])
def test_supervisors_never_reach_an_admin_page(route, client_for, acme, ann, sam, root):
    maker = ObjectMaker(*sweep_registry())
    path = reverse(route.name, urlconf=ORG_URLCONF, kwargs=maker.kwargs_for(route, acme))

    for method in ("get", "post"):
        response = getattr(client_for(sam, acme), method)(path)
        assert response.status_code == 404, f"{method.upper()} gave {response.status_code}"

    for admin in (ann, root):
        response = client_for(admin, acme).get(path)
        assert response.status_code in (200, 405), f"{admin} got {response.status_code}"
