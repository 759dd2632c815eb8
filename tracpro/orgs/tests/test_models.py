import pytest

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from tracpro.conftest import make_user
from tracpro.orgs.models import Membership, Org, Role


def build_org(**fields) -> Org:
    values = {"name": "Org", "subdomain": "org", "timezone": "UTC", "language": "en"}
    return Org(**{**values, **fields})


@pytest.mark.parametrize("subdomain", ["edu", "a", "uganda-edu", "x9", "a" * 63])
def test_it_accepts_dns_labels_as_subdomains(db, subdomain):
    build_org(subdomain=subdomain).full_clean()


@pytest.mark.parametrize(
    "subdomain", ["Edu", "-edu", "edu-", "edu_1", "e.du", "", "a" * 64, "ünicef"]
)
def test_it_refuses_subdomains_that_are_not_dns_labels(db, subdomain):
    with pytest.raises(ValidationError) as error:
        build_org(subdomain=subdomain).full_clean()
    assert "subdomain" in error.value.message_dict


@pytest.mark.parametrize("subdomain", ["www", "admin", "api", "manage", "static"])
def test_it_refuses_reserved_subdomains(db, subdomain):
    with pytest.raises(ValidationError) as error:
        build_org(subdomain=subdomain).full_clean()
    assert "reserved" in error.value.message_dict["subdomain"][0]


def test_it_refuses_an_unknown_time_zone(db):
    with pytest.raises(ValidationError) as error:
        build_org(timezone="Mars/Olympus").full_clean()
    assert "timezone" in error.value.message_dict


def test_the_default_language_must_be_available(db):
    with pytest.raises(ValidationError) as error:
        build_org(language="fr", languages=["en", "ar"]).full_clean()
    assert "language" in error.value.message_dict


def test_it_lists_available_languages_default_first(db):
    org = build_org(language="fa", languages=["en", "fa", "ps"])
    assert [code for code, _ in org.available_languages] == ["fa", "en", "ps"]


def test_a_user_has_one_membership_per_org(acme, ann):
    with pytest.raises(IntegrityError, match="orgs_membership_unique_user_org"):
        Membership.objects.create(user=ann, org=acme, role=Role.SUPERVISOR)


def test_it_lists_the_orgs_a_user_may_enter(acme, beta, ann, root, olly):
    assert list(Org.objects.for_user(ann)) == [acme]
    assert set(Org.objects.for_user(root)) == {acme, beta}
    assert list(Org.objects.for_user(olly)) == []
    beta.is_active = False
    beta.save()
    make_user("two@example.com", beta, Role.ADMIN)
    assert list(Org.objects.for_user(root)) == [acme]


def test_it_finds_the_org_local_day(acme):
    from datetime import UTC, datetime

    late_evening_utc = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    assert str(acme.local_date(late_evening_utc)) == "2026-03-02"


def test_only_orgs_with_rapidpro_credentials_are_synced(acme, beta):
    beta.api_token = ""
    beta.save()
    assert list(Org.objects.syncable()) == [acme]
