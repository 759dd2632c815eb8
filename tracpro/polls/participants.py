"""Who took part in a poll date: the contacts behind its responses, by status.

Messages to a poll date's respondents or non-respondents, and restarts, are sent
to these contacts (tracpro.rapidpro.actions).
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from tracpro.contacts.models import Contact
from tracpro.groups.scope import RegionScope
from tracpro.polls.models import PollRun, Response


def participants(
    pollrun: PollRun, scope: RegionScope, statuses: Iterable[str]
) -> QuerySet[Contact]:
    """Active contacts in the scope whose latest response on this date has one of
    `statuses`, and that RapidPro knows (a uuid)."""
    responses = Response.objects.filter(
        pollrun=pollrun, is_active=True, status__in=list(statuses)
    ).values("contact_id")
    return (
        Contact.objects.visible_to(scope)
        .filter(is_active=True, uuid__isnull=False, pk__in=responses)
        .order_by("pk")
    )
