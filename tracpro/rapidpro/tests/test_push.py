"""Pushing contact changes to RapidPro, with the client patched at the seam."""

from datetime import timedelta
from unittest import mock

import pytest
import requests
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaConnectionError,
    TembaHttpError,
    TembaNoSuchObjectError,
    TembaRateExceededError,
)
from temba_client.v2.types import Contact as RemoteContact

from django.utils import timezone

from tracpro.contacts.models import Contact, PushStatus
from tracpro.contacts.tests.factories import make_contact, make_data_field
from tracpro.groups.tests.factories import make_region, make_reporter_group
from tracpro.orgs.models import Membership
from tracpro.polls.tests.factories import (
    make_answer,
    make_pollrun,
    make_question,
    make_response,
)
from tracpro.polls.tests.integrity import dangling_rows
from tracpro.rapidpro import push
from tracpro.rapidpro.client import TracProTembaClient
from tracpro.rapidpro.push import Outcome
from tracpro.rapidpro.tasks import push_contact as push_task
from tracpro.rapidpro.tasks import requeue_stale_pushes

NEW_UUID = "5a8b3e4c-0000-4000-8000-000000000001"


@pytest.fixture
def client():
    """The client `get_client` returns; calls of its methods are checked against the
    real client's signatures."""
    fake = mock.create_autospec(TracProTembaClient, instance=True)
    with mock.patch("tracpro.rapidpro.client.get_client", autospec=True, return_value=fake):
        yield fake


@pytest.fixture
def world(acme):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)
    gulu = make_region(acme, "Gulu")
    teachers = make_reporter_group(acme, "Teachers")
    make_data_field(acme, "facility_code")
    make_data_field(acme, "gender", is_visible=True)
    make_data_field(acme, "secret", is_visible=False)
    return {"central": central, "kampala": kampala, "gulu": gulu, "teachers": teachers}


def remote(uuid: str, urns: list[str], groups: list, **fields) -> RemoteContact:
    return RemoteContact.deserialize(
        {
            "uuid": uuid,
            "name": fields.pop("name", "Grace"),
            "language": fields.pop("language", "eng"),
            "urns": urns,
            "groups": [{"uuid": group.uuid, "name": group.name} for group in groups],
            "fields": fields.pop("values", {}),
            "status": "active",
        }
    )


def pending(org, **fields) -> Contact:
    fields.setdefault("push_status", PushStatus.PENDING)
    return make_contact(org, fields.pop("name", "Grace"), **fields)


def bad_request(errors) -> TembaBadRequestError:
    return TembaBadRequestError(errors)


def server_error(status: int = 503) -> TembaHttpError:
    response = requests.Response()
    response.status_code = status
    return TembaHttpError(requests.HTTPError(f"{status} Server Error", response=response))


def test_a_create_adopts_the_uuid_rapidpro_assigns(client, acme, world):
    contact = pending(
        acme,
        uuid=None,
        urn="tel:+256772123456",
        region=world["kampala"],
        language="eng",
        fields={"facility_code": "KLA-1", "gender": "", "secret": "kept local"},
    )
    contact.reporter_groups.add(world["teachers"])
    client.create_contact.return_value = remote(NEW_UUID, ["tel:+256772123456"], [])

    assert push.push_contact(contact.pk) == Outcome.CREATED

    client.create_contact.assert_called_once_with(
        name="Grace",
        language="eng",
        urns=["tel:+256772123456"],
        fields={"facility_code": "KLA-1"},
        groups=sorted([world["kampala"].uuid, world["teachers"].uuid]),
    )
    contact.refresh_from_db()
    assert (contact.uuid, contact.push_status, contact.create_sent_on) == (
        NEW_UUID,
        PushStatus.SYNCED,
        None,
    )


