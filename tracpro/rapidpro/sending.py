"""Sending what users asked for (tracpro.rapidpro.actions) to RapidPro, batch by batch.

`send(message_id)` runs in a worker (tracpro.rapidpro.tasks.send_message) and
returns how many seconds to wait before it should run again, or None when the
message is finished. For each batch of up to 100 contacts, in order:

- It checks again that the sender may still reach its contacts (a supervisor
  whose region was removed sends nothing), that the poll is still selected and
  that the org can reach RapidPro.
- It stores `attempted_on` (committed) before calling RapidPro. A batch attempted
  before whose answer was lost (a timeout, a 5xx, a killed worker) is first looked
  up in RapidPro: a flow start by the batch key it carries in `params`, a broadcast
  or reply by its text and contacts. Only when RapidPro has nothing is it sent again,
  so a retried or killed task never sends a batch twice.
- A 429 makes the message *waiting* until the time RapidPro names; other temporary
  failures are retried with backoff (RETRY_POLICY), then the batch fails; RapidPro's
  refusals (a bad request, a bad token) fail the batch at once, with a readable error.

A Redis lock keeps two workers off the same message. The message ends *sent*,
*partly sent* (with counts) or *failed* (with the error).
"""

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from redis.lock import Lock
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaException,
    TembaNoSuchObjectError,
    TembaRateExceededError,
    TembaTokenError,
)
from temba_client.v2 import TembaClient

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracpro.contacts.models import Contact
from tracpro.groups.scope import RegionScope, scope_of
from tracpro.msgs.models import InboxMessage, Message, MessageBatch
from tracpro.orgs.tasks import redis_client, release
from tracpro.polls.models import PollRun
from tracpro.polls.services import merge_pollrun
from tracpro.rapidpro import client as rapidpro
from tracpro.rapidpro.push import flatten_errors
from tracpro.rapidpro.retry import RetryPolicy, describe, is_retryable

logger = logging.getLogger(__name__)

RETRY_POLICY = RetryPolicy.for_actions()
LOCK_KEY = "tracpro:message-send:{message_id}"
LOCK_TTL = 10 * 60  # longer than one pass over a message's batches can take
BUSY_DELAY = 15  # seconds before trying a message another worker is sending
# The flow start `params` key that carries a batch's idempotency key.
KEY_PARAM = "tracpro_batch"
# How far before a lost attempt RapidPro's records are searched: the two servers'
# clocks may differ by this much (docs/operations.md).
LOOKUP_MARGIN = timedelta(minutes=10)

Status = Message.Status
BatchStatus = MessageBatch.Status


