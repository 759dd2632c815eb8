"""Login lockout (django-axes) and password-reset emails throttled per address."""

from datetime import timedelta

import pytest
import time_machine

from django.core import mail
from django.utils import timezone

from tracpro.conftest import PASSWORD, make_user
from tracpro.orgs.models import Role

LOGIN = "/users/login/"
RESET = "/users/password/reset/"


def log_in(client, email: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.PASSWORD_RESET_LIMIT = 2
    return settings


def test_an_account_is_locked_after_repeated_failures_even_with_the_right_password(
    client_for, acme, ann, limits
):
    client = client_for(None, acme)
    for attempt in range(3):
        # From a different address each time: the account itself is locked.
        log_in(client, ann.email, "wrong guess", ip=f"10.0.0.{attempt}")

    response = log_in(client, ann.email, PASSWORD, ip="10.0.1.1")

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_after_failures_across_accounts(client_for, acme, ann, sam, limits):
    client = client_for(None, acme)
    for victim in ("a@example.com", "b@example.com", "c@example.com"):
        log_in(client, victim, "wrong guess", ip="10.9.9.9")

    locked = log_in(client, sam.email, PASSWORD, ip="10.9.9.9")
    elsewhere = log_in(client_for(None, acme), sam.email, PASSWORD, ip="10.1.1.1")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_failures_below_the_limit_do_not_lock(client_for, acme, ann, limits):
    client = client_for(None, acme)
    log_in(client, ann.email, "wrong guess")
    log_in(client, ann.email, "wrong guess")

    response = log_in(client, ann.email, PASSWORD)

    assert response.status_code == 302
    # A success forgets the failures.
    log_in(client_for(None, acme), ann.email, "wrong guess")
    log_in(client_for(None, acme), ann.email, "wrong guess")
    assert log_in(client_for(None, acme), ann.email, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client_for, acme, ann, limits):
    client = client_for(None, acme)
    for _ in range(3):
        log_in(client, ann.email, "wrong guess")
    assert log_in(client, ann.email, PASSWORD).status_code == 429

    with later(minutes=16):
        assert log_in(client_for(None, acme), ann.email, PASSWORD).status_code == 302


def later(minutes: int):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_clients(client_for, acme, ann, limits):
    limits.BEHIND_PROXY = True
    client = client_for(None, acme)
    for _ in range(3):
        client.post(
            LOGIN,
            {"username": "x@example.com", "password": "x"},
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",
        )

    other_client = client_for(None, acme).post(
        LOGIN,
        {"username": ann.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_FORWARDED_FOR="198.51.100.2",
    )
    same_client = client_for(None, acme).post(
        LOGIN,
        {"username": ann.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7",  # a forged first hop changes nothing
    )

    assert other_client.status_code == 302
    assert same_client.status_code == 429


def test_password_reset_emails_are_throttled_per_address(client_for, acme, ann, limits):
    client = client_for(None, acme)
    for _ in range(2):
        assert client.post(RESET, {"email": ann.email}).status_code == 302

    response = client.post(RESET, {"email": ann.email.upper()})

    assert response.status_code == 200
    assert "Too many reset emails were asked for this address" in response.content.decode()
    assert len(mail.outbox) == 2
    # Another address is not held back.
    sam = make_user("sam@acme.example.com", acme, Role.SUPERVISOR)
    assert client.post(RESET, {"email": sam.email}).status_code == 302
    assert len(mail.outbox) == 3


def test_an_unknown_address_is_throttled_the_same_way(client_for, acme, limits):
    client = client_for(None, acme)
    for _ in range(2):
        client.post(RESET, {"email": "nobody@example.com"})

    response = client.post(RESET, {"email": "nobody@example.com"})

    assert "Too many reset emails" in response.content.decode()
    assert mail.outbox == []
