"""Sweeps over every route of both hosts, enumerated from the resolver
(tracpro.tests.routes), so a route is covered the day it is added:

- every unsafe method without a CSRF token gets 403, whoever asks;
- every private route answers an anonymous visitor with the login page
  (GET, HEAD and POST alike), never an error;
- on a subdomain that is no org, every route is 404.
"""

import pytest

from django.conf import settings
from django.test import Client

from tracpro.conftest import org_host
from tracpro.tests.routes import (
    ORG_URLCONF,
    ROOT_URLCONF,
    both_hosts,
    collect_routes,
    route_id,
    url_of,
)

UNSAFE_METHODS = ("post", "put", "patch", "delete")
ORG_ROUTES = collect_routes(ORG_URLCONF)
ROOT_ROUTES = collect_routes(ROOT_URLCONF)
BOTH = both_hosts()
IDS = [route_id(item) for item in BOTH]


@pytest.mark.parametrize(("urlconf", "route"), BOTH, ids=IDS)
def test_unsafe_methods_need_a_csrf_token(urlconf, route, maker, acme, ann, root):
    url = url_of(route, urlconf, maker, acme)
    is_org = urlconf == ORG_URLCONF
    for user in (None, ann if is_org else root):
        client = Client(enforce_csrf_checks=True, HTTP_HOST=org_host(acme if is_org else None))
        if user is not None:
            client.force_login(user)
        client.get(url)  # a CSRF cookie, as a browser would have, but no token sent
        for method in UNSAFE_METHODS:
            response = getattr(client, method)(url, {"field": "value"})
            who = f"{method.upper()} as {user}"
            assert response.status_code == 403, f"{who}: {response.status_code}"
            assert b"CSRF" in response.content, f"{who}: not refused for CSRF"


@pytest.mark.parametrize(("urlconf", "route"), BOTH, ids=IDS)
def test_private_routes_send_anonymous_visitors_to_log_in(urlconf, route, maker, acme):
    url = url_of(route, urlconf, maker, acme)
    client = Client(HTTP_HOST=org_host(acme if urlconf == ORG_URLCONF else None))
    for method in ("get", "head", "post"):
        response = getattr(client, method)(url)
        assert response.status_code < 500, f"{method.upper()}: {response.status_code}"
        if route.is_public:
            continue
        assert response.status_code == 302, f"{method.upper()}: {response.status_code}"
        assert response["Location"].startswith(settings.LOGIN_URL)


@pytest.mark.parametrize("route", ORG_ROUTES, ids=[route.name for route in ORG_ROUTES])
def test_a_subdomain_that_is_no_org_is_404(route, maker, acme, ann, root):
    url = url_of(route, ORG_URLCONF, maker, acme)
    for user in (None, ann, root):
        client = Client(HTTP_HOST=f"nosuch.{settings.PARENT_HOST}")
        if user is not None:
            client.force_login(user)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            who = f"{method.upper()} as {user}"
            assert response.status_code == 404, f"{who}: {response.status_code}"
