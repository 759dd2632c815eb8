"""Starts, messages, restarts, replies and archiving against the RapidPro simulator,
through the real rapidpro-python client, and the inbox sync that reads them back."""

import pytest

from tracpro.groups.models import Region
from tracpro.groups.scope import RegionScope
from tracpro.msgs.models import InboxMessage, Message
from tracpro.polls.models import Poll, PollRun, Response, ResponseStatus
from tracpro.polls.tests.test_rollups import assert_rollups_match_a_rebuild
from tracpro.rapidpro import actions, sending
from tracpro.rapidpro.client import get_client
from tracpro.rapidpro.tests.sync_helpers import set_up_edu, sync
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


class Killed(BaseException):
    """A worker dying (not an error any handler catches)."""


@pytest.fixture
def sim():
    # On the wall clock, as a real server: a lost call is looked up among what
    # RapidPro made since shortly before TracPro's attempt.
    with running_simulator(seed=5, contacts=80, runs=400) as handle:
        yield handle


@pytest.fixture
def edu(acme, sim):
    set_up_edu(acme, sim)
    assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}
    return acme


@pytest.fixture
def scope(edu) -> RegionScope:
    return RegionScope.build(edu, is_admin=True)


@pytest.fixture
def attendance(edu) -> Poll:
    return Poll.objects.get(org=edu, rapidpro_name="Attendance")


def region(org, name: str) -> Region:
    return Region.objects.get(org=org, name=name)


def started(sim, scope, ann, poll, where: str) -> Message:
    """Attendance started for a region, sent, answered over a few ticks, synced."""
    message = actions.start_poll(scope, ann, poll, region(scope.org, where))
    assert sending.send(message.pk) is None
    for _ in range(4):
        sim.tick("edu")
    assert sync(scope.org, "runs") == {"runs": "succeeded"}
    message.refresh_from_db()
    return message


def remote_starts_with_key(sim, batch) -> list:
    return [
        start
        for start in sim.client("edu").get_flow_starts().all()
        if (start.params or {}).get(sending.KEY_PARAM) == str(batch.key)
    ]


def test_a_start_makes_runs_appear_in_its_poll_date(sim, edu, scope, ann, attendance):
    message = started(sim, scope, ann, attendance, "Kampala")

    pollrun = message.pollrun
    assert message.status == "sent"
    assert pollrun.start_uuid == message.batches.get().remote_uuid
    responses = Response.objects.filter(pollrun=pollrun)
    recipients = set(message.recipients.values_list("uuid", flat=True))
    assert set(responses.values_list("contact__uuid", flat=True)) == recipients
    assert responses.exclude(status=ResponseStatus.EMPTY).exists(), "some answered"
    assert not PollRun.objects.filter(start_uuid=pollrun.start_uuid).exclude(pk=pollrun.pk)


def test_a_message_to_non_respondents_reaches_exactly_them(sim, edu, scope, ann, attendance):
    pollrun = started(sim, scope, ann, attendance, "Central").pollrun
    silent = set(
        Response.objects.filter(
            pollrun=pollrun, status=ResponseStatus.EMPTY, is_active=True
        ).values_list("contact__uuid", flat=True)
    )
    assert silent, "the simulator leaves some contacts silent"

    message = actions.send_to_poll_date(scope, ann, pollrun, "non_respondents", "Please answer")
    assert sending.send(message.pk) is None

    uuids = [batch.remote_uuid for batch in message.batches.all()]
    reached = set()
    for broadcast_uuid in uuids:
        broadcast = sim.client("edu").get_broadcasts(uuid=broadcast_uuid).first()
        assert broadcast.text == {"eng": "Please answer"}
        reached |= {contact.uuid for contact in broadcast.contacts}
    assert reached == silent


def test_a_kill_between_the_call_and_the_local_write_starts_nothing_twice(
    sim, edu, scope, ann, attendance, monkeypatch
):
    message = actions.start_poll(scope, ann, attendance, region(edu, "Gulu"))
    record = sending._record_sent

    def die(*args):
        raise Killed

    monkeypatch.setattr(sending, "_record_sent", die)
    with pytest.raises(Killed):
        sending.send(message.pk)
    # Meanwhile the sync files the start's runs under a poll date of its own.
    sim.tick("edu")
    sync(edu, "runs")
    batch = message.batches.get()
    stray = PollRun.objects.get(
        poll=attendance, start_uuid=remote_starts_with_key(sim, batch)[0].uuid
    )
    assert Response.objects.filter(pollrun=stray).exists()

    monkeypatch.setattr(sending, "_record_sent", record)
    assert sending.send(message.pk) is None

    assert len(remote_starts_with_key(sim, batch)) == 1, "RapidPro started the flow once"
    message.refresh_from_db()
    pollrun = message.pollrun
    assert message.status == "sent"
    assert pollrun.start_uuid == stray.start_uuid
    assert not PollRun.objects.filter(pk=stray.pk).exists()
    moved = Response.objects.filter(pollrun=pollrun)
    assert set(moved.values_list("contact__uuid", flat=True)) == set(batch.contact_uuids)
    assert_rollups_match_a_rebuild(edu)  # every rollup followed the moved responses


