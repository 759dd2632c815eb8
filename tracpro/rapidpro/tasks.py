"""The Celery tasks that talk to RapidPro.

Syncs: one per-org task per kind of RapidPro data (see tracpro.orgs.tasks). Beat
queues them for every syncable org (CELERY_BEAT_SCHEDULE); other code queues one
now with `tracpro.orgs.tasks.trigger(org, SyncKind.RUNS)`. A sync that runs out of
its time budget (a long backfill) saves its place and queues itself again.

Pushes: `push_contact` sends one contact's local changes (see
tracpro.rapidpro.push), queued by tracpro.rapidpro.contact_changes when they
commit; `requeue_stale_pushes` (beat) queues again those whose task was lost.

Actions: `send_message` sends a start, restart, message or reply recorded by
tracpro.rapidpro.actions (see tracpro.rapidpro.sending), `archive_inbox_message`
archives an inbox message; `requeue_stale_messages` (beat) queues again messages
whose task was lost. Actions and pushes run on their own queue (ACTIONS_QUEUE,
CELERY_TASK_ROUTES), so they never wait behind a long sync.
"""

import logging
import time
from datetime import timedelta

from celery import Task, shared_task

from django.utils import timezone

from tracpro.contacts.models import Contact, PushStatus
from tracpro.msgs.models import Message
from tracpro.orgs.models import Org, SyncKind, SyncState
from tracpro.orgs.tasks import org_task
from tracpro.rapidpro import push, sending
from tracpro.rapidpro.syncers import run_sync

logger = logging.getLogger(__name__)

# Hard limits; each sync stops starting new batches at BUDGET of its limit.
TIME_LIMITS = {
    SyncKind.FIELDS: 5 * 60,
    SyncKind.GROUPS: 5 * 60,
    SyncKind.FLOWS: 10 * 60,
    SyncKind.BOUNDARIES: 15 * 60,
    SyncKind.CONTACTS: 30 * 60,
    SyncKind.RUNS: 30 * 60,
    SyncKind.INBOX: 10 * 60,
    SyncKind.RECONCILE: 10 * 60,
}
BUDGET = 0.75
# The lock of a sync lives this long past its last batch (see orgs.tasks.heartbeat):
# a worker killed mid-sync holds the next one back for minutes at most.
LOCK_HEARTBEAT = 5 * 60


def register(kind: str) -> Task:
    time_limit = TIME_LIMITS[kind]

    def sync(org: Org, state: SyncState) -> dict:
        deadline = time.monotonic() + time_limit * BUDGET
        return run_sync(org, kind, state, deadline=deadline).as_dict()

    sync.__name__ = f"sync_{kind}"
    return org_task(kind, time_limit=time_limit, heartbeat=LOCK_HEARTBEAT)(sync)


SYNC_TASKS = {kind: register(kind) for kind in SyncKind}


# Contact pushes -------------------------------------------------------------------------

BUSY_DELAY = 10  # seconds before trying a contact another worker is pushing
STALE_AFTER = timedelta(minutes=30)


@shared_task(
    bind=True,
    name="tracpro.rapidpro.tasks.push_contact",
    max_retries=push.MAX_RETRIES,
    ignore_result=True,
)
def push_contact(self, contact_id: int) -> str:
    """Push one contact; temporary RapidPro failures are retried with backoff."""
    try:
        outcome = push.push_contact(contact_id)
    except push.TemporaryPushError as error:
        if self.request.retries >= self.max_retries:
            push.give_up(contact_id, error)
            return push.Outcome.FAILED
        # Celery's retry_backoff cannot know a 429's Retry-After: the policy does.
        delay = push.RETRY_POLICY.delay(self.request.retries + 1, error.retry_after)
        logger.warning("contact %s: %s; retrying in %.0fs", contact_id, error, delay)
        raise self.retry(countdown=delay, exc=error) from error
    if outcome == push.Outcome.BUSY:
        push_contact.apply_async((contact_id,), countdown=BUSY_DELAY)
    return outcome


@shared_task(name="tracpro.rapidpro.tasks.requeue_stale_pushes", ignore_result=True)
def requeue_stale_pushes() -> int:
    """Queue again pushes whose task was lost (a worker killed, the broker down)."""
    cutoff = timezone.now() - STALE_AFTER
    stale = Contact.objects.filter(push_status=PushStatus.PENDING, modified_on__lt=cutoff)
    contact_ids = list(stale.values_list("pk", flat=True)[:1000])
    for contact_id in contact_ids:
        push_contact.delay(contact_id)
    return len(contact_ids)


# Actions: starts, messages, replies, archiving ------------------------------------------

MESSAGE_STALE_AFTER = timedelta(minutes=15)  # longer than the longest backoff


@shared_task(
    name="tracpro.rapidpro.tasks.send_message",
    ignore_result=True,
    acks_late=True,  # a worker killed mid-send leaves the task queued; sending is idempotent
    reject_on_worker_lost=True,
)
def send_message(message_id: int) -> None:
    """Send what is left of a message; queue itself again when it must wait."""
    delay = sending.send(message_id)
    if delay is not None:
        logger.info("message %s: trying again in %.0fs", message_id, delay)
        send_message.apply_async((message_id,), countdown=delay)


@shared_task(name="tracpro.rapidpro.tasks.archive_inbox_message", ignore_result=True)
def archive_inbox_message(inbox_message_id: int, attempt: int = 1) -> None:
    delay = sending.archive(inbox_message_id, attempt)
    if delay is not None:
        archive_inbox_message.apply_async((inbox_message_id, attempt + 1), countdown=delay)


@shared_task(name="tracpro.rapidpro.tasks.requeue_stale_messages", ignore_result=True)
def requeue_stale_messages() -> int:
    """Queue again messages whose task was lost (a worker killed, the broker down)."""
    now = timezone.now()
    stale = (
        Message.objects.filter(
            status__in=[Message.Status.PENDING, Message.Status.WAITING],
            updated_on__lt=now - MESSAGE_STALE_AFTER,
        )
        .exclude(retry_on__gt=now)
        .values_list("pk", flat=True)
    )
    message_ids = list(stale[:1000])
    for message_id in message_ids:
        send_message.delay(message_id)
    return len(message_ids)