def test_an_update_sends_only_what_changed_and_keeps_other_groups_and_urns(client, acme, world):
    opt_ins = make_reporter_group(acme, "Opt-ins", is_active=False)  # not followed by TracPro
    contact = pending(acme, urn="tel:+256700000002", region=world["gulu"], fields={"gender": "f"})
    contact.reporter_groups.add(world["teachers"])
    client.get_contacts.return_value.first.return_value = remote(
        contact.uuid,
        ["tel:+256700000001", "whatsapp:256700000001"],
        [world["kampala"], world["teachers"], opt_ins],
        values={"gender": "f", "facility_code": None},
    )

    assert push.push_contact(contact.pk) == Outcome.UPDATED

    client.update_contact.assert_called_once_with(
        contact.uuid,
        urns=["tel:+256700000002", "whatsapp:256700000001"],
        groups=sorted([world["gulu"].uuid, world["teachers"].uuid, opt_ins.uuid]),
    )
    contact.refresh_from_db()
    assert contact.push_status == PushStatus.SYNCED
    # The mirror knows the new groups before the sync pulls the contact again.
    assert contact.group_uuids == sorted([world["gulu"].uuid, world["teachers"].uuid, opt_ins.uuid])


def test_contacts_in_nested_region_groups_stay_in_the_parents(client, acme, world):
    contact = pending(acme, urn="tel:+256700000001", region=world["gulu"])
    client.get_contacts.return_value.first.return_value = remote(
        contact.uuid, ["tel:+256700000001"], [world["gulu"], world["central"]]
    )
    # Moving from Gulu to Kampala: the contact was in two region groups, so
    # Kampala's parent Central is kept too.
    contact.region = world["kampala"]
    contact.save()

    push.push_contact(contact.pk)

    groups = client.update_contact.call_args.kwargs["groups"]
    assert groups == sorted([world["kampala"].uuid, world["central"].uuid])


def test_an_unchanged_contact_costs_no_write(client, acme, world):
    contact = pending(acme, urn="tel:+256700000001", region=world["gulu"], language="eng")
    client.get_contacts.return_value.first.return_value = remote(
        contact.uuid, ["tel:+256700000001"], [world["gulu"]]
    )

    assert push.push_contact(contact.pk) == Outcome.UNCHANGED

    client.update_contact.assert_not_called()
    contact.refresh_from_db()
    assert contact.push_status == PushStatus.SYNCED


def test_a_removed_contact_is_deleted_in_rapidpro(client, acme, world):
    contact = pending(acme, is_active=False)

    assert push.push_contact(contact.pk) == Outcome.DELETED

    client.delete_contact.assert_called_once_with(contact.uuid)
    contact.refresh_from_db()
    assert contact.push_status == PushStatus.SYNCED


def test_a_contact_already_gone_from_rapidpro_counts_as_deleted(client, acme, world):
    contact = pending(acme, is_active=False)
    client.delete_contact.side_effect = TembaNoSuchObjectError()

    assert push.push_contact(contact.pk) == Outcome.DELETED


def test_a_contact_never_sent_needs_no_delete(client, acme, world):
    contact = pending(acme, uuid=None, is_active=False)

    assert push.push_contact(contact.pk) == Outcome.DELETED
    client.delete_contact.assert_not_called()


def test_a_urn_in_use_comes_back_as_a_readable_error(client, acme, world):
    contact = pending(acme, uuid=None, urn="tel:+256772123456", region=world["gulu"])
    client.create_contact.side_effect = bad_request({"urns": ["URN is in use by another contact."]})

    assert push.push_contact(contact.pk) == Outcome.FAILED

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.FAILED
    assert contact.push_error == "RapidPro already has another contact with tel:+256772123456."
    assert contact.create_sent_on is None


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        (
            {"urns": {"0": ["Invalid URN: tel:+1. Ensure phone numbers contain country codes."]}},
            "RapidPro does not accept tel:+1: Invalid URN: tel:+1. Ensure phone numbers",
        ),
        (
            {"fields": ["Invalid contact field key: gender"]},
            "RapidPro does not know one of the contact fields: Invalid contact field key: gender",
        ),
        ({"name": ["Too long."]}, "RapidPro refused the change: Too long."),
    ],
)
def test_rapidpro_refusals_are_said_plainly(client, acme, world, errors, message):
    contact = pending(acme, urn="tel:+1", region=world["gulu"])
    client.get_contacts.return_value.first.return_value = remote(contact.uuid, [], [])
    client.update_contact.side_effect = bad_request(errors)

    push.push_contact(contact.pk)

    contact.refresh_from_db()
    assert contact.push_error.startswith(message)