def test_a_kill_after_a_broadcast_sends_nothing_twice(
    sim, edu, scope, ann, attendance, monkeypatch
):
    pollrun = started(sim, scope, ann, attendance, "Mukono").pollrun
    message = actions.send_to_poll_date(scope, ann, pollrun, "all", "Thank you all")
    record = sending._record_sent
    monkeypatch.setattr(sending, "_record_sent", lambda *args: (_ for _ in ()).throw(Killed()))
    with pytest.raises(Killed):
        sending.send(message.pk)
    monkeypatch.setattr(sending, "_record_sent", record)
    assert sending.send(message.pk) is None

    same = [
        b for b in sim.client("edu").get_broadcasts().all() if b.text == {"eng": "Thank you all"}
    ]
    assert len(same) == 1
    assert message.batches.get().remote_uuid == same[0].uuid


def test_a_restart_brings_new_runs_to_the_same_poll_date(sim, edu, scope, ann, attendance):
    pollrun = started(sim, scope, ann, attendance, "Central").pollrun
    dates = PollRun.objects.filter(poll=attendance).count()
    unfinished = set(
        Response.objects.filter(pollrun=pollrun, is_active=True)
        .exclude(status=ResponseStatus.COMPLETE)
        .values_list("contact__uuid", flat=True)
    )
    assert unfinished

    message = actions.restart_poll_date(scope, ann, pollrun)
    assert sending.send(message.pk) is None
    for _ in range(3):
        sim.tick("edu")
    sync(edu, "runs")

    assert PollRun.objects.filter(poll=attendance).count() == dates
    again = Response.objects.filter(pollrun=pollrun, contact__uuid__in=unfinished)
    assert again.count() > len(unfinished), "each restarted contact has a second run here"
    assert again.filter(is_active=True).count() == len(unfinished)


def test_a_reply_reaches_the_contact(sim, edu, scope, ann):
    sync(edu, "inbox")
    incoming = InboxMessage.objects.filter(org=edu, contact__is_active=True).first()
    message = actions.reply(scope, ann, incoming.contact, "We will call you")
    assert sending.send(message.pk) is None

    sent = sim.client("edu").get_messages(uuid=message.batches.get().remote_uuid).first()
    assert (sent.contact.uuid, sent.text, sent.direction) == (
        incoming.contact.uuid,
        "We will call you",
        "out",
    )


def test_archiving_reaches_rapidpro_and_the_sync_keeps_it(sim, edu, scope, settings):
    settings.RAPIDPRO_INBOX_REFRESH_EVERY = 0
    sync(edu, "inbox")
    message = InboxMessage.objects.filter(org=edu, is_archived=False).first()
    assert message.remote_id is not None

    actions.archive(scope, message)
    assert sending.archive(message.pk) is None

    remote = get_client(edu).get_messages(uuid=message.uuid).first()
    assert remote.visibility == "archived"
    sync(edu, "inbox")
    message.refresh_from_db()
    assert (message.is_archived, message.archive_error) == (True, "")


def test_the_inbox_sync_picks_up_late_messages_archiving_and_labels(sim, edu, settings):
    settings.RAPIDPRO_INBOX_REFRESH_EVERY = 0
    sync(edu, "inbox")
    store = sim.simulator.orgs["edu"]
    newest = max(m.created for m in store.messages if m.direction == "in")
    contact = next(c for c in store.contacts if c.urns and c.status == "active" and not c.deleted)
    # Handled late: created before the newest message TracPro has seen.
    late = store.next_message(contact, "in", "Sorry, this is late", newest - 60_000_000)
    store.add_message(late)
    client = sim.client("edu")
    older = InboxMessage.objects.filter(org=edu, is_archived=False).order_by("created_on").last()
    client.bulk_archive_messages([older.remote_id])
    labelled = InboxMessage.objects.filter(org=edu, is_archived=False).exclude(pk=older.pk).first()
    client.bulk_label_messages([labelled.remote_id], label_name="Follow Up")

    sync(edu, "inbox")

    assert InboxMessage.objects.filter(org=edu, text="Sorry, this is late").exists()
    older.refresh_from_db()
    labelled.refresh_from_db()
    assert older.is_archived
    assert "Follow Up" in labelled.labels
