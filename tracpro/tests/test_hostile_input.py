"""Hostile input on every page and every form, enumerated from the resolver
(tracpro.tests.routes): markup and NUL bytes in query parameters, oversized,
NUL-laden and invalid UTF-8 values in every field of every form, a 10 MB POST,
and CSV exports filtered down to nothing. The answer is a page that escapes
what it echoes, a form error, a 400 or an empty file: never a 500.
"""

import csv
import io
import re
from urllib.parse import quote

import pytest

from django import forms
from django.test import Client

from tracpro.accounts.models import User
from tracpro.conftest import make_user
from tracpro.tests.routes import (
    ORG_URLCONF,
    ROOT_URLCONF,
    both_hosts,
    collect_routes,
    route_id,
    url_of,
)

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x data-x=1>'
MARKUP = f"{ATTRIBUTE}{SCRIPT}"
# Names every list or chart page may read, on top of the inputs the page shows.
COMMON_PARAMETERS = ("search", "page", "_order", "region", "group", "status", "poll", "role")
INPUT_NAME = re.compile(r"""<(?:input|select|textarea)\b[^>]*\bname="([^"]+)\"""")
HUGE = "x" * 100_000

ORG_ROUTES = collect_routes(ORG_URLCONF)
ROOT_ROUTES = collect_routes(ROOT_URLCONF)
BOTH = both_hosts()
IDS = [route_id(item) for item in BOTH]


@pytest.fixture
def visitor(client_for, acme, ann, root):
    """The most privileged user of each host (they see every page and form)."""

    def make(urlconf: str) -> Client:
        return client_for(ann, acme) if urlconf == ORG_URLCONF else client_for(root)

    return make


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def form_of(response) -> forms.BaseForm | None:
    context = getattr(response, "context", None)
    if context is None:
        return None
    try:
        form = context["form"]
    except KeyError:
        return None
    return form if isinstance(form, forms.BaseForm) else None


@pytest.mark.parametrize(("urlconf", "route"), BOTH, ids=IDS)
def test_every_page_escapes_hostile_query_parameters(urlconf, route, maker, visitor, acme):
    client = visitor(urlconf)
    url = url_of(route, urlconf, maker, acme)
    first = client.get(url)
    names = set(COMMON_PARAMETERS)
    if is_html(first):
        names |= set(INPUT_NAME.findall(first.content.decode()))
    names.discard("csrfmiddlewaretoken")

    for value in (MARKUP, f"-{MARKUP}", HUGE):
        query = "&".join(f"{quote(name)}={quote(value)}" for name in sorted(names))
        response = client.get(f"{url}?{query}&page=2&_order={quote(MARKUP)}")
        assert response.status_code < 500, f"{value[:20]!r}: {response.status_code}"
        if is_html(response):
            body = response.content.decode()
            assert SCRIPT not in body, "a query parameter was echoed unescaped"
            assert ATTRIBUTE not in body, "a query parameter broke out of an attribute"

    for raw in ("search=%00x", "page=%FF%FE", "%C3%28=%E2%28%A1"):  # NUL, invalid UTF-8
        response = client.get(f"{url}?{raw}")
        assert response.status_code < 500, f"{raw}: {response.status_code}"


def hostile_values(field: forms.Field) -> list[object]:
    """Values a form field must refuse or survive."""
    values: list[object] = [HUGE, "\x00" + "a" * 10, MARKUP]
    if isinstance(field, forms.ChoiceField | forms.ModelMultipleChoiceField):
        values += ["99999999999999999999", "-1", ["1", MARKUP]]
    if isinstance(field, forms.DateField | forms.DecimalField | forms.IntegerField):
        values += ["9" * 400, "NaN", "-Infinity", "0000-00-00"]
    return values


@pytest.mark.parametrize(("urlconf", "route"), BOTH, ids=IDS)
def test_every_form_refuses_hostile_values_clearly(urlconf, route, maker, visitor, acme):
    client = visitor(urlconf)
    url = url_of(route, urlconf, maker, acme)
    form = form_of(client.get(url))
    if form is None:
        return  # no form on this page; the POST sweeps below still reach it
    baseline = {name: form[name].value() for name in form.fields}
    for name, field in form.fields.items():
        for value in hostile_values(field):
            data = {key: value for key, value in baseline.items() if value is not None}
            data[name] = value
            response = client.post(url, data)
            label = f"{name}={str(value)[:20]!r}"
            assert response.status_code < 500, f"{label}: {response.status_code}"
            if response.status_code == 200 and is_html(response):
                assert SCRIPT not in response.content.decode(), f"{label}: echoed unescaped"
            # A checkbox reads any value as "on"; smartmin's hidden `loc` is not kept.
            keeps_text = not (isinstance(field, forms.BooleanField) or field.widget.is_hidden)
            if keeps_text and isinstance(value, str) and ("\x00" in value or len(value) > 10_000):
                # No field keeps these: a form error, or a 400 for the whole request.
                shown = form_of(response)
                refused = response.status_code == 400 or (shown is not None and shown.errors)
                assert refused, f"{label}: accepted ({response.status_code})"


@pytest.mark.parametrize(("urlconf", "route"), BOTH, ids=IDS)
def test_raw_hostile_posts_never_fail(urlconf, route, maker, visitor, acme):
    client = visitor(urlconf)
    url = url_of(route, urlconf, maker, acme)
    bodies = {
        "invalid UTF-8": b"name=%FF%FE%FD&search=\xff\xfe&email=a%C0%AF@example.com",
        "NUL": b"name=a%00b&email=x%00@example.com&region=1%00",
        "10 MB": b"name=" + b"x" * (10 * 1024 * 1024),
    }
    for label, body in bodies.items():
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, f"{label}: {response.status_code}"
        if label != "invalid UTF-8":
            assert response.status_code in (302, 400, 404, 405), f"{label}: {response.status_code}"


def test_the_superuser_list_pages_escape_the_order_parameter(client_for, root, acme):
    """The pagination of /manage/user/ echoed `_order` through |safe (reflected XSS)."""
    for number in range(60):
        make_user(f"user{number:02}@example.com")
    assert User.objects.count() > 50  # two pages, so the pagination links are drawn

    response = client_for(root).get(f"/manage/user/?_order={quote(MARKUP)}&search=")

    body = response.content.decode()
    assert response.status_code == 200
    assert "page=2" in body
    assert SCRIPT not in body and ATTRIBUTE not in body
    assert "&lt;script&gt;" in body or "%3Cscript%3E" in body
    # An `_order` naming no column falls back to the default order: stable pages.
    listed = response.context["object_list"]
    assert listed.ordered
    assert [user.email for user in listed][:2] == ["root@example.com", "user00@example.com"]


EXPORT_ROUTES = [
    (conf, route) for conf, route in BOTH if "export" in route.name or "csv" in route.name
]


@pytest.mark.parametrize(
    ("urlconf", "route"), EXPORT_ROUTES, ids=[route.name for _, route in EXPORT_ROUTES]
)
def test_an_export_filtered_to_nothing_is_an_empty_file(urlconf, route, maker, visitor, acme):
    client = visitor(urlconf)
    url = url_of(route, urlconf, maker, acme)
    nothing = "search=zz-matches-nothing-zz&start=2999-01-01&end=2999-01-02"

    response = client.get(f"{url}?{nothing}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) <= 1, f"{len(rows) - 1} rows matched a filter that matches nothing"


def test_there_are_exports_to_check():
    assert len(EXPORT_ROUTES) >= 2, [route.name for _, route in EXPORT_ROUTES]