def test_a_contact_deleted_in_rapidpro_fails_clearly(client, acme, world):
    contact = pending(acme, region=world["gulu"])
    client.get_contacts.return_value.first.return_value = None

    push.push_contact(contact.pk)

    contact.refresh_from_db()
    assert contact.push_error == "This contact no longer exists in RapidPro."


@pytest.mark.parametrize(
    "error", [server_error(503), TembaConnectionError(), requests.ReadTimeout("slow")]
)
def test_temporary_problems_leave_the_contact_pending(client, acme, world, error):
    contact = pending(acme, region=world["gulu"])
    client.get_contacts.side_effect = error

    with pytest.raises(push.TemporaryPushError):
        push.push_contact(contact.pk)

    contact.refresh_from_db()
    assert (contact.push_status, contact.push_error) == (PushStatus.PENDING, "")


def test_a_client_error_other_than_400_fails_at_once(client, acme, world):
    contact = pending(acme, region=world["gulu"])
    client.get_contacts.side_effect = server_error(413)

    assert push.push_contact(contact.pk) == Outcome.FAILED


def test_a_rate_limit_passes_on_retry_after(client, acme, world):
    contact = pending(acme, region=world["gulu"])
    client.get_contacts.side_effect = TembaRateExceededError(42)

    with pytest.raises(push.TemporaryPushError) as raised:
        push.push_contact(contact.pk)

    assert raised.value.retry_after == 42
    assert push.RETRY_POLICY.delay(1, raised.value.retry_after) >= 42


def test_backoff_grows_and_is_capped():
    delays = [push.RETRY_POLICY.delay(attempt) for attempt in range(1, 13)]

    assert delays[0] < delays[3] < delays[6]
    assert max(delays) <= push.RETRY_POLICY.backoff_cap


def test_a_create_without_an_answer_is_never_repeated(client, acme, world):
    contact = pending(acme, uuid=None, urn="tel:+256772123456", region=world["gulu"])
    client.create_contact.side_effect = server_error(502)

    with pytest.raises(push.TemporaryPushError):
        push.push_contact(contact.pk)
    contact.refresh_from_db()
    assert contact.create_sent_on is not None

    # RapidPro did create it: the next attempt finds it by URN and adopts it.
    client.get_contacts.return_value.first.return_value = remote(
        NEW_UUID, ["tel:+256772123456"], [world["gulu"]]
    )
    assert push.push_contact(contact.pk) == Outcome.CREATED

    assert client.create_contact.call_count == 1
    client.get_contacts.assert_called_with(urn="tel:+256772123456")
    contact.refresh_from_db()
    assert (contact.uuid, contact.push_status) == (NEW_UUID, PushStatus.SYNCED)


def test_a_twin_made_by_the_sync_is_merged_into_the_created_contact(client, acme, world):
    contact = pending(acme, uuid=None, urn="tel:+256772123456", region=world["gulu"])
    twin = make_contact(acme, "Grace", uuid=NEW_UUID, urn="tel:+256772123456")
    answer = make_answer(make_response(make_pollrun(acme), twin), make_question(acme), "4")
    client.create_contact.return_value = remote(NEW_UUID, ["tel:+256772123456"], [])

    push.push_contact(contact.pk)

    assert not Contact.objects.filter(pk=twin.pk).exists()
    contact.refresh_from_db()
    assert contact.uuid == NEW_UUID
    answer.refresh_from_db()  # the twin's answers are the contact's now, not deleted
    assert (answer.response.contact, answer.contact) == (contact, contact)
    assert dangling_rows() == {}


def test_an_edit_made_during_a_push_stays_pending(client, acme, world):
    contact = pending(acme, region=world["gulu"])

    def edit_meanwhile(**kwargs):
        Contact.objects.get(pk=contact.pk).save()  # a newer edit, with its own push queued
        return mock.DEFAULT

    client.get_contacts.side_effect = edit_meanwhile
    client.get_contacts.return_value.first.return_value = remote(contact.uuid, [], [])

    push.push_contact(contact.pk)

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.PENDING


def test_only_one_push_of_a_contact_runs_at_a_time(client, acme, world):
    contact = pending(acme, region=world["gulu"])
    lock = push.redis_client().lock(push.LOCK_KEY.format(contact_id=contact.pk), timeout=10)
    lock.acquire()
    try:
        assert push.push_contact(contact.pk) == Outcome.BUSY
    finally:
        lock.release()
    client.get_contacts.assert_not_called()


