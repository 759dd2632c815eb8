"""Push local contact changes to RapidPro: create, update, delete.

Supervisors edit contacts in TracPro (tracpro.rapidpro.contact_changes);
`tracpro.rapidpro.tasks.push_contact` then calls `push_contact(contact_id)` in a
worker. It makes RapidPro match the local contact and records the outcome on it:

- synced: RapidPro has the change (a create adopts the uuid RapidPro assigns);
- failed: RapidPro refused it (URN in use, unknown field...), with a readable
  `push_error` in the org's language;
- still pending: a temporary problem (5xx, 429, no connection) raises
  `TemporaryPushError`, and the task retries after `RETRY_POLICY.delay(...)`
  (its Retry-After, or exponential backoff).

Pushes of one contact never overlap (a Redis lock), and the outcome is only
recorded if nobody edited the contact meanwhile: a newer edit has its own push
queued, which sends the newer values.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

import requests
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaConnectionError,
    TembaHttpError,
    TembaNoSuchObjectError,
    TembaRateExceededError,
    TembaTokenError,
)
from temba_client.v2 import TembaClient
from temba_client.v2.types import Contact as RemoteContact

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tracpro.contacts.models import Contact, DataField, PushStatus
from tracpro.groups.models import Region, ReporterGroup
from tracpro.groups.scope import RegionScope
from tracpro.groups.tree import RegionTree
from tracpro.orgs.access import get_membership, is_admin
from tracpro.orgs.tasks import redis_client, release
from tracpro.polls.models import Answer
from tracpro.polls.rollups import tracking_contacts
from tracpro.rapidpro import client as rapidpro
from tracpro.rapidpro.retry import RetryPolicy, http_status

logger = logging.getLogger(__name__)

RETRY_POLICY = RetryPolicy.for_pushes()
MAX_RETRIES = RETRY_POLICY.max_attempts - 1  # before a contact is marked failed
LOCK_KEY = "tracpro:contact-push:{contact_id}"
LOCK_TTL = 5 * 60  # longer than one push can take


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing pending (already pushed, or the contact is gone)
    BUSY = "busy"  # another worker is pushing this contact right now


class TemporaryPushError(Exception):
    """RapidPro could not take the change now; worth trying again later."""

    def __init__(self, message: str, seen_modified_on: datetime, retry_after: int = 0):
        super().__init__(message)
        self.seen_modified_on = seen_modified_on
        self.retry_after = retry_after


class RefusedPush(Exception):
    """RapidPro will not take the change as it is; the message says why."""


def push_contact(contact_id: int) -> str:
    """Make RapidPro match one pending contact. Returns an `Outcome`."""
    lock = redis_client().lock(
        LOCK_KEY.format(contact_id=contact_id), timeout=LOCK_TTL, blocking=False
    )
    if not lock.acquire():
        return Outcome.BUSY
    try:
        return _push_locked(contact_id)
    finally:
        release(lock)


def give_up(contact_id: int, error: TemporaryPushError) -> None:
    """After the last retry: the contact is failed, with the last error."""
    contact = Contact.objects.select_related("org").filter(pk=contact_id).first()
    if contact is None:
        return
    with translation.override(contact.org.language):
        message = _("RapidPro could not be reached after several attempts: %(error)s") % {
            "error": error
        }
    _record(contact, error.seen_modified_on, PushStatus.FAILED, message)


def _push_locked(contact_id: int) -> str:
    contact = (
        Contact.objects.select_related("org", "region")
        .prefetch_related("reporter_groups")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None or contact.push_status != PushStatus.PENDING:
        return Outcome.SKIPPED
    seen = contact.modified_on
    client = rapidpro.get_client(contact.org)
    with translation.override(contact.org.language):
        try:
            pushed = _apply(client, contact)
        except RefusedPush as refusal:
            _record(contact, seen, PushStatus.FAILED, str(refusal))
            return Outcome.FAILED
        except TembaRateExceededError as error:
            raise TemporaryPushError(str(error), seen, error.retry_after) from error
        except (TembaConnectionError, requests.RequestException) as error:
            raise TemporaryPushError(str(error.__context__ or error), seen) from error
        except TembaHttpError as error:
            if (http_status(error) or 0) >= 500:
                raise TemporaryPushError(str(error), seen) from error
            _record(contact, seen, PushStatus.FAILED, _("RapidPro answered: %s") % error)
            return Outcome.FAILED
    # The mirror now knows the contact's groups, as the sync would after its next pull.
    groups = {} if pushed.group_uuids is None else {"group_uuids": sorted(pushed.group_uuids)}
    _record(contact, seen, PushStatus.SYNCED, "", **groups)
    logger.info("contact %s %s in RapidPro", contact.pk, pushed.outcome)
    return pushed.outcome


@dataclass(frozen=True)
class Pushed:
    outcome: str
    # The RapidPro groups the contact is now in (None once deleted).
    group_uuids: frozenset[str] | None = None


def _apply(client: TembaClient, contact: Contact) -> Pushed:
    """The RapidPro calls for one contact; errors RapidPro gives for the data
    itself become `RefusedPush`."""
    try:
        if not contact.is_active:
            return _delete(client, contact)
        if contact.uuid is None:
            return _create(client, contact)
        return _update(client, contact)
    except TembaBadRequestError as error:
        if contact.uuid is None:
            Contact.objects.filter(pk=contact.pk).update(create_sent_on=None)
        raise RefusedPush(readable_error(error, contact)) from error
    except TembaTokenError as error:
        raise RefusedPush(
            _("RapidPro refused this organization's API token; an administrator must fix it.")
        ) from error
    except TembaNoSuchObjectError as error:
        raise RefusedPush(_("This contact no longer exists in RapidPro.")) from error


def _create(client: TembaClient, contact: Contact) -> Pushed:
    if contact.create_sent_on is not None:
        # An earlier create may have reached RapidPro without us hearing back.
        existing = client.get_contacts(urn=contact.urn).first()
        if existing is not None:
            if not may_adopt(contact, existing):
                raise RefusedPush(
                    _(
                        "RapidPro already has a contact with %(urn)s outside the regions of "
                        "the person who added this one; an administrator must resolve it."
                    )
                    % {"urn": contact.urn}
                )
            adopt_uuid(contact, existing.uuid)
            return Pushed(Outcome.CREATED, _update(client, contact, existing).group_uuids)
    Contact.objects.filter(pk=contact.pk).update(create_sent_on=timezone.now())
    payload = ContactPayload.build(contact, remote=None)
    remote = client.create_contact(**payload.create_kwargs())
    adopt_uuid(contact, remote.uuid)
    return Pushed(Outcome.CREATED, frozenset(payload.groups))


def _update(client: TembaClient, contact: Contact, remote: RemoteContact | None = None) -> Pushed:
    if remote is None:
        remote = client.get_contacts(uuid=contact.uuid).first()
        if remote is None:
            raise TembaNoSuchObjectError()
    payload = ContactPayload.build(contact, remote)
    changes = payload.changes_from(remote)
    if changes:
        client.update_contact(contact.uuid, **changes)
    outcome = Outcome.UPDATED if changes else Outcome.UNCHANGED
    return Pushed(outcome, frozenset(payload.groups))


def _delete(client: TembaClient, contact: Contact) -> Pushed:
    if contact.uuid is not None:  # else it never reached RapidPro
        with contextlib.suppress(TembaNoSuchObjectError):  # already gone
            client.delete_contact(contact.uuid)
    return Pushed(Outcome.DELETED)


def may_adopt(contact: Contact, remote: RemoteContact) -> bool:
    """Whether the RapidPro contact found by URN, after a create whose answer was
    lost, may become this contact: only if it lies within the regions of the person
    who created the contact (its region groups in RapidPro and, when the sync has
    mirrored it already, its region here). Otherwise a supervisor could take over
    another region's contact and its history by typing its number."""
    creator = contact.created_by
    membership = get_membership(creator, contact.org) if creator else None
    if creator is None or is_admin(creator, membership):
        return True  # an admin sees every region (no creator: nobody to limit)
    if membership is None:
        return False
    scope = RegionScope.build(
        contact.org,
        is_admin=False,
        assigned_ids=membership.regions.values_list("pk", flat=True),
    )
    group_uuids = [group.uuid for group in remote.groups or []]
    regions = set(
        Region.objects.for_org(contact.org)
        .filter(uuid__in=group_uuids)
        .values_list("pk", flat=True)
    )
    mirrored = Contact.objects.filter(org=contact.org, uuid=remote.uuid).exclude(pk=contact.pk)
    regions |= set(mirrored.values_list("region_id", flat=True))
    return bool(regions) and all(scope.allows(region_id) for region_id in regions)