class Wait(Exception):
    """RapidPro asked us to slow down (429): try again in `seconds`."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


class Temporary(Exception):
    """RapidPro could not take the batch now (5xx, timeout, connection)."""


class Refused(Exception):
    """RapidPro (or TracPro's rules) will not take the batch as it is."""


def send(message_id: int) -> float | None:
    """Send what is left of a message. Returns seconds to wait before the next
    attempt, or None once the message is finished (or gone)."""
    lock = redis_client().lock(
        LOCK_KEY.format(message_id=message_id), timeout=LOCK_TTL, blocking=False
    )
    if not lock.acquire():
        return BUSY_DELAY
    try:
        message = (
            Message.objects.select_related("org", "created_by", "pollrun__poll")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.is_finished:
            return None
        with translation.override(message.org.language):
            return _send(message, lock)
    finally:
        release(lock)


def _send(message: Message, lock: Lock) -> float | None:
    refusal = _refusal(message)
    if refusal:
        message.batches.exclude(status=BatchStatus.SENT).update(
            status=BatchStatus.FAILED, error=refusal
        )
        _finish(message)
        return None
    scope = scope_of(message.org, message.created_by)
    client = rapidpro.get_client(message.org)
    if message.status == Status.WAITING:
        _set_status(message, Status.PENDING)
    for batch in message.batches.filter(status=BatchStatus.PENDING).order_by("number"):
        lock.reacquire()  # a long message keeps its lock for as long as it sends
        try:
            _send_batch(client, message, batch, scope)
        except Wait as wait:
            _set_status(
                message,
                Status.WAITING,
                retry_on=timezone.now() + timedelta(seconds=wait.seconds),
                error=_("RapidPro asked TracPro to wait (rate limit); sending continues then."),
            )
            return wait.seconds
        except Temporary as error:
            if batch.attempts >= RETRY_POLICY.max_attempts:
                text = _("RapidPro could not be reached after several attempts: %(error)s")
                _fail(batch, text % {"error": error})
                continue
            _set_status(message, Status.PENDING, error=str(error))
            return RETRY_POLICY.delay(batch.attempts)
        except Refused as refusal:
            _fail(batch, str(refusal))
    _finish(message)
    return None


def _refusal(message: Message) -> str:
    """Why nothing (more) of this message may be sent, or ""."""
    org = message.org
    if not org.is_active or not (org.api_url and org.api_token):
        return _("This organization is not connected to RapidPro.")
    pollrun = message.pollrun
    if message.kind != Message.Kind.REPLY and (pollrun is None or not pollrun.poll.is_active):
        return _("The poll is no longer selected, so nothing more was sent.")
    if scope_of(org, message.created_by) is None:
        return _("The sender can no longer act in this organization, so nothing more was sent.")
    return ""


def _send_batch(
    client: TembaClient, message: Message, batch: MessageBatch, scope: RegionScope | None
) -> None:
    if batch.attempted_on is not None:
        found = _look_up(client, message, batch)
        if found is not None:
            _record_sent(message, batch, found)
            return
    else:
        batch.contact_uuids = _still_reachable(message, batch, scope)
        if not batch.contact_uuids:
            raise Refused(_("The sender may no longer reach these contacts: nothing was sent."))
    batch.attempted_on = timezone.now()
    batch.attempts += 1
    batch.save(update_fields=["contact_uuids", "attempted_on", "attempts"])
    try:
        remote_uuid = _call(client, message, batch)
    except TembaRateExceededError as error:
        _not_received(batch)
        raise Wait(RETRY_POLICY.delay(batch.attempts, error.retry_after)) from error
    except TembaBadRequestError as error:
        _not_received(batch)
        details = " ".join(flatten_errors(error.errors))
        raise Refused(_("RapidPro refused it: %(details)s") % {"details": details}) from error
    except TembaTokenError as error:
        _not_received(batch)
        raise Refused(
            _("RapidPro refused this organization's API token; an administrator must fix it.")
        ) from error
    except TembaNoSuchObjectError as error:
        _not_received(batch)
        raise Refused(_("RapidPro no longer has this flow or contact.")) from error
    except Exception as error:
        if is_retryable(error):
            raise Temporary(describe(error)) from error
        if isinstance(error, TembaException):
            raise Refused(describe(error)) from error
        raise
    _record_sent(message, batch, remote_uuid)


def _still_reachable(message: Message, batch: MessageBatch, scope: RegionScope | None) -> list[str]:
    """The batch's contacts the sender may still reach (in their regions, active)."""
    if scope is None:
        return []
    reachable = set(
        Contact.objects.visible_to(scope)
        .filter(uuid__in=batch.contact_uuids, is_active=True)
        .values_list("uuid", flat=True)
    )
    return [uuid for uuid in batch.contact_uuids if uuid in reachable]


def _call(client: TembaClient, message: Message, batch: MessageBatch) -> str:
    """One request to RapidPro; returns the uuid of what it created."""
    kind = message.kind
    if kind in (Message.Kind.START, Message.Kind.RESTART):
        if message.pollrun is None:  # _refusal stops such a message before any batch
            raise Refused(_("The poll is no longer selected, so nothing more was sent."))
        start = client.create_flow_start(
            message.pollrun.poll.flow_uuid,
            contacts=batch.contact_uuids,
            restart_participants=True,
            params={KEY_PARAM: str(batch.key)},
        )
        return start.uuid
    if kind == Message.Kind.BROADCAST:
        return client.create_broadcast(message.text, contacts=batch.contact_uuids).uuid
    return client.create_message(batch.contact_uuids[0], message.text, []).uuid


def _look_up(client: TembaClient, message: Message, batch: MessageBatch) -> str | None:
    """The uuid of what an earlier attempt of this batch created in RapidPro, if it did."""
    if batch.attempted_on is None:  # never attempted: nothing to find
        return None
    since = batch.attempted_on - LOOKUP_MARGIN
    try:
        if message.kind in (Message.Kind.START, Message.Kind.RESTART):
            return _find_start(client, batch, since)
        contacts = set(batch.contact_uuids)
        if message.kind == Message.Kind.BROADCAST:
            for broadcast in _newest_first(client.get_broadcasts(after=since)):
                texts = (
                    broadcast.text.values()
                    if isinstance(broadcast.text, dict)
                    else [broadcast.text]
                )
                if message.text in texts and {c.uuid for c in broadcast.contacts} == contacts:
                    return broadcast.uuid
            return None
        for folder in ("outbox", "sent", "failed"):
            for sent in _newest_first(client.get_messages(folder=folder, after=since)):
                if sent.contact and sent.contact.uuid in contacts and sent.text == message.text:
                    return sent.uuid
        return None
    except TembaRateExceededError as error:
        raise Wait(RETRY_POLICY.delay(batch.attempts, error.retry_after)) from error
    except TembaException as error:
        raise Temporary(describe(error)) from error


def _find_start(client: TembaClient, batch: MessageBatch, since: datetime) -> str | None:
    # Flow starts come newest-modified first (the client cannot filter them by
    # date), and ours was modified after `since`.
    for page in client.get_flow_starts().iterfetches():
        for start in page:
            if (start.params or {}).get(KEY_PARAM) == str(batch.key):
                return start.uuid
        if not page or all(start.modified_on and start.modified_on < since for start in page):
            return None
    return None


def _newest_first(query) -> Iterator:
    for page in query.iterfetches():
        yield from page


def _record_sent(message: Message, batch: MessageBatch, remote_uuid: str) -> None:
    with transaction.atomic():
        batch.status = BatchStatus.SENT
        batch.remote_uuid = remote_uuid
        batch.sent_on = timezone.now()
        batch.error = ""
        batch.save(update_fields=["status", "remote_uuid", "sent_on", "error"])
        if message.kind in (Message.Kind.START, Message.Kind.RESTART) and message.pollrun:
            _link_start(message.pollrun, remote_uuid, first=message.kind == Message.Kind.START)
    logger.info("message %s: batch %s sent (%s)", message.pk, batch.number, remote_uuid)


def _link_start(pollrun: PollRun, start_uuid: str, first: bool) -> None:
    """Runs of this start belong to the poll date (the runs sync maps them by the
    batch's uuid). If the sync filed some under a poll date of their own before we
    knew the uuid, they are moved over."""
    stray = (
        PollRun.objects.filter(poll=pollrun.poll, start_uuid=start_uuid)
        .exclude(pk=pollrun.pk)
        .first()
    )
    if stray is not None:
        merge_pollrun(stray, pollrun)
    if first and pollrun.start_uuid is None:
        PollRun.objects.filter(pk=pollrun.pk).update(start_uuid=start_uuid)
        pollrun.start_uuid = start_uuid


def _not_received(batch: MessageBatch) -> None:
    """RapidPro answered, refusing: the call created nothing, so no look-up next time."""
    batch.attempted_on = None
    batch.save(update_fields=["attempted_on"])


def _fail(batch: MessageBatch, error: str) -> None:
    batch.status = BatchStatus.FAILED
    batch.error = error
    batch.save(update_fields=["status", "error"])


def _set_status(message: Message, status: str, **fields) -> None:
    message.status = status
    message.retry_on = fields.pop("retry_on", None)
    for name, value in fields.items():
        setattr(message, name, value)
    message.save(update_fields=["status", "retry_on", "updated_on", *fields])


def _finish(message: Message) -> None:
    """Sent, partly sent or failed, from what the batches reached."""
    batches = list(message.batches.all())
    sent = sum(len(b.contact_uuids) for b in batches if b.status == BatchStatus.SENT)
    failed = message.recipient_count - sent
    status = Status.SENT if failed <= 0 else Status.FAILED if sent == 0 else Status.PARTLY_SENT
    errors = [b.error for b in batches if b.status == BatchStatus.FAILED and b.error]
    _set_status(
        message,
        status,
        sent_count=sent,
        failed_count=max(failed, 0),
        error=errors[0] if errors else "",
        finished_on=timezone.now(),
    )
    return None


# Archiving inbox messages ------------------------------------------------------------------


def archive(message_id: int, attempt: int = 1) -> float | None:
    """Archive in RapidPro an inbox message archived in TracPro (message_actions).
    Returns seconds to wait before attempt number `attempt + 1`, or None when done.
    When RapidPro will not archive it, TracPro shows it again, with the reason."""
    message = InboxMessage.objects.select_related("org").filter(pk=message_id).first()
    if message is None or not message.is_archived:
        return None
    with translation.override(message.org.language):
        if message.remote_id is None:
            _undo_archive(
                message,
                _("RapidPro's id of this message is not known yet; try after the next inbox sync."),
            )
            return None
        client = rapidpro.get_client(message.org)
        try:
            client.bulk_archive_messages([message.remote_id])
            remote = client.get_messages(uuid=message.uuid).first()
        except TembaRateExceededError as error:
            return RETRY_POLICY.delay(attempt, error.retry_after)
        except TembaTokenError:
            _undo_archive(
                message,
                _("RapidPro refused this organization's API token; an administrator must fix it."),
            )
            return None
        except Exception as error:
            if not is_retryable(error) and not isinstance(error, TembaException):
                raise
            if is_retryable(error) and attempt < RETRY_POLICY.max_attempts:
                return RETRY_POLICY.delay(attempt)
            _undo_archive(
                message, _("RapidPro did not archive it: %(error)s") % {"error": describe(error)}
            )
            return None
        if remote is not None and remote.visibility != "archived":
            _undo_archive(message, _("RapidPro did not archive it."))
    return None


def _undo_archive(message: InboxMessage, error: str) -> None:
    InboxMessage.objects.filter(pk=message.pk).update(is_archived=False, archive_error=error)
