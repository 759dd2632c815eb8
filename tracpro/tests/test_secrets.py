"""Secrets stay out of pages and error reports: the RapidPro token is never sent
back to the browser, and every view that receives a password or a token keeps
it out of the error emails (sensitive_post_parameters / sensitive_variables)."""

from unittest import mock

import pytest

from django import forms
from django.core import mail

from tracpro.orgs.models import Org
from tracpro.tests.routes import (
    ORG_URLCONF,
    ROOT_URLCONF,
    both_hosts,
    collect_routes,
    route_id,
    url_of,
)
from tracpro.tests.test_hostile_input import form_of

BOTH = both_hosts()
IDS = [route_id(item) for item in BOTH]

TOKEN = "0123456789abcdef0123456789abcdef5e3c"


def org_form_data(org: Org, **overrides) -> dict:
    return {
        "name": org.name,
        "subdomain": org.subdomain,
        "timezone": org.timezone,
        "language": org.language,
        "languages": org.languages,
        "api_url": org.api_url,
        "api_token": "",
        "is_active": "on",
        "same_day_rule": org.same_day_rule,
        **overrides,
    }


def test_the_org_form_shows_only_the_end_of_the_token(client_for, root, acme):
    Org.objects.filter(pk=acme.pk).update(api_token=TOKEN)

    body = client_for(root).get(f"/manage/org/update/{acme.pk}/").content.decode()

    assert TOKEN not in body
    assert TOKEN[:-4] not in body
    assert "“5e3c”" in body


def test_a_blank_token_keeps_the_saved_one_and_a_new_one_replaces_it(client_for, root, acme):
    Org.objects.filter(pk=acme.pk).update(api_token=TOKEN)
    client = client_for(root)

    kept = client.post(f"/manage/org/update/{acme.pk}/", org_form_data(acme))
    acme.refresh_from_db()
    assert kept.status_code == 302
    assert acme.api_token == TOKEN

    client.post(f"/manage/org/update/{acme.pk}/", org_form_data(acme, api_token=" new-token-1 "))
    acme.refresh_from_db()
    assert acme.api_token == "new-token-1"


def test_test_connection_with_a_blank_token_uses_the_saved_one(client_for, root, acme):
    Org.objects.filter(pk=acme.pk).update(api_token=TOKEN)
    client = client_for(root, raise_request_exception=False)  # the mock's report is no page
    with mock.patch("tracpro.manage.views.org.check_connection", autospec=True) as check:
        client.post(
            "/manage/org/test_connection/",
            {"api_url": "https://rapidpro.example.org", "api_token": "", "org": acme.pk},
        )
    check.assert_called_once_with("https://rapidpro.example.org", TOKEN)


def secret_fields(form: forms.BaseForm) -> set[str]:
    return {
        name
        for name, field in form.fields.items()
        if isinstance(field.widget, forms.PasswordInput)
        or (("password" in name or "token" in name) and isinstance(field, forms.CharField))
    }


@pytest.mark.parametrize(("urlconf", "route"), BOTH, ids=IDS)
def test_views_receiving_secrets_keep_them_out_of_error_reports(
    urlconf, route, maker, client_for, acme, ann, root
):
    client = client_for(ann, acme) if urlconf == ORG_URLCONF else client_for(root)
    url = url_of(route, urlconf, maker, acme)
    form = form_of(client.get(url))
    if form is None or not secret_fields(form):
        return
    response = client.post(url, dict.fromkeys(secret_fields(form), "a-secret-value"))

    hidden = getattr(response.wsgi_request, "sensitive_post_parameters", ())
    assert hidden == "__ALL__" or secret_fields(form) <= set(hidden), route.name


def test_the_sweep_finds_the_forms_with_secrets(maker, client_for, acme, ann, root):
    found = set()
    for urlconf, client in ((ORG_URLCONF, client_for(ann, acme)), (ROOT_URLCONF, client_for(root))):
        for route in collect_routes(urlconf):
            form = form_of(client.get(url_of(route, urlconf, maker, acme)))
            if form is not None and secret_fields(form):
                found.add(route.name)
    assert {"orgs.org_update", "accounts.user_create", "accounts:password_change"} <= found


def test_an_error_report_does_not_carry_the_token(client_for, root, acme, settings):
    settings.ADMINS = [("Ops", "ops@example.org")]
    client = client_for(root, raise_request_exception=False)
    with mock.patch(
        "tracpro.manage.views.org.check_connection", autospec=True, side_effect=RuntimeError
    ):
        response = client.post(
            "/manage/org/test_connection/",
            {"api_url": "https://rapidpro.example.org", "api_token": TOKEN},
        )

    assert response.status_code == 500
    [report] = mail.outbox
    assert "RuntimeError" in report.body
    assert TOKEN not in report.body
    assert all(TOKEN not in str(alternative) for alternative in report.alternatives)
