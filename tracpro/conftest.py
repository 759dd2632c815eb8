"""Shared fixtures: a two-org world with named characters.

    acme: ann (admin), sam (supervisor)
    beta: bea (admin), ben (supervisor)
    olly: logged in, member of no org
    root: superuser

`client_for(user, org)` gives a test client on that org's host (or the root
host when org is None), logged in as user (anonymous when user is None).
"""

import os
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from django_hosts.resolvers import get_host_patterns

from django.conf import settings
from django.dispatch import receiver
from django.test import Client
from django.test.signals import setting_changed

from tracpro.accounts.models import User
from tracpro.orgs.models import Membership, Org, Role

PASSWORD = "correct horse battery staple"

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# calls made by the test itself are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@receiver(setting_changed)
def forget_host_urls(setting: str, **kwargs) -> None:
    """django-hosts remembers each host's port and scheme the first time it builds
    a URL; a test that changes them must not inherit another test's."""
    if setting in ("HOST_PORT", "HOST_SCHEME"):
        for host in get_host_patterns():
            host._port = host._scheme = None
            host.__dict__.pop("port", None)
            host.__dict__.pop("scheme", None)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counters kept in the cache (password-reset throttling) start at zero, and
    /healthz checks again."""
    from django.core.cache import cache

    from tracpro.health.checks import forget_recent_checks

    cache.clear()
    forget_recent_checks()


def org_host(org: Org | None) -> str:
    return f"{org.subdomain}.{settings.PARENT_HOST}" if org else settings.PARENT_HOST


def make_user(email: str, org: Org | None = None, role: str | None = None, **fields) -> User:
    user = User.objects.create_user(
        email, PASSWORD, full_name=email.split("@")[0].title(), **fields
    )
    if org is not None:
        Membership.objects.create(user=user, org=org, role=role)
    return user


@pytest.fixture
def acme(db) -> Org:
    return Org.objects.create(
        name="Acme",
        subdomain="acme",
        timezone="Africa/Kampala",
        language="en",
        languages=["en", "fr", "fa"],
        api_url="http://rapidpro.invalid",
        api_token="acme-token",
    )


@pytest.fixture
def beta(db) -> Org:
    return Org.objects.create(
        name="Beta",
        subdomain="beta",
        timezone="Asia/Kabul",
        language="fa",
        languages=["fa", "ps", "en"],
        api_url="http://rapidpro.invalid",
        api_token="beta-token",
    )


@pytest.fixture
def ann(acme) -> User:
    return make_user("ann@acme.example.com", acme, Role.ADMIN)


@pytest.fixture
def sam(acme) -> User:
    return make_user("sam@acme.example.com", acme, Role.SUPERVISOR)


@pytest.fixture
def bea(beta) -> User:
    return make_user("bea@beta.example.com", beta, Role.ADMIN)


@pytest.fixture
def ben(beta) -> User:
    return make_user("ben@beta.example.com", beta, Role.SUPERVISOR)


@pytest.fixture
def olly(db) -> User:
    return make_user("olly@example.com")


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root@example.com", PASSWORD)


@pytest.fixture
def client_for(db) -> Callable[..., Client]:
    def make(user: User | None = None, org: Org | None = None, **defaults) -> Client:
        client = Client(HTTP_HOST=org_host(org), **defaults)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def celery_eager():
    """Run .delay() calls in-process for the duration of a test."""
    from tracpro.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


# Browser tests ------------------------------------------------------------------
# Playwright drives Debian's chromium (no browser download); org hosts are
# <subdomain>.localhost, which Chromium resolves to the loopback by itself.

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


@pytest.fixture
def site_url(live_server, settings) -> Callable[..., str]:
    """`site_url(org, "/path/")`: the live server's URL of a page on an org host."""
    port = urlsplit(live_server.url).port
    settings.HOST_PORT = str(port)

    def url(org: Org | None, path: str = "/") -> str:
        return f"http://{org_host(org)}:{port}{path}"

    return url


# Reported by every page through a listener added before its scripts run.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


class PageGuard:
    """Watches a Playwright page: requests that leave the local server are refused
    and noted, and so is every Content-Security-Policy violation its pages report."""

    def __init__(self, page) -> None:
        self.outside: list[str] = []
        self.violations: list[str] = []
        page.route("**/*", self.route)
        page.add_init_script(CSP_LISTENER)
        page.on("console", self.console)

    def route(self, route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host == "localhost" or host.endswith(".localhost") or host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def console(self, message) -> None:
        # Chromium logs refusals itself too ("Refused to apply inline style...").
        if "CSP violation" in message.text or "Content Security Policy" in message.text:
            self.violations.append(message.text)


@pytest.fixture
def local_page(page, live_server) -> Iterator:
    """A Playwright page that fails the test if anything is fetched from outside
    the local server (CDNs, tiles, fonts...) or if any page breaks its
    Content-Security-Policy (an inline script or style, an eval, a foreign source)."""
    guard = PageGuard(page)
    yield page
    assert guard.outside == [], f"requests left the local server: {guard.outside}"
    assert guard.violations == [], f"Content-Security-Policy violations: {guard.violations}"


@pytest.fixture
def log_in(context, site_url) -> Callable[[User, Org | None], None]:
    """Give the browser a session for `user` on an org's host, without the login form."""

    def do(user: User, org: Org | None) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": site_url(org, "/")}]
        )

    return do
