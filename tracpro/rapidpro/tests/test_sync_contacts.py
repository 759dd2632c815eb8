"""Contacts: which are followed, their region and reporter groups, and when they become
inactive (unit tests, RapidPro faked at the seam)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from tracpro.contacts.models import Contact, PushStatus
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Region
from tracpro.rapidpro.tests import fakes
from tracpro.rapidpro.tests.sync_helpers import follow, sync

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def rapidpro():
    fake = fakes.FakeRapidPro()
    fake.groups = [
        fakes.group(name) for name in ("Central", "Kampala", "Wakiso", "Teachers", "Drivers")
    ]
    with mock.patch("tracpro.rapidpro.client.get_client", autospec=True, return_value=fake):
        yield fake


@pytest.fixture
def groups(rapidpro) -> dict[str, dict]:
    return {g["name"]: g for g in rapidpro.groups}


@pytest.fixture
def org(acme, rapidpro):
    assert sync(acme, "groups") == {"groups": "succeeded"}
    follow(
        acme, regions=["Central", "Kampala"], reporters=["Teachers"], parents={"Kampala": "Central"}
    )
    return acme


def local(org, remote: dict) -> Contact:
    return Contact.objects.get(org=org, uuid=remote["uuid"])


def test_it_gives_each_contact_its_deepest_region_and_its_reporter_groups(org, rapidpro, groups):
    both = fakes.contact("Grace", [groups["Central"], groups["Kampala"], groups["Teachers"]], T0)
    central = fakes.contact("Moses", [groups["Central"]], T0)
    teacher = fakes.contact("Sarah", [groups["Teachers"]], T0)
    rapidpro.contacts += [both, central, teacher]

    assert sync(org, "contacts") == {"contacts": "succeeded"}

    assert local(org, both).region.name == "Kampala"
    assert list(local(org, both).reporter_groups.values_list("name", flat=True)) == ["Teachers"]
    assert local(org, central).region.name == "Central"
    assert local(org, teacher).region is None and local(org, teacher).is_active
    assert local(org, both).urn == both["urns"][0]


def test_it_does_not_mirror_contacts_of_groups_nobody_follows(org, rapidpro, groups):
    rapidpro.contacts.append(fakes.contact("Driver", [groups["Drivers"]], T0))

    assert sync(org, "contacts") == {"contacts": "succeeded"}

    assert not Contact.objects.filter(org=org).exists()


def test_contacts_blocked_stopped_deleted_or_in_no_followed_group_become_inactive(
    org, rapidpro, groups
):
    people = [fakes.contact(name, [groups["Kampala"]], T0) for name in ("A", "B", "C", "D", "E")]
    rapidpro.contacts += people
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    assert Contact.objects.filter(org=org, is_active=True).count() == 5

    later = fakes.stamp(T0 + timedelta(hours=1))
    blocked, stopped, deleted, moved, stays = people
    blocked.update(status="blocked", modified_on=later)
    stopped.update(status="stopped", modified_on=later)
    moved.update(groups=[{"uuid": groups["Drivers"]["uuid"], "name": "Drivers"}], modified_on=later)
    rapidpro.contacts.remove(deleted)
    rapidpro.deleted_contacts.append(
        {
            **deleted,
            "name": None,
            "status": None,
            "urns": [],
            "groups": [],
            "fields": {},
            "modified_on": later,
        }
    )

    assert sync(org, "contacts") == {"contacts": "succeeded"}

    assert local(org, blocked).remote_status == "blocked" and not local(org, blocked).is_active
    assert not local(org, stopped).is_active
    assert local(org, deleted).remote_status == "deleted" and not local(org, deleted).is_active
    assert local(org, deleted).name == "C"  # a deleted contact keeps what we knew
    assert not local(org, moved).is_active and local(org, moved).region is None
    assert local(org, stays).is_active


def test_it_fetches_a_newly_followed_group_whole(org, rapidpro, groups):
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    # Modified long before the sync's watermark: only fetching the group finds it.
    old_member = fakes.contact("Wakiso Teacher", [groups["Wakiso"]], T0 - timedelta(days=90))
    rapidpro.contacts.append(old_member)
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    assert not Contact.objects.filter(org=org).exists()

    follow(org, regions=["Wakiso"])
    assert sync(org, "contacts") == {"contacts": "succeeded"}

    assert local(org, old_member).region.name == "Wakiso"
    group_requests = [
        q for endpoint, q in rapidpro.requests if endpoint == "contacts" and "group" in q
    ]
    assert group_requests[-1]["group"] == groups["Wakiso"]["uuid"]


def test_it_moves_contacts_without_asking_rapidpro_when_admins_change_regions(
    org, rapidpro, groups
):
    person = fakes.contact("Grace", [groups["Central"], groups["Kampala"]], T0)
    rapidpro.contacts.append(person)
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    assert local(org, person).region.name == "Kampala"

    Region.objects.get(org=org, name="Kampala").deactivate()
    rapidpro.requests.clear()
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    assert local(org, person).region.name == "Central"

    Region.objects.get(org=org, name="Central").deactivate()
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    assert not local(org, person).is_active
    # Each sync asked only for what changed (and what was deleted): 2 requests.
    assert len([r for r in rapidpro.requests if r[0] == "contacts"]) == 4


def test_it_leaves_a_contact_alone_while_its_local_edit_waits_to_be_pushed(org, rapidpro, groups):
    person = fakes.contact("Grace", [groups["Kampala"]], T0)
    rapidpro.contacts.append(person)
    assert sync(org, "contacts") == {"contacts": "succeeded"}
    Contact.objects.filter(uuid=person["uuid"]).update(
        name="Grace (edited)", push_status=PushStatus.PENDING
    )

    person.update(name="Grace in RapidPro", modified_on=fakes.stamp(T0 + timedelta(hours=1)))
    assert sync(org, "contacts") == {"contacts": "succeeded"}

    assert local(org, person).name == "Grace (edited)"


def test_it_completes_a_contact_first_seen_in_a_run(org, rapidpro, groups):
    placeholder = make_contact(org, "From a run", is_active=False)
    person = fakes.contact("Grace", [groups["Kampala"]], T0, uuid=placeholder.uuid)
    rapidpro.contacts.append(person)

    assert sync(org, "contacts") == {"contacts": "succeeded"}

    placeholder.refresh_from_db()
    assert (placeholder.name, placeholder.is_active, placeholder.region.name) == (
        "Grace",
        True,
        "Kampala",
    )
    assert placeholder.remote_modified_on == T0
