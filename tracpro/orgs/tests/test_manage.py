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


def test_the_root_home_lists_a_users_orgs(client_for, acme, beta, ann, settings):
    response = client_for(ann).get("/")
    assert list(response.context["orgs"]) == [acme]
    # django-hosts keeps each host's port from its first use (HOST_PORT follows
    # WEB_PORT), so the link is compared with the org's own URL, not a fixed port.
    assert "//acme.localhost" in acme.get_absolute_url()
    assert f'href="{acme.get_absolute_url()}"' in response.content.decode()
