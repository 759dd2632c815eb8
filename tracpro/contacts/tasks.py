"""Background pushes of contact changes to RapidPro (see tracpro.rapidpro.push)."""

import logging
from datetime import timedelta

from celery import shared_task

from django.utils import timezone

from tracpro.contacts.models import Contact, PushStatus
from tracpro.rapidpro import push

logger = logging.getLogger(__name__)

BUSY_DELAY = 10  # seconds before trying a contact another worker is pushing
STALE_AFTER = timedelta(minutes=30)


@shared_task(
    bind=True,
    name="tracpro.contacts.tasks.push_contact",
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


@shared_task(name="tracpro.contacts.tasks.requeue_stale_pushes", ignore_result=True)
def requeue_stale_pushes() -> int:
    """Queue again pushes whose task was lost (a worker killed, the broker down)."""
    cutoff = timezone.now() - STALE_AFTER
    stale = Contact.objects.filter(push_status=PushStatus.PENDING, modified_on__lt=cutoff)
    contact_ids = list(stale.values_list("pk", flat=True)[:1000])
    for contact_id in contact_ids:
        push_contact.delay(contact_id)
    return len(contact_ids)
