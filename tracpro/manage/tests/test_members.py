"""Supervisors and administrators, managed by an org's admins on the org host (/user/)."""

import re

import pytest

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

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


@pytest.fixture(autouse=True)
def emails_on_commit(monkeypatch):
    """Invitations leave when the transaction commits; run those callbacks at once
    (the test's own transaction never commits)."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, **kwargs: func())


def supervisor_data(region, **overrides) -> dict:
    return {
        "full_name": "Kato Supervisor",
        "email": "Kato@Example.com",
        "role": Role.SUPERVISOR,
        "regions": [region.pk],
        **overrides,
    }


def invitation_link(mail) -> str:
    """The path of the one-time link in an invitation email."""
    found = re.search(r"https?://[^/\s]+(/users/invitation/\S+/)", mail.body)
    assert found, mail.body
    return found.group(1)


def accept(client, link: str, password: str = NEW_PASSWORD):
    """Follow an invitation link and choose a password, as the invited person does."""
    form_url = client.get(link)["Location"]  # Django swaps the token for a session key
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_an_admin_invites_a_supervisor_limited_to_a_region(
    client_for, acme, ann, kampala, mailoutbox
):
    nakawa = make_region(acme, "Nakawa", parent=kampala)
    make_contact(acme, "In Nakawa", region=nakawa)
    make_contact(acme, "Elsewhere", region=make_region(acme, "Gulu"))

    client = client_for(ann, acme)
    response = client.post(url("users:create"), supervisor_data(kampala), follow=True)

    assert "sent an invitation" in response.content.decode()
    kato = User.objects.get(email="kato@example.com")
    assert not kato.has_usable_password()
    membership = Membership.objects.get(user=kato, org=acme)
    assert (membership.role, list(membership.regions.all())) == (Role.SUPERVISOR, [kampala])
    [mail] = mailoutbox
    assert mail.to == ["kato@example.com"]

    visitor = client_for(None, acme)
    response = accept(visitor, invitation_link(mail))

    assert response.status_code == 302
    kato.refresh_from_db()
    assert kato.check_password(NEW_PASSWORD)
    assert kato.password_set_by_owner
    # Logged in by the invitation; access is Kampala and everything inside it.
    contacts = visitor.get(url("contacts:list")).context["contacts"]
    assert [contact.name for contact in contacts] == ["In Nakawa"]


def test_an_invitation_link_works_once(client_for, acme, ann, kampala, mailoutbox):
    client_for(ann, acme).post(url("users:create"), supervisor_data(kampala))
    link = invitation_link(mailoutbox[0])
    accept(client_for(None, acme), link)

    response = client_for(None, acme).get(link, follow=True)

    assert "no longer valid" in response.content.decode()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "too short"),
        ("password123", "too common"),
        ("84736291047", "entirely numeric"),
    ],
)
def test_invited_passwords_follow_the_validators(
    client_for, acme, ann, kampala, mailoutbox, password, problem
):
    client_for(ann, acme).post(url("users:create"), supervisor_data(kampala))

    response = accept(client_for(None, acme), invitation_link(mailoutbox[0]), password)

    assert response.status_code == 200
    assert problem in response.content.decode()
    assert not User.objects.get(email="kato@example.com").has_usable_password()


def test_the_member_form_has_no_password_for_someone_else(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, password="chosen-by-the-admin-1", current_password="x")

    client_for(ann, acme).post(url("users:create"), data)
    client_for(ann, acme).post(url("users:update", sam.pk), {**data, "email": sam.email})

    kato = User.objects.get(email="kato@example.com")
    assert not kato.has_usable_password()
    sam.refresh_from_db()
    assert sam.check_password(PASSWORD)
    form = client_for(ann, acme).get(url("users:update", sam.pk)).context["form"]
    assert not {"password", "password_confirm", "current_password"} & set(form.fields)


def test_a_supervisor_needs_a_region(client_for, acme, ann, kampala):
    response = client_for(ann, acme).post(url("users:create"), supervisor_data(kampala, regions=[]))

    assert "Choose at least one region for a supervisor." in response.content.decode()


def test_regions_of_another_org_cannot_be_assigned(client_for, acme, beta, ann):
    foreign = make_region(beta, "Kabul")

    response = client_for(ann, acme).post(url("users:create"), supervisor_data(foreign))

    assert response.status_code == 200
    assert not User.objects.filter(email="kato@example.com").exists()


def test_an_account_whose_owner_chose_the_password_keeps_it(
    client_for, acme, beta, ann, ben, mailoutbox
):
    User.objects.filter(pk=ben.pk).update(password_set_by_owner=True)
    data = supervisor_data(
        make_region(acme, "Kampala"), email="BEN@beta.example.com", full_name="Someone Else"
    )

    response = client_for(ann, acme).post(url("users:create"), data, follow=True)

    assert "already had a TracPro account" in response.content.decode()
    ben.refresh_from_db()
    assert ben.full_name == "Ben"
    assert ben.check_password(PASSWORD)
    assert set(ben.memberships.values_list("org__subdomain", flat=True)) == {"acme", "beta"}
    [notice] = mailoutbox
    assert notice.to == [ben.email]
    assert "Acme" in notice.subject


def test_another_orgs_admin_cannot_pre_hijack_an_account(
    client_for, acme, beta, ann, bea, mailoutbox
):
    """An admin of acme made an account for victim@ whose password they know (as
    every account made before invitations); when beta adds victim@, that password
    and every session opened with it stop working, and victim@ is invited."""
    victim = make_user("victim@example.com", acme, Role.SUPERVISOR)
    attacker = client_for(victim, beta)  # a session opened with the admin-chosen password
    data = supervisor_data(make_region(beta, "Kabul"), email="victim@example.com")

    response = client_for(bea, beta).post(url("users:create"), data, follow=True)

    with translation.override("fa"):  # beta's language
        sent = gettext(
            "%(email)s was added and sent an invitation to choose a password; "
            "they can log in once they have."
        ) % {"email": "victim@example.com"}
    assert sent in [str(message) for message in response.context["messages"]]
    victim.refresh_from_db()
    assert not victim.check_password(PASSWORD)
    assert not victim.has_usable_password()
    assert attacker.get(url("contacts:list")).status_code == 302  # logged out
    [invitation] = mailoutbox
    assert invitation.to == ["victim@example.com"]


def test_an_existing_member_cannot_be_added_twice(client_for, acme, ann, sam, kampala):
    data = supervisor_data(kampala, email=sam.email)

    response = client_for(ann, acme).post(url("users:create"), data)

    assert "is already a member of this organization" in response.content.decode()


def test_a_new_address_for_someone_else_is_confirmed_by_invitation(
    client_for, acme, ann, sam, kampala, mailoutbox
):
    """Otherwise an admin could invite an address they own, then move the account to
    someone else's address with the password they chose."""
    User.objects.filter(pk=sam.pk).update(password_set_by_owner=True)
    data = supervisor_data(kampala, email="samuel@acme.example.com", full_name="Samuel")

    client_for(ann, acme).post(url("users:update", sam.pk), data)

    sam.refresh_from_db()
    assert (sam.email, sam.full_name) == ("samuel@acme.example.com", "Samuel")
    assert not sam.has_usable_password()
    assert not sam.password_set_by_owner
    [invitation] = mailoutbox
    assert invitation.to == ["samuel@acme.example.com"]
    assert list(Membership.objects.get(user=sam, org=acme).regions.all()) == [kampala]


