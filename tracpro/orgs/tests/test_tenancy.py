import zoneinfo

import pytest

from django.test import RequestFactory
from django.utils import timezone, translation

from tracpro.orgs.middleware import OrgMiddleware


def test_it_answers_404_for_an_unknown_subdomain(client_for, acme, ann):
    nope = type(acme)(subdomain="nope")
    assert client_for(None, nope).get("/").status_code == 404
    assert client_for(ann, nope).get("/users/login/").status_code == 404


def test_it_answers_404_for_an_inactive_org(client_for, acme, ann):
    acme.is_active = False
    acme.save()
    assert client_for(ann, acme).get("/").status_code == 404


def test_it_sends_anonymous_visitors_to_the_org_login_page(client_for, acme):
    response = client_for(None, acme).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/users/login/?next=/"
    page = client_for(None, acme).get("/users/login/")
    assert "Log in to Acme" in page.content.decode()


def test_it_shows_members_their_org(client_for, acme, ann, sam):
    for user in (ann, sam):
        response = client_for(user, acme).get("/")
        assert response.status_code == 200
        assert response.context["org"] == acme


def test_it_hides_an_org_from_non_members(client_for, acme, beta, ann, olly):
    assert client_for(ann, beta).get("/").status_code == 404
    assert client_for(olly, acme).get("/").status_code == 404


def test_it_lets_superusers_enter_every_org(client_for, acme, beta, root):
    assert client_for(root, acme).get("/").status_code == 200
    assert client_for(root, beta).get("/").status_code == 200


def test_it_logs_in_by_email_on_the_org_host(client_for, acme, ann):
    from tracpro.conftest import PASSWORD

    client = client_for(None, acme)
    response = client.post(
        "/users/login/", {"username": "ANN@acme.example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_session_on_one_org_host_does_not_open_another(client_for, acme, beta, ann):
    client = client_for(ann, acme)
    assert client.get("/").status_code == 200
    assert client.get("/", HTTP_HOST="beta.localhost").status_code == 404


@pytest.mark.parametrize(
    ("org_name", "expected_dir", "expected_lang"), [("acme", "ltr", "en"), ("beta", "rtl", "fa")]
)
def test_it_speaks_the_org_language(client_for, request, org_name, expected_dir, expected_lang):
    org = request.getfixturevalue(org_name)
    html = client_for(None, org).get("/users/login/").content.decode()
    assert f'<html lang="{expected_lang}" dir="{expected_dir}">' in html


def test_a_users_own_language_wins_over_the_orgs(client_for, beta, bea):
    bea.language = "en"
    bea.save()
    html = client_for(bea, beta).get("/").content.decode()
    assert '<html lang="en" dir="ltr">' in html


def test_it_activates_the_org_time_zone_for_the_request(acme, beta):
    seen = {}

    def view(request):
        seen[request.org.subdomain] = timezone.get_current_timezone_name()
        return None

    for org in (acme, beta):
        request = RequestFactory().get("/")
        request.subdomain = org.subdomain
        request.user = type("Anonymous", (), {"is_authenticated": False})()
        request.COOKIES = {}
        OrgMiddleware(view)(request)
    assert seen == {"acme": "Africa/Kampala", "beta": "Asia/Kabul"}
    assert timezone.get_current_timezone() == zoneinfo.ZoneInfo("UTC")
    translation.activate("en")
