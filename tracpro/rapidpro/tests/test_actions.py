"""Starts, messages, restarts and replies: what the services record and how the task
sends it, with RapidPro patched at the seam (autospec: calls match the real client)."""

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaConnectionError,
    TembaRateExceededError,
    TembaTokenError,
)
from temba_client.v2.types import Broadcast, FlowStart

from django.utils import timezone

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.scope import RegionScope, scope_of
from tracpro.groups.tests.factories import make_region
from tracpro.msgs.models import InboxMessage, Message, MessageBatch
from tracpro.orgs.models import Membership
from tracpro.polls.models import PollRun, ResponseStatus
from tracpro.polls.tests.factories import make_poll, make_pollrun, make_response
from tracpro.rapidpro import actions, sending
from tracpro.rapidpro.actions import ActionRefused
from tracpro.rapidpro.client import RemoteMessage, TracProTembaClient
from tracpro.rapidpro.tests.fakes import new_uuid

Status = Message.Status


@pytest.fixture
def client():
    fake = mock.create_autospec(TracProTembaClient, instance=True)
    fake.create_flow_start.side_effect = lambda *a, **kw: FlowStart.create(uuid=new_uuid())
    fake.create_broadcast.side_effect = lambda *a, **kw: Broadcast.create(uuid=new_uuid())
    fake.create_message.side_effect = lambda *a, **kw: RemoteMessage.create(uuid=new_uuid())
    with mock.patch("tracpro.rapidpro.client.get_client", autospec=True, return_value=fake):
        yield fake


@pytest.fixture
def world(acme, sam):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)
    gulu = make_region(acme, "Gulu")
    Membership.objects.get(user=sam, org=acme).regions.add(kampala)
    poll = make_poll(acme, "Attendance")
    pollrun = make_pollrun(poll)
    contacts = {}
    for name, region, status in [
        ("Kampala complete", kampala, ResponseStatus.COMPLETE),
        ("Kampala partial", kampala, ResponseStatus.PARTIAL),
        ("Kampala silent", kampala, ResponseStatus.EMPTY),
        ("Gulu silent", gulu, ResponseStatus.EMPTY),
        ("Central complete", central, ResponseStatus.COMPLETE),
    ]:
        contacts[name] = make_contact(acme, name, region=region)
        make_response(pollrun, contacts[name], status=status)
    return {
        "central": central,
        "kampala": kampala,
        "gulu": gulu,
        "poll": poll,
        "pollrun": pollrun,
        "contacts": contacts,
    }


@pytest.fixture
def admin_scope(acme, world) -> RegionScope:
    return RegionScope.build(acme, is_admin=True)


@pytest.fixture
def sam_scope(acme, sam, world) -> RegionScope:
    scope = scope_of(acme, sam)
    assert scope is not None
    return scope


def names(message: Message) -> set[str]:
    return set(message.recipients.values_list("name", flat=True))


def send(message: Message) -> float | None:
    delay = sending.send(message.pk)
    message.refresh_from_db()
    return delay


# What the services record -----------------------------------------------------------------


def test_a_start_creates_its_pending_poll_date_and_batches_of_100_at_once(
    acme, ann, admin_scope, world, django_capture_on_commit_callbacks
):
    for number in range(148):
        make_contact(acme, f"Kampala {number}", region=world["kampala"])
    with django_capture_on_commit_callbacks() as callbacks:
        message = actions.start_poll(admin_scope, ann, world["poll"], world["central"])

    pollrun = message.pollrun
    assert (pollrun.kind, pollrun.region, pollrun.created_by) == (
        PollRun.Kind.START,
        world["central"],
        ann,
    )
    assert pollrun.start_uuid is None
    assert (message.kind, message.status, message.recipient_count) == ("start", "pending", 152)
    assert [len(b.contact_uuids) for b in message.batches.all()] == [100, 52]
    assert len({b.key for b in message.batches.all()}) == 2
    assert "Gulu silent" not in names(message)
    assert len(callbacks) == 1, "the send is queued once the transaction commits"


def test_a_supervisor_starts_only_for_regions_in_view(acme, sam, sam_scope, world):
    with pytest.raises(ActionRefused, match="whole organization"):
        actions.start_poll(sam_scope, sam, world["poll"], None)
    with pytest.raises(ActionRefused):
        actions.start_poll(sam_scope, sam, world["poll"], world["gulu"])
    message = actions.start_poll(sam_scope, sam, world["poll"], world["kampala"])
    assert names(message) == {"Kampala complete", "Kampala partial", "Kampala silent"}
    assert not PollRun.objects.filter(region=world["gulu"]).exists()


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("non_respondents", {"Kampala silent"}),
        ("incomplete", {"Kampala partial"}),
        ("respondents", {"Kampala complete"}),
        ("all", {"Kampala complete", "Kampala partial", "Kampala silent"}),
    ],
)
def test_a_message_reaches_its_audience_within_the_senders_regions(
    sam, sam_scope, world, audience, expected
):
    message = actions.send_to_poll_date(sam_scope, sam, world["pollrun"], audience, " Hello ")
    assert names(message) == expected
    assert (message.text, message.audience, message.recipient_count) == (
        "Hello",
        audience,
        len(expected),
    )