def test_a_contact_that_is_not_pending_is_left_alone(client, acme, world):
    contact = make_contact(acme, "Synced already")

    assert push.push_contact(contact.pk) == Outcome.SKIPPED
    assert not client.method_calls


@pytest.fixture
def eager_retries(celery_eager):
    """Eager tasks whose retries run at once (propagating would stop at the first retry)."""
    celery_eager.conf.task_eager_propagates = False
    return celery_eager


def test_the_task_retries_until_rapidpro_answers(client, acme, world, eager_retries):
    contact = pending(acme, region=world["gulu"])
    client.get_contacts.return_value.first.side_effect = [
        server_error(500),
        TembaConnectionError(),
        remote(contact.uuid, [contact.urn], [world["gulu"]], language=None, name="Grace"),
    ]

    push_task.delay(contact.pk)

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.SYNCED
    assert client.get_contacts.return_value.first.call_count == 3


def test_the_task_gives_up_after_its_retries(client, acme, world, eager_retries):
    contact = pending(acme, region=world["gulu"])
    client.get_contacts.side_effect = server_error(503)

    push_task.delay(contact.pk)

    contact.refresh_from_db()
    assert contact.push_status == PushStatus.FAILED
    assert contact.push_error.startswith("RapidPro could not be reached after several attempts")
    assert client.get_contacts.call_count == push.MAX_RETRIES + 1


def test_pushes_lost_for_half_an_hour_are_queued_again(acme, world):
    lost = pending(acme, region=world["gulu"])
    pending(acme, region=world["gulu"])  # pending for a moment only
    synced = make_contact(acme, region=world["gulu"], push_status=PushStatus.SYNCED)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Contact.objects.filter(pk__in=[lost.pk, synced.pk]).update(modified_on=an_hour_ago)

    with mock.patch.object(push_task, "delay") as delay:
        assert requeue_stale_pushes() == 1

    delay.assert_called_once_with(lost.pk)


def lost_create(client, contact: Contact, found: RemoteContact) -> str:
    """A create whose answer never came back, then the retry finding `found` by URN."""
    client.create_contact.side_effect = server_error(502)
    with pytest.raises(push.TemporaryPushError):
        push.push_contact(contact.pk)
    client.get_contacts.return_value.first.return_value = found
    return push.push_contact(contact.pk)


def test_a_lost_create_never_adopts_a_contact_outside_the_creators_regions(
    client, acme, world, sam
):
    Membership.objects.get(user=sam, org=acme).regions.set([world["kampala"]])
    contact = pending(
        acme, uuid=None, urn="tel:+256772123456", region=world["kampala"], created_by=sam
    )
    gulu_contact = make_contact(acme, "Gulu person", uuid=NEW_UUID, region=world["gulu"])
    found = remote(NEW_UUID, ["tel:+256772123456"], [world["gulu"]])

    assert lost_create(client, contact, found) == Outcome.FAILED

    contact.refresh_from_db()
    assert contact.uuid is None
    assert contact.push_status == PushStatus.FAILED
    assert "outside the regions" in contact.push_error
    assert Contact.objects.filter(pk=gulu_contact.pk, uuid=NEW_UUID).exists()  # not merged
    client.update_contact.assert_not_called()


def test_a_lost_create_adopts_the_contact_it_made_in_the_creators_regions(client, acme, world, sam):
    Membership.objects.get(user=sam, org=acme).regions.set([world["central"]])
    contact = pending(
        acme, uuid=None, urn="tel:+256772123456", region=world["kampala"], created_by=sam
    )
    found = remote(NEW_UUID, ["tel:+256772123456"], [world["kampala"]])

    assert lost_create(client, contact, found) == Outcome.CREATED

    contact.refresh_from_db()
    assert (contact.uuid, contact.push_status) == (NEW_UUID, PushStatus.SYNCED)


def test_a_lost_create_by_an_admin_adopts_in_any_region(client, acme, world, ann):
    contact = pending(
        acme, uuid=None, urn="tel:+256772123456", region=world["kampala"], created_by=ann
    )
    found = remote(NEW_UUID, ["tel:+256772123456"], [world["gulu"]])

    assert lost_create(client, contact, found) == Outcome.CREATED
