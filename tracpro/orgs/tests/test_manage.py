from urllib.parse import urlsplit

from tracpro.orgs.models import Membership, Org, Role


def org_form(**overrides) -> dict:
    data = {
        "name": "Uganda Education",
        "subdomain": "ugedu",
        "timezone": "Africa/Kampala",
        "language": "en",
        "languages": ["en", "fr"],
        "api_url": "https://rapidpro.example.org",
        "api_token": "abc123",
        "same_day_rule": "last",
        "is_active": "on",
    }
    return {**data, **overrides}


def test_superusers_list_orgs_on_the_root_host(client_for, root, acme, beta):
    response = client_for(root).get("/manage/org/")
    assert response.status_code == 200
    assert {org.name for org in response.context["object_list"]} == {"Acme", "Beta"}


def test_superusers_create_an_org_with_its_administrators(client_for, root, olly):
    response = client_for(root).post("/manage/org/create/", org_form(administrators=[olly.pk]))
    assert response.status_code == 302
    org = Org.objects.get(subdomain="ugedu")
    assert org.timezone == "Africa/Kampala"
    assert org.languages == ["en", "fr"]
    assert Membership.objects.get(org=org).user == olly
    assert Membership.objects.get(org=org).role == Role.ADMIN


def test_changing_administrators_updates_memberships(client_for, root, acme, ann, olly):
    url = f"/manage/org/update/{acme.pk}/"
    response = client_for(root).post(
        url, org_form(subdomain="acme", name="Acme", administrators=[olly.pk])
    )
    assert response.status_code == 302
    admins = set(
        Membership.objects.filter(org=acme, role=Role.ADMIN).values_list("user", flat=True)
    )
    assert admins == {olly.pk}


def test_the_org_form_explains_a_bad_subdomain(client_for, root):
    response = client_for(root).post("/manage/org/create/", org_form(subdomain="www"))
    assert response.status_code == 200
    assert "reserved" in str(response.context["form"].errors["subdomain"])
    assert not Org.objects.filter(subdomain="www").exists()


def test_the_default_language_must_be_among_the_available_ones(client_for, root):
    response = client_for(root).post("/manage/org/create/", org_form(language="ar"))
    assert response.status_code == 200
    assert "languages" in response.context["form"].errors


def test_the_root_home_lists_a_users_orgs(client_for, acme, beta, ann):
    response = client_for(ann).get("/")
    assert list(response.context["orgs"]) == [acme]
    # django-hosts keeps the scheme and port of the first URL it built (any earlier
    # test's settings), so the test checks the host and path, whatever those are.
    url = acme.get_absolute_url()
    assert (urlsplit(url).hostname, urlsplit(url).path) == ("acme.localhost", "/")
    assert f'href="{url}"' in response.content.decode()


def test_help_texts_are_escaped_not_rendered_as_markup(client_for, root):
    """The subdomain help text says "<subdomain>.localhost"; as markup it vanished."""
    body = client_for(root).get("/manage/org/create/").content.decode()
    assert "&lt;subdomain&gt;.localhost" in body