def adopt_uuid(contact: Contact, uuid: str) -> None:
    """Give the local contact the uuid RapidPro assigned. If the sync already
    mirrored that RapidPro contact as a separate row, that twin is merged in."""
    twin = Contact.objects.filter(org=contact.org_id, uuid=uuid).exclude(pk=contact.pk).first()
    with transaction.atomic():
        if twin is not None:
            with tracking_contacts(contact.org, [contact.pk, twin.pk]):
                twin.responses.update(contact=contact)
                # Answers keep a copy of their response's contact; left on the twin,
                # its deletion would cascade to them.
                Answer.objects.filter(contact=twin).update(contact=contact)
                twin.inbox_messages.update(contact=contact)
                twin.delete()
        Contact.objects.filter(pk=contact.pk).update(uuid=uuid, create_sent_on=None)
    contact.uuid = uuid


def _record(contact: Contact, seen: datetime, status: str, error: str, **fields) -> None:
    """Store the outcome, unless the contact was edited after we read it."""
    Contact.objects.filter(pk=contact.pk, modified_on=seen).update(
        push_status=status, push_error=error, **fields
    )


@dataclass(frozen=True)
class ContactPayload:
    """What RapidPro should hold for a contact."""

    name: str
    language: str | None
    urns: list[str]
    fields: dict[str, str | None]
    groups: set[str]

    @classmethod
    def build(cls, contact: Contact, remote: RemoteContact | None) -> "ContactPayload":
        return cls(
            name=contact.name,
            language=contact.language or None,
            urns=_urns(contact, remote),
            fields=_fields(contact),
            groups=_groups(contact, remote),
        )

    def create_kwargs(self) -> dict:
        return {
            "name": self.name,
            "language": self.language,
            "urns": self.urns,
            "fields": {key: value for key, value in self.fields.items() if value},
            "groups": sorted(self.groups),
        }

    def changes_from(self, remote: RemoteContact) -> dict:
        """Only what differs, so an unchanged contact costs no write."""
        changes: dict = {}
        if self.name != (remote.name or ""):
            changes["name"] = self.name
        if self.language and self.language != remote.language:
            changes["language"] = self.language
        if self.urns != list(remote.urns or []):
            changes["urns"] = self.urns
        remote_fields = remote.fields or {}
        fields = {
            key: value
            for key, value in self.fields.items()
            if (value or None) != (remote_fields.get(key) or None)
        }
        if fields:
            changes["fields"] = fields
        if self.groups != {group.uuid for group in remote.groups or []}:
            changes["groups"] = sorted(self.groups)
        return changes