def test_a_restart_reaches_those_who_did_not_complete(ann, admin_scope, world):
    message = actions.restart_poll_date(admin_scope, ann, world["pollrun"])
    assert names(message) == {"Kampala partial", "Kampala silent", "Gulu silent"}
    assert message.kind == Message.Kind.RESTART


@pytest.mark.parametrize(
    ("text", "error"),
    [("   ", "Write the message first"), ("x" * 4097, "at most 4096 characters")],
)
def test_it_refuses_empty_or_too_long_text_and_records_nothing(
    ann, admin_scope, world, text, error
):
    with pytest.raises(ActionRefused, match=error):
        actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", text)
    assert not Message.objects.exists()
    assert actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "x" * 4096)


def test_it_refuses_an_empty_audience_a_deselected_poll_and_an_unconnected_org(
    acme, sam, sam_scope, world
):
    world["contacts"]["Kampala partial"].responses.update(status=ResponseStatus.COMPLETE)
    with pytest.raises(ActionRefused, match="Nobody"):
        actions.send_to_poll_date(sam_scope, sam, world["pollrun"], "incomplete", "Hi")
    world["poll"].is_active = False
    world["poll"].save()
    with pytest.raises(ActionRefused, match="no longer selected"):
        actions.send_to_poll_date(sam_scope, sam, world["pollrun"], "all", "Hi")
    world["poll"].is_active = True
    world["poll"].save()
    acme.api_token = ""
    acme.save()
    with pytest.raises(ActionRefused, match="not connected"):
        actions.restart_poll_date(sam_scope, sam, world["pollrun"])
    assert not Message.objects.exists()


def test_the_same_form_submitted_twice_records_one_message(ann, admin_scope, world):
    key = uuid.uuid4()
    first = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi", key)
    second = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi", key)
    assert first == second
    assert Message.objects.count() == 1


