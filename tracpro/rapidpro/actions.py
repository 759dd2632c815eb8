"""Acting on RapidPro for a user: start a poll, message a poll date's contacts,
restart it, reply to a contact, archive an inbox message.

Each service checks the request again (the scope, the poll, the text, the
audience), records what will be sent (a `Message` with its recipients and batches)
inside one transaction, and queues the task that sends it once the transaction
commits (tracpro.rapidpro.tasks -> tracpro.rapidpro.sending). Nothing here calls
RapidPro: the request never waits for it. A refusal raises `ActionRefused` with a
message for the user, and records nothing.
"""

import uuid
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tracpro.accounts.models import User
from tracpro.contacts.models import Contact
from tracpro.groups.models import Region
from tracpro.groups.scope import RegionScope
from tracpro.msgs.models import BATCH_SIZE, MAX_TEXT_LENGTH, InboxMessage, Message, MessageBatch
from tracpro.orgs.models import Org
from tracpro.polls.models import Poll, PollRun, ResponseStatus
from tracpro.polls.participants import participants
from tracpro.rapidpro import tasks

Audience = Message.Audience
# The responses on a poll date whose contacts each audience reaches.
AUDIENCE_STATUSES: dict[str, tuple[ResponseStatus, ...]] = {
    Audience.ALL: (ResponseStatus.EMPTY, ResponseStatus.PARTIAL, ResponseStatus.COMPLETE),
    Audience.RESPONDENTS: (ResponseStatus.COMPLETE,),
    Audience.NON_RESPONDENTS: (ResponseStatus.EMPTY,),
    Audience.INCOMPLETE: (ResponseStatus.PARTIAL,),
    Audience.NOT_COMPLETE: (ResponseStatus.EMPTY, ResponseStatus.PARTIAL),
}
# Whom a message from a poll date may go to.
POLL_DATE_AUDIENCES = (
    Audience.NON_RESPONDENTS,
    Audience.INCOMPLETE,
    Audience.RESPONDENTS,
    Audience.ALL,
)


class ActionRefused(Exception):
    """TracPro will not send this; the message says why, for the user."""


# Audiences (counted before the user confirms, and sent to) ----------------------------


def start_audience(
    scope: RegionScope, region: Region | None, include_subregions: bool = True
) -> QuerySet[Contact]:
    """The contacts a start reaches: those of the region (and its sub-regions) in the
    scope, or everyone in the scope; only active contacts RapidPro knows."""
    contacts = Contact.objects.visible_to(scope).filter(is_active=True, uuid__isnull=False)
    if region is not None:
        region_ids = scope.tree.subtree([region.pk]) if include_subregions else {region.pk}
        contacts = contacts.filter(region_id__in=region_ids)
    return contacts.order_by("pk")


def poll_date_audience(scope: RegionScope, pollrun: PollRun, audience: str) -> QuerySet[Contact]:
    """The contacts of a poll date in the scope that `audience` names (nobody for a
    spoofed date: its answers never came from RapidPro)."""
    if pollrun.is_spoofed:
        return Contact.objects.none()
    return participants(pollrun, scope, AUDIENCE_STATUSES[audience])


# Services ----------------------------------------------------------------------------------


def start_poll(
    scope: RegionScope,
    user: User,
    poll: Poll,
    region: Region | None,
    include_subregions: bool = True,
    request_key: uuid.UUID | None = None,
) -> Message:
    """Start `poll` for a region (None: the whole org, admins only). The poll date
    exists at once, pending, and fills with answers once RapidPro has started it."""
    org = scope.org
    if (existing := _checked(org, request_key, poll)) is not None:
        return existing
    if region is None and not scope.is_admin:
        raise ActionRefused(_("Only administrators can start a poll for the whole organization."))
    if region is not None and not scope.allows(region.pk):
        raise ActionRefused(_("You cannot start a poll for %(region)s.") % {"region": region})
    contacts = list(start_audience(scope, region, include_subregions).values_list("pk", "uuid"))
    if not contacts:
        raise ActionRefused(_("No contact there is known to RapidPro yet: nobody to start."))
    now = timezone.now()
    with transaction.atomic():
        pollrun = PollRun.objects.create(
            poll=poll,
            kind=PollRun.Kind.START,
            conducted_on=now,
            local_date=org.local_date(now),
            region=region,
            created_by=user,
        )
        return _record(
            org,
            user,
            contacts,
            request_key,
            kind=Message.Kind.START,
            audience=Audience.REGION,
            pollrun=pollrun,
            region=region,
            include_subregions=include_subregions,
        )


def send_to_poll_date(
    scope: RegionScope,
    user: User,
    pollrun: PollRun,
    audience: str,
    text: str,
    request_key: uuid.UUID | None = None,
) -> Message:
    """Message a poll date's respondents, non-respondents, incomplete or everyone."""
    org = scope.org
    if (existing := _checked(org, request_key, pollrun.poll)) is not None:
        return existing
    if audience not in POLL_DATE_AUDIENCES:
        raise ActionRefused(_("Choose whom to send the message to."))
    text = clean_text(text)
    contacts = list(poll_date_audience(scope, pollrun, audience).values_list("pk", "uuid"))
    if not contacts:
        raise ActionRefused(_("Nobody in view is in this audience: nothing to send."))
    return _record(
        org,
        user,
        contacts,
        request_key,
        kind=Message.Kind.BROADCAST,
        audience=audience,
        text=text,
        pollrun=pollrun,
        **_region_choice(scope),
    )


