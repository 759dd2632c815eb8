"""Every page, enumerated from the resolver, opened in Chromium under the
Content-Security-Policy TracPro sends: no page breaks it (`local_page` fails the
test on any violation), and the guard itself notices one."""

import pytest

from tracpro.conftest import PageGuard
from tracpro.tests.routes import (
    ORG_URLCONF,
    ROOT_URLCONF,
    ObjectMaker,
    collect_routes,
    sweep_registry,
    url_of,
)

pytestmark = pytest.mark.browser


def pages(urlconf: str, client, org) -> list[str]:
    """The routes of a host that answer GET with an HTML page for this client."""
    maker = ObjectMaker(*sweep_registry())
    found = []
    for route in collect_routes(urlconf):
        url = url_of(route, urlconf, maker, org)
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            found.append(url)
    return found


def test_no_page_breaks_the_content_security_policy(
    local_page, site_url, log_in, client_for, acme, ann, root
):
    org_pages = pages(ORG_URLCONF, client_for(ann, acme), acme)
    root_pages = pages(ROOT_URLCONF, client_for(root), acme)
    assert len(org_pages) > 15 and len(root_pages) > 3, (org_pages, root_pages)

    log_in(ann, acme)
    log_in(root, None)
    for org, urls in ((acme, org_pages), (None, root_pages)):
        for url in urls:
            response = local_page.goto(site_url(org, url))
            assert response.status == 200, url
            policy = response.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "unsafe-inline" not in policy, url
            local_page.wait_for_load_state("networkidle")


def test_the_guard_notices_a_violation(page, site_url, acme):
    guard = PageGuard(page)
    probe = site_url(acme, "/csp-probe")
    page.route(
        probe,
        lambda route: route.fulfill(
            body='<p style="color: red">x</p><script>document.title = "ran"</script>',
            headers={"Content-Type": "text/html", "Content-Security-Policy": "default-src 'self'"},
        ),
    )

    page.goto(probe)
    page.wait_for_timeout(200)

    assert page.title() != "ran"
    assert len(guard.violations) >= 2, guard.violations  # the style and the script