def test_a_reply_marks_the_contacts_messages_answered(acme, ann, admin_scope, world):
    contact = world["contacts"]["Gulu silent"]
    earlier = InboxMessage.objects.create(
        org=acme, uuid=new_uuid(), contact=contact, direction="in", text="Help",
        created_on=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    message = actions.reply(admin_scope, ann, contact, "On my way")
    assert (message.kind, message.contact, names(message)) == ("reply", contact, {"Gulu silent"})
    earlier.refresh_from_db()
    assert earlier.replied_on is not None
    assert not InboxMessage.objects.unanswered().exists()


def test_a_supervisor_cannot_reply_outside_their_regions(sam, sam_scope, world):
    with pytest.raises(ActionRefused, match="not in your regions"):
        actions.reply(sam_scope, sam, world["contacts"]["Gulu silent"], "Hi")


# How the task sends -------------------------------------------------------------------------


def test_a_start_is_sent_once_per_batch_with_its_key_and_the_date_gets_the_uuid(
    client, ann, admin_scope, world
):
    message = actions.start_poll(admin_scope, ann, world["poll"], None)
    assert send(message) is None

    batch = message.batches.get()
    client.create_flow_start.assert_called_once_with(
        world["poll"].flow_uuid,
        contacts=batch.contact_uuids,
        restart_participants=True,
        params={"tracpro_batch": str(batch.key)},
    )
    assert (message.status, message.sent_count, message.failed_count) == ("sent", 5, 0)
    assert message.pollrun.start_uuid == batch.remote_uuid != ""
    assert send(message) is None
    assert client.create_flow_start.call_count == 1, "a finished message is never sent again"


def test_a_message_goes_out_as_broadcasts_and_a_reply_as_a_message(client, ann, admin_scope, world):
    broadcast = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    send(broadcast)
    client.create_broadcast.assert_called_once_with(
        "Hi", contacts=broadcast.batches.get().contact_uuids
    )
    contact = world["contacts"]["Gulu silent"]
    answer = actions.reply(admin_scope, ann, contact, "Thanks")
    send(answer)
    client.create_message.assert_called_once_with(contact.uuid, "Thanks", [])
    assert broadcast.status == answer.status == "sent"


def test_a_lost_answer_is_looked_up_before_sending_again(client, ann, admin_scope, world):
    message = actions.start_poll(admin_scope, ann, world["poll"], None)
    client.create_flow_start.side_effect = TembaConnectionError()
    assert send(message) > 0
    assert message.status == "pending"
    batch = message.batches.get()
    assert batch.attempted_on is not None

    made = FlowStart.create(
        uuid=new_uuid(),
        params={"tracpro_batch": str(batch.key)},
        modified_on=timezone.now(),
    )
    other = FlowStart.create(uuid=new_uuid(), params=None, modified_on=timezone.now())
    client.get_flow_starts.return_value.iterfetches.return_value = iter([[other, made]])
    assert send(message) is None

    assert client.create_flow_start.call_count == 1
    assert (message.status, message.pollrun.start_uuid) == ("sent", made.uuid)


def test_a_lost_broadcast_found_by_text_and_contacts_is_not_sent_again(
    client, ann, admin_scope, world
):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    client.create_broadcast.side_effect = TembaConnectionError()
    send(message)
    batch = message.batches.get()
    refs = [{"uuid": uuid_, "name": ""} for uuid_ in batch.contact_uuids]
    same = Broadcast.deserialize(
        {"uuid": new_uuid(), "text": {"eng": "Hi"}, "contacts": refs, "groups": []}
    )
    other = Broadcast.deserialize(
        {"uuid": new_uuid(), "text": {"eng": "Hi"}, "contacts": refs[:1], "groups": []}
    )
    client.get_broadcasts.return_value.iterfetches.return_value = iter([[other, same]])

    send(message)

    assert client.create_broadcast.call_count == 1
    assert message.batches.get().remote_uuid == same.uuid


def test_a_rate_limit_makes_the_message_wait_for_the_time_rapidpro_names(
    client, ann, admin_scope, world
):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    client.create_broadcast.side_effect = TembaRateExceededError(42)
    assert send(message) == 42
    assert message.status == "waiting"
    assert message.retry_on > timezone.now() + timedelta(seconds=40)
    assert message.batches.get().attempted_on is None, "a 429 means RapidPro took nothing"

    client.create_broadcast.side_effect = lambda *a, **kw: Broadcast.create(uuid=new_uuid())
    assert send(message) is None
    assert message.status == "sent"
    client.get_broadcasts.assert_not_called()


def test_a_bad_token_fails_with_a_clear_error_and_nothing_counted_as_sent(
    client, ann, admin_scope, world
):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    client.create_broadcast.side_effect = TembaTokenError()
    assert send(message) is None
    assert (message.status, message.sent_count, message.failed_count) == ("failed", 0, 5)
    assert "API token" in message.error


def test_a_refusal_says_what_rapidpro_answered(client, ann, admin_scope, world):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    client.create_broadcast.side_effect = TembaBadRequestError(
        {"text": {"eng": ["Ensure this field has no more than 4096 characters."]}}
    )
    send(message)
    assert message.status == "failed"
    assert message.error == (
        "RapidPro refused it: Ensure this field has no more than 4096 characters."
    )


def test_some_batches_sent_and_some_refused_is_partly_sent(client, acme, ann, admin_scope, world):
    for number in range(100):
        make_response(world["pollrun"], make_contact(acme, f"More {number}", region=world["gulu"]))
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    sent = Broadcast.create(uuid=new_uuid())
    client.create_broadcast.side_effect = [sent, TembaBadRequestError({"contacts": ["bad"]})]
    send(message)
    assert (message.status, message.sent_count, message.failed_count) == ("partly_sent", 100, 5)


def test_temporary_failures_retry_with_backoff_then_fail_the_batch(client, ann, admin_scope, world):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    client.create_broadcast.side_effect = TembaConnectionError()
    client.get_broadcasts.return_value.iterfetches.side_effect = lambda: iter([[]])
    delays = [send(message) for _ in range(sending.RETRY_POLICY.max_attempts)]
    assert all(delay > 0 for delay in delays[:-1])
    assert delays[-1] is None
    assert message.status == "failed"
    assert "after several attempts" in message.error
    assert client.create_broadcast.call_count == sending.RETRY_POLICY.max_attempts


def test_a_supervisor_whose_region_was_removed_meanwhile_sends_nothing(
    client, acme, sam, sam_scope, world
):
    message = actions.send_to_poll_date(sam_scope, sam, world["pollrun"], "all", "Hi")
    Membership.objects.get(user=sam, org=acme).regions.set([world["gulu"]])
    send(message)
    client.create_broadcast.assert_not_called()
    assert (message.status, message.sent_count) == ("failed", 0)
    assert "may no longer reach" in message.error


def test_a_poll_deselected_meanwhile_sends_nothing(client, ann, admin_scope, world):
    message = actions.restart_poll_date(admin_scope, ann, world["pollrun"])
    world["poll"].is_active = False
    world["poll"].save()
    send(message)
    client.create_flow_start.assert_not_called()
    assert message.status == "failed"


def test_try_again_resends_only_what_failed(client, ann, admin_scope, world):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    client.create_broadcast.side_effect = TembaTokenError()
    send(message)
    client.create_broadcast.side_effect = lambda *a, **kw: Broadcast.create(uuid=new_uuid())
    actions.retry(message)
    send(message)
    assert (message.status, message.sent_count) == ("sent", 5)
    assert MessageBatch.objects.get(message=message).status == "sent"


def test_a_second_worker_on_the_same_message_backs_off(client, ann, admin_scope, world):
    message = actions.send_to_poll_date(admin_scope, ann, world["pollrun"], "all", "Hi")
    lock = sending.redis_client().lock(sending.LOCK_KEY.format(message_id=message.pk), timeout=5)
    assert lock.acquire()
    try:
        assert send(message) == sending.BUSY_DELAY
    finally:
        lock.release()
    client.create_broadcast.assert_not_called()
