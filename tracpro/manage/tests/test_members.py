"""Supervisors and administrators, managed by an org's admins on the org host (/user/)."""

import pytest

from django.urls import reverse

from tracpro.accounts.models import User
from tracpro.conftest import PASSWORD, make_user
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.tests.factories import make_region
from tracpro.orgs.models import Membership, Role

NEW_PASSWORD = "kampala-reporting-2026"


def url(name: str, *args) -> str:
    return reverse(name, urlconf="tracpro.urls", args=args)


@pytest.fixture
def kampala(acme):
    return make_region(acme, "Kampala")


def supervisor_data(region, **overrides) -> dict:
    return {
        "full_name": "Kato Supervisor",
        "email": "Kato@Example.com",
        "role": Role.SUPERVISOR,
        "regions": [region.pk],
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "must_change_password": "on",
        **overrides,
    }


def test_an_admin_creates_a_supervisor_limited_to_a_region(client_for, acme, ann, kampala):
    nakawa = make_region(acme, "Nakawa", parent=kampala)
    make_contact(acme, "In Nakawa", region=nakawa)
    make_contact(acme, "Elsewhere", region=make_region(acme, "Gulu"))

    response = client_for(ann, acme).post(url("users:create"), supervisor_data(kampala))

    assert response.status_code == 302
    kato = User.objects.get(email="kato@example.com")
    assert kato.check_password(NEW_PASSWORD)
    assert kato.must_change_password is True
    membership = Membership.objects.get(user=kato, org=acme)
    assert (membership.role, list(membership.regions.all())) == (Role.SUPERVISOR, [kampala])
    # Access is Kampala and everything inside it.
    kato.must_change_password = False
    kato.save()
    contacts = client_for(kato, acme).get(url("contacts:list")).context["contacts"]
    assert [contact.name for contact in contacts] == ["In Nakawa"]


def test_the_new_supervisor_must_change_the_password_at_first_login(client_for, acme, ann, kampala):
    client_for(ann, acme).post(url("users:create"), supervisor_data(kampala))
    kato = User.objects.get(email="kato@example.com")

    response = client_for(kato, acme).get(url("contacts:list"))

    assert response.status_code == 302
    assert response["Location"] == "/users/password/change/"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("84736291047", "entirely numeric"),
    ],
)
def test_passwords_follow_the_validators(client_for, acme, ann, kampala, password, problem):
    data = supervisor_data(kampala, password=password, password_confirm=password)

    response = client_for(ann, acme).post(url("users:create"), data)

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not User.objects.filter(email="kato@example.com").exists()


def test_the_two_passwords_must_match(client_for, acme, ann, kampala):
    data = supervisor_data(kampala, password_confirm="something-else-entirely")

    response = client_for(ann, acme).post(url("users:create"), data)

    assert "The two passwords differ." in response.content.decode()


def test_a_supervisor_needs_a_region(client_for, acme, ann, kampala):
    response = client_for(ann, acme).post(url("users:create"), supervisor_data(kampala, regions=[]))

    assert "Choose at least one region for a supervisor." in response.content.decode()


def test_regions_of_another_org_cannot_be_assigned(client_for, acme, beta, ann):
    foreign = make_region(beta, "Kabul")

    response = client_for(ann, acme).post(url("users:create"), supervisor_data(foreign))

    assert response.status_code == 200
    assert not User.objects.filter(email="kato@example.com").exists()


def test_an_existing_account_is_added_with_its_own_password(client_for, acme, beta, ann, ben):
    data = supervisor_data(
        make_region(acme, "Kampala"),
        email="BEN@beta.example.com",
        full_name="Someone Else",
        password="",
        password_confirm="",
    )

    response = client_for(ann, acme).post(url("users:create"), data, follow=True)

    assert "already had a TracPro account" in response.content.decode()
    ben.refresh_from_db()
    assert ben.full_name == "Ben"
    assert ben.check_password(PASSWORD)
    assert set(ben.memberships.values_list("org__subdomain", flat=True)) == {"acme", "beta"}


def test_an_existing_member_cannot_be_added_twice(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, email=sam.email)

    response = client_for(ann, acme).post(url("users:create"), data)

    assert "is already a member of this organization" in response.content.decode()


