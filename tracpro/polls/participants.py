"""Who took part in a poll date (the contacts behind its responses, by status), and
what one contact answered.

Messages to a poll date's respondents or non-respondents, and restarts, are sent
to `participants` (tracpro.rapidpro.actions).
"""

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from tracpro.contacts.models import Contact
from tracpro.groups.scope import RegionScope
from tracpro.polls.models import Answer, PollRun, Response


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


def contact_responses(contact: Contact) -> QuerySet[Response]:
    """The contact's latest response per poll date, for selected polls, newest
    first, with the answers to questions that are shown (spoofed dates only while
    the org shows spoof data)."""
    answers = Answer.objects.filter(question__is_active=True).select_related("question")
    responses = Response.objects.filter(
        contact=contact, is_active=True, pollrun__poll__is_active=True
    )
    if not contact.org.show_spoof_data:
        responses = responses.exclude(pollrun__kind=PollRun.Kind.SPOOF)
    return (
        responses.select_related("pollrun__poll")
        .prefetch_related(
            Prefetch("answers", queryset=answers.order_by("question__order", "question__pk"))
        )
        .order_by("-pollrun__conducted_on", "-pk")
    )
