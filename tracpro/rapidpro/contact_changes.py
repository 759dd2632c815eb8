"""Contact writes. Every change is saved as "pending" and pushed to RapidPro by a
background task once the transaction commits (tracpro.rapidpro.tasks.push_contact).

Changes to an existing contact run inside `tracking_contacts`, so the chart
rollups follow a contact that moves region or is removed.
"""

from collections.abc import Iterable

from django.db import transaction

from tracpro.accounts.models import User
from tracpro.contacts.models import Contact, PushStatus
from tracpro.groups.models import ReporterGroup
from tracpro.polls.rollups import tracking_contacts
from tracpro.rapidpro.tasks import push_contact


def save_contact(contact: Contact, reporter_groups: Iterable[ReporterGroup], user: User) -> None:
    """Create or update a contact locally and queue its push."""
    with transaction.atomic():
        if contact.pk is None:
            contact.created_by = user
            contact.modified_by = user
            mark_pending(contact)
            contact.save()
            contact.reporter_groups.set(reporter_groups)
        else:
            # The rollups split by region and by reporter group.
            with tracking_contacts(contact.org, [contact.pk]):
                contact.modified_by = user
                mark_pending(contact)
                contact.save()
                contact.reporter_groups.set(reporter_groups)
        queue_push(contact)


def remove_contact(contact: Contact, user: User) -> None:
    """Deactivate locally (its answers leave the charts); the push deletes it in RapidPro."""
    with transaction.atomic(), tracking_contacts(contact.org, [contact.pk]):
        contact.is_active = False
        contact.modified_by = user
        mark_pending(contact)
        contact.save()
        queue_push(contact)


def retry_push(contact: Contact, user: User) -> None:
    """Try again a push that failed (or seems stuck)."""
    with transaction.atomic():
        contact.modified_by = user
        mark_pending(contact)
        contact.save(update_fields=["push_status", "push_error", "modified_by", "modified_on"])
        queue_push(contact)


def mark_pending(contact: Contact) -> None:
    contact.push_status = PushStatus.PENDING
    contact.push_error = ""


def queue_push(contact: Contact) -> None:
    # Robust: if the broker is down the change is still saved, and the periodic
    # requeue of stale pushes sends it later.
    transaction.on_commit(lambda: push_contact.delay(contact.pk), robust=True)
