import re

import pytest

from django.core import mail
from django.db import IntegrityError

from tracpro.accounts.models import User
from tracpro.conftest import PASSWORD


def test_it_normalises_email_addresses(db):
    user = User.objects.create_user("  Someone@Example.COM ", PASSWORD)
    assert user.email == "someone@example.com"
    assert user.check_password(PASSWORD)


def test_email_addresses_are_unique_whatever_their_case(db):
    User.objects.create_user("someone@example.com", PASSWORD)
    with pytest.raises(IntegrityError):
        User.objects.create(email="SOMEONE@example.com")


def test_users_must_change_their_password_when_asked(client_for, acme, ann):
    ann.must_change_password = True
    ann.save()
    client = client_for(ann, acme)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/users/password/change/"

    response = client.post(
        "/users/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a fresh passphrase",
            "new_password2": "a fresh passphrase",
        },
    )
    assert response.status_code == 302
    ann.refresh_from_db()
    assert not ann.must_change_password
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1x", "at least 8 characters"),
        ("password123", "too common"),
        ("83920174651", "entirely numeric"),
    ],
)
def test_passwords_follow_the_validators(client_for, acme, ann, password, problem):
    response = client_for(ann, acme).post(
        "/users/password/change/",
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert problem in str(response.context["form"].errors)


def test_a_password_reset_link_comes_back_to_the_same_org(client_for, acme, ann):
    client = client_for(None, acme)
    response = client.post("/users/password/reset/", {"email": ann.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://acme\.localhost\S+", mail.outbox[0].body).group(0)
    path = link.split("localhost", 1)[1]

    response = client.get(path, follow=True)
    assert response.context["validlink"]
    set_password_url = response.redirect_chain[-1][0]
    response = client.post(
        set_password_url,
        {"new_password1": "brand new passphrase", "new_password2": "brand new passphrase"},
    )
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.check_password("brand new passphrase")


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client_for, acme):
    response = client_for(None, acme).post(
        "/users/password/reset/", {"email": "nobody@example.com"}
    )
    assert response.status_code == 302
    assert mail.outbox == []


def test_choosing_a_language_is_remembered_on_the_account(client_for, acme, ann):
    client = client_for(ann, acme)
    response = client.post("/users/language/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    ann.refresh_from_db()
    assert ann.language == "fr"
    assert '<html lang="fr"' in client.get("/").content.decode()


def test_only_the_orgs_languages_can_be_chosen(client_for, acme, ann):
    client_for(ann, acme).post("/users/language/", {"language": "ps", "next": "/"})
    ann.refresh_from_db()
    assert ann.language == ""


def test_the_language_switch_never_redirects_off_site(client_for, acme, ann):
    response = client_for(ann, acme).post(
        "/users/language/", {"language": "fr", "next": "https://evil.example.com/"}
    )
    assert response["Location"] == "/"


def test_superusers_create_users_with_valid_passwords(client_for, root):
    client = client_for(root)
    weak = {"email": "new@example.com", "full_name": "New", "new_password": "12345678"}
    response = client.post("/manage/user/create/", weak)
    assert response.status_code == 200
    assert "new_password" in response.context["form"].errors

    strong = {**weak, "new_password": "a long enough passphrase"}
    assert client.post("/manage/user/create/", strong).status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.check_password("a long enough passphrase")
    assert not user.is_superuser


def test_a_duplicate_email_is_a_form_error(client_for, root, ann):
    response = client_for(root).post(
        "/manage/user/create/",
        {
            "email": "ANN@acme.example.com",
            "full_name": "Dup",
            "new_password": "a long enough passphrase",
        },
    )
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["email"])