def test_a_new_name_keeps_the_password(client_for, acme, ann, sam, kampala, mailoutbox):
    data = supervisor_data(kampala, email=sam.email, full_name="Samuel")

    client_for(ann, acme).post(url("users:update", sam.pk), data)

    sam.refresh_from_db()
    assert sam.full_name == "Samuel"
    assert sam.check_password(PASSWORD)
    assert mailoutbox == []


def admin_data(user, **overrides) -> dict:
    return {"full_name": user.full_name, "email": user.email, "role": Role.ADMIN, **overrides}


def test_an_admin_changing_their_own_address_gives_the_current_password(client_for, acme, ann):
    client = client_for(ann, acme)

    refused = client.post(url("users:update", ann.pk), admin_data(ann, email="new@acme.org"))
    wrong = client.post(
        url("users:update", ann.pk),
        admin_data(ann, email="new@acme.org", current_password="not-it"),
    )

    for response in (refused, wrong):
        assert response.status_code == 200
        assert "Your current password is not right." in response.content.decode()
    ann.refresh_from_db()
    assert ann.email == "ann@acme.example.com"

    accepted = client.post(
        url("users:update", ann.pk),
        admin_data(ann, email="new@acme.org", current_password=PASSWORD),
    )

    assert accepted.status_code == 302
    ann.refresh_from_db()
    assert ann.email == "new@acme.org"
    assert ann.check_password(PASSWORD)


def test_an_admin_sets_their_password_only_with_the_current_one(client_for, acme, ann):
    form = client_for(ann, acme).get(url("users:update", ann.pk)).context["form"]
    assert "password" not in form.fields  # the password change page asks for the old one

    response = client_for(ann, acme).post(
        url("accounts:password_change"),
        {"old_password": "guessed", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    ann.refresh_from_db()
    assert ann.check_password(PASSWORD)


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
    data = supervisor_data(kampala, email=sam.email, role=Role.ADMIN)

    client_for(ann, acme).post(url("users:update", sam.pk), data)

    membership = Membership.objects.get(user=sam, org=acme)
    assert membership.role == Role.ADMIN
    assert not membership.regions.exists()


def test_an_admin_cannot_change_their_own_role(client_for, acme, ann, kampala):
    make_user("other-admin@acme.example.com", acme, Role.ADMIN)
    data = supervisor_data(kampala, email=ann.email, role=Role.SUPERVISOR)

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