def _urns(contact: Contact, remote: RemoteContact | None) -> list[str]:
    """TracPro edits one URN (the one it shows): it replaces RapidPro's first URN
    and leaves the contact's other URNs alone."""
    existing = list(remote.urns or []) if remote is not None else []
    if contact.urn in existing:
        return existing
    return [contact.urn, *existing[1:]]


def _fields(contact: Contact) -> dict[str, str | None]:
    """The contact fields TracPro edits (facility code and the visible fields)."""
    keys = [field.key for field in DataField.objects.shown_on_contacts(contact.org)]
    return {key: (contact.fields.get(key) or None) for key in keys}


def _groups(contact: Contact, remote: RemoteContact | None) -> set[str]:
    """The contact's region and reporter groups replace the TracPro-managed groups
    it is in; RapidPro groups TracPro does not manage are kept."""
    org = contact.org
    managed = set(Region.objects.for_org(org).active().values_list("uuid", flat=True))
    managed |= set(ReporterGroup.objects.for_org(org).active().values_list("uuid", flat=True))
    current = {group.uuid for group in remote.groups or []} if remote is not None else set()
    wanted = {group.uuid for group in contact.reporter_groups.all() if group.is_active}
    region = contact.region
    if region is not None and region.is_active:
        wanted.add(region.uuid)
        # Some orgs put contacts in their region's parent groups too (Kampala and
        # Central); keep doing so for contacts that were in more than one region.
        region_uuids = set(Region.objects.for_org(org).active().values_list("uuid", flat=True))
        if len(current & region_uuids) > 1:
            wanted |= {ancestor.uuid for ancestor in RegionTree.load(org).lineage(region.pk)}
    return (current - managed) | wanted


def readable_error(error: TembaBadRequestError, contact: Contact) -> str:
    """RapidPro's 400 errors, said for the person who edited the contact."""
    messages = flatten_errors(error.errors)
    text = " ".join(messages)
    if "in use" in text and "URN" in text:
        return _("RapidPro already has another contact with %(urn)s.") % {"urn": contact.urn}
    if "Invalid URN" in text:
        return _("RapidPro does not accept %(urn)s: %(details)s") % {
            "urn": contact.urn,
            "details": text,
        }
    if "field" in text.lower() and "key" in text.lower():
        return _("RapidPro does not know one of the contact fields: %(details)s") % {
            "details": text
        }
    return _("RapidPro refused the change: %(details)s") % {"details": text}


def flatten_errors(errors: object) -> list[str]:
    """RapidPro nests errors: {"urns": {"0": ["Invalid URN: x"]}, "fields": ["..."]}."""
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in flatten_errors(value)]
    if isinstance(errors, list | tuple):
        return [message for value in errors for message in flatten_errors(value)]
    return [str(errors)]
