"""Contact pushes against the RapidPro simulator, through the real rapidpro-python client."""

import pytest

from tracpro.contacts.models import Contact, PushStatus
from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Region, ReporterGroup
from tracpro.rapidpro import contact_changes, push
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim():
    with running_simulator(seed=7, contacts=40, runs=20) as handle:
        yield handle


@pytest.fixture
def rapidpro(sim):
    """The simulator's edu workspace, as rapidpro-python sees it."""
    sim.clear_faults()
    return sim.client("edu")


@pytest.fixture
def edu(acme, sim, rapidpro):
    """acme pointed at the simulator's edu workspace, following two regions and a group."""
    acme.api_url, acme.api_token = sim.base_url, sim.tokens["edu"]
    acme.save()
    for group in rapidpro.get_groups().all():
        if group.name in ("Kampala", "Gulu"):
            Region.objects.create(org=acme, uuid=group.uuid, name=group.name)
        if group.name == "Head Teachers":
            ReporterGroup.objects.create(org=acme, uuid=group.uuid, name=group.name)
    return acme


def region(org, name: str) -> Region:
    return Region.objects.get(org=org, name=name)


def test_a_created_contact_appears_in_rapidpro_with_its_urn_and_groups(edu, rapidpro, ann):
    contact = Contact(org=edu, name="Grace Okello", urn="tel:+256772000101", language="eng")
    contact.region = region(edu, "Kampala")
    contact_changes.mark_pending(contact)
    contact.save()
    contact.reporter_groups.set(ReporterGroup.objects.filter(org=edu))

    assert push.push_contact(contact.pk) == push.Outcome.CREATED

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.SYNCED
    remote = rapidpro.get_contacts(uuid=contact.uuid).first()
    assert remote.name == "Grace Okello"
    assert remote.urns == ["tel:+256772000101"]
    assert sorted(group.name for group in remote.groups) == ["Head Teachers", "Kampala"]


def test_an_update_moves_the_contact_between_region_groups(edu, rapidpro):
    existing = next(c for c in rapidpro.get_contacts(group="Kampala").all() if len(c.urns) == 1)
    other_groups = {g.name for g in existing.groups} - {"Kampala", "Head Teachers"}
    contact = make_contact(
        edu,
        "Renamed Reporter",
        uuid=existing.uuid,
        urn=existing.urns[0],
        region=region(edu, "Gulu"),
        language=existing.language or "",
        push_status=PushStatus.PENDING,
    )

    assert push.push_contact(contact.pk) == push.Outcome.UPDATED

    remote = rapidpro.get_contacts(uuid=existing.uuid).first()
    assert remote.name == "Renamed Reporter"
    assert {group.name for group in remote.groups} == other_groups | {"Gulu"}


def test_a_removed_contact_is_deleted_in_rapidpro(edu, rapidpro):
    existing = rapidpro.get_contacts(group="Gulu").first()
    contact = make_contact(
        edu, "Leaving", uuid=existing.uuid, urn=existing.urns[0], region=region(edu, "Gulu")
    )

    contact_changes.remove_contact(contact, None)
    assert push.push_contact(contact.pk) == push.Outcome.DELETED

    assert rapidpro.get_contacts(uuid=existing.uuid).first() is None
    assert rapidpro.get_contacts(uuid=existing.uuid, deleted=True).first() is not None


def test_a_urn_rapidpro_already_has_is_reported_on_the_contact(edu, rapidpro):
    taken = rapidpro.get_contacts().first().urns[0]
    contact = make_contact(
        edu, "Twin", uuid=None, urn=taken, region=region(edu, "Kampala"), push_status="pending"
    )

    assert push.push_contact(contact.pk) == push.Outcome.FAILED

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.FAILED
    assert contact.push_error == f"RapidPro already has another contact with {taken}."
    assert contact.uuid is None


def test_server_errors_are_retried_until_the_push_goes_through(
    edu, sim, rapidpro, celery_eager, django_capture_on_commit_callbacks
):
    celery_eager.conf.task_eager_propagates = False
    contact = Contact(org=edu, name="Patient", urn="tel:+256772000202")
    contact.region = region(edu, "Gulu")
    sim.faults(mode="error", status=503, endpoint="contacts", method="POST", count=2)
    sim.reset_stats()

    # The push is queued on commit and runs eagerly, retrying at once.
    with django_capture_on_commit_callbacks(execute=True):
        contact_changes.save_contact(contact, [], None)

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.SYNCED
    remote = rapidpro.get_contacts(urn="tel:+256772000202").all()
    assert [c.uuid for c in remote] == [contact.uuid]
    requests = sim.stats()["requests"]["contacts"]
    # Two refused creates, then one that worked; each retry first looked the URN up.
    assert (requests["503"], requests["201"]) == (2, 1)