def test_an_admin_edits_a_supervisor_and_sets_a_new_password(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, email="samuel@acme.example.com", full_name="Samuel")

    client_for(ann, acme).post(url("users:update", sam.pk), data)

    sam.refresh_from_db()
    assert (sam.email, sam.full_name) == ("samuel@acme.example.com", "Samuel")
    assert sam.check_password(NEW_PASSWORD)
    assert list(Membership.objects.get(user=sam, org=acme).regions.all()) == [kampala]


def test_a_blank_password_keeps_the_current_one(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, email=sam.email, password="", password_confirm="")

    client_for(ann, acme).post(url("users:update", sam.pk), data)

    sam.refresh_from_db()
    assert sam.check_password(PASSWORD)


def test_an_email_of_another_account_is_refused_on_edit(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, email=ann.email)

    response = client_for(ann, acme).post(url("users:update", sam.pk), data)

    assert "Another account uses this email address." in response.content.decode()


def test_a_shared_account_keeps_its_name_email_and_password(
    client_for, acme, beta, ann, ben, kampala
):
    Membership.objects.create(user=ben, org=acme, role=Role.SUPERVISOR)
    data = supervisor_data(kampala, email="stolen@example.com", full_name="Hijacked")

    response = client_for(ann, acme).post(url("users:update", ben.pk), data)

    assert response.status_code == 302
    ben.refresh_from_db()
    assert (ben.email, ben.full_name) == ("ben@beta.example.com", "Ben")
    assert ben.check_password(PASSWORD)
    assert list(Membership.objects.get(user=ben, org=acme).regions.all()) == [kampala]


def test_an_admin_promotes_a_supervisor_to_admin(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, email=sam.email, role=Role.ADMIN, password="")

    client_for(ann, acme).post(url("users:update", sam.pk), data)

    membership = Membership.objects.get(user=sam, org=acme)
    assert membership.role == Role.ADMIN
    assert not membership.regions.exists()


def test_an_admin_cannot_change_their_own_role(client_for, acme, ann, kampala):
    make_user("other-admin@acme.example.com", acme, Role.ADMIN)
    data = supervisor_data(kampala, email=ann.email, role=Role.SUPERVISOR, password="")

    response = client_for(ann, acme).post(url("users:update", ann.pk), data)

    assert "You cannot change your own role" in response.content.decode()
    assert Membership.objects.get(user=ann, org=acme).role == Role.ADMIN


def test_removing_someone_keeps_their_account_and_other_orgs(client_for, acme, beta, ann, ben):
    Membership.objects.create(user=ben, org=acme, role=Role.SUPERVISOR)

    response = client_for(ann, acme).post(url("users:remove", ben.pk))

    assert response.status_code == 302
    assert not Membership.objects.filter(user=ben, org=acme).exists()
    assert Membership.objects.filter(user=ben, org=beta).exists()
    ben.refresh_from_db()
    assert ben.is_active
    assert client_for(ben, acme).get(url("contacts:list")).status_code == 404


def test_an_admin_cannot_remove_themselves(client_for, acme, ann):
    response = client_for(ann, acme).post(url("users:remove", ann.pk), follow=True)

    assert "You cannot remove yourself" in response.content.decode()
    assert Membership.objects.filter(user=ann, org=acme).exists()


def test_the_last_admin_cannot_be_removed(client_for, acme, root, ann):
    response = client_for(root, acme).post(url("users:remove", ann.pk), follow=True)

    assert "at least one administrator" in response.content.decode()
    assert Membership.objects.filter(user=ann, org=acme).exists()


def test_the_list_shows_this_orgs_people_only(client_for, acme, beta, ann, sam, bea, kampala):
    Membership.objects.get(user=sam, org=acme).regions.add(kampala)

    response = client_for(ann, acme).get(url("users:list"))

    rows = [(m.user.email, m.role) for m in response.context["memberships"]]
    assert rows == [("ann@acme.example.com", "admin"), ("sam@acme.example.com", "supervisor")]
    assert "Kampala" in response.content.decode()
    assert "bea@beta" not in response.content.decode()


def test_the_list_searches_by_name_or_email(client_for, acme, ann, sam):
    response = client_for(ann, acme).get(url("users:list"), {"search": "SAM@"})

    assert [m.user for m in response.context["memberships"]] == [sam]


def test_a_member_of_another_org_cannot_be_edited(client_for, acme, ann, ben):
    assert client_for(ann, acme).get(url("users:update", ben.pk)).status_code == 404