def restart_poll_date(
    scope: RegionScope, user: User, pollrun: PollRun, request_key: uuid.UUID | None = None
) -> Message:
    """Start the poll again for the contacts of a poll date who did not complete it;
    their new runs land on the same date."""
    org = scope.org
    if (existing := _checked(org, request_key, pollrun.poll)) is not None:
        return existing
    audience = Audience.NOT_COMPLETE
    contacts = list(poll_date_audience(scope, pollrun, audience).values_list("pk", "uuid"))
    if not contacts:
        raise ActionRefused(_("Everyone in view completed this poll: nobody to restart."))
    return _record(
        org,
        user,
        contacts,
        request_key,
        kind=Message.Kind.RESTART,
        audience=audience,
        pollrun=pollrun,
        **_region_choice(scope),
    )


def reply(
    scope: RegionScope,
    user: User,
    contact: Contact,
    text: str,
    request_key: uuid.UUID | None = None,
) -> Message:
    """Reply to a contact from their conversation; their messages so far count as
    answered."""
    org = scope.org
    if (existing := _checked(org, request_key)) is not None:
        return existing
    text = clean_text(text)
    if not contact.uuid or not contact.is_active:
        raise ActionRefused(_("RapidPro does not know this contact yet: it cannot be messaged."))
    if not Contact.objects.visible_to(scope).filter(pk=contact.pk).exists():
        raise ActionRefused(_("This contact is not in your regions."))
    now = timezone.now()
    with transaction.atomic():
        message = _record(
            org,
            user,
            [(contact.pk, contact.uuid)],
            request_key,
            kind=Message.Kind.REPLY,
            audience=Audience.CONTACT,
            text=text,
            contact=contact,
            region=contact.region,
            include_subregions=False,
        )
        InboxMessage.objects.filter(contact=contact, created_on__lte=now).unanswered().update(
            replied_on=now
        )
        return message


def retry(message: Message) -> None:
    """Send again what failed: a failed batch that may have reached RapidPro is looked
    up first (tracpro.rapidpro.sending), so nothing goes out twice."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if locked.status not in (Message.Status.FAILED, Message.Status.PARTLY_SENT):
            return
        locked.batches.filter(status=MessageBatch.Status.FAILED).update(
            status=MessageBatch.Status.PENDING, error="", attempts=0
        )
        locked.status = Message.Status.PENDING
        locked.error = ""
        locked.finished_on = None
        locked.save(update_fields=["status", "error", "finished_on", "updated_on"])
        queue(locked)


def archive(scope: RegionScope, message: InboxMessage) -> None:
    """Archive an inbox message here at once, and in RapidPro by a task (admins only)."""
    if not scope.is_admin:
        raise ActionRefused(_("Only administrators can archive messages."))
    with transaction.atomic():
        InboxMessage.objects.filter(pk=message.pk).update(is_archived=True, archive_error="")
        transaction.on_commit(lambda: tasks.archive_inbox_message.delay(message.pk), robust=True)


# Checks and recording ---------------------------------------------------------------------


def clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ActionRefused(_("Write the message first."))
    if len(text) > MAX_TEXT_LENGTH:
        raise ActionRefused(
            _("RapidPro accepts at most %(max)d characters; this message has %(length)d.")
            % {"max": MAX_TEXT_LENGTH, "length": len(text)}
        )
    return text


def _checked(org: Org, request_key: uuid.UUID | None, poll: Poll | None = None) -> Message | None:
    """The message this very form already recorded (a second submission), else None
    once the checks every action needs have passed: the org can reach RapidPro,
    the poll is still selected."""
    if request_key is not None:
        existing = Message.objects.for_org(org).filter(request_key=request_key).first()
        if existing is not None:
            return existing
    if not (org.api_url and org.api_token):
        raise ActionRefused(_("This organization is not connected to RapidPro yet."))
    if poll is not None and not poll.is_active:
        raise ActionRefused(_("%(poll)s is no longer selected as a poll.") % {"poll": poll})
    return None


def _region_choice(scope: RegionScope) -> dict:
    """The region switcher's choice, recorded with what is sent from a page."""
    return {"region": scope.current, "include_subregions": scope.include_subregions}


def _record(
    org: Org,
    user: User,
    contacts: Iterable[tuple[int, str | None]],  # (pk, uuid): audiences have only known uuids
    request_key: uuid.UUID | None,
    **fields,
) -> Message:
    """The message, its recipients and its batches, in one transaction; its task
    queued on commit."""
    contacts = list(contacts)
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    org=org,
                    created_by=user,
                    recipient_count=len(contacts),
                    request_key=request_key,
                    **fields,
                )
        except IntegrityError:  # the same form, submitted twice at the same moment
            return Message.objects.get(org=org, request_key=request_key)
        Message.recipients.through.objects.bulk_create(
            [Message.recipients.through(message=message, contact_id=pk) for pk, _uuid in contacts],
            batch_size=2000,
        )
        MessageBatch.objects.bulk_create(
            MessageBatch(
                message=message,
                number=number,
                contact_uuids=[ref for _pk, ref in contacts[start : start + BATCH_SIZE]],
            )
            for number, start in enumerate(range(0, len(contacts), BATCH_SIZE), start=1)
        )
        queue(message)
    return message


def queue(message: Message) -> None:
    # Robust: with the broker down the message stays pending, and the periodic
    # requeue of stale messages sends it later.
    transaction.on_commit(lambda: tasks.send_message.delay(message.pk), robust=True)
