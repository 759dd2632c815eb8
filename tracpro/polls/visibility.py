"""Which polls, poll dates and questions a request may see.

Dashboards show the org's selected polls. A poll date that a user started for
one region (a later feature) is seen by users whose scope includes that
region, one of its sub-regions or one of its ancestors; org-wide poll dates
(no region) by everyone.
"""

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from tracpro.charts.regions import RegionTree
from tracpro.groups.scope import get_scope
from tracpro.polls.models import Poll, PollRun, Question


def selected_polls(request: HttpRequest) -> QuerySet[Poll]:
    return Poll.objects.for_org(request.org).active()


def visible_pollruns(request: HttpRequest) -> QuerySet[PollRun]:
    pollruns = PollRun.objects.for_org(request.org).filter(poll__is_active=True)
    region_ids = get_scope(request).region_ids
    if region_ids is None:
        return pollruns
    related = region_ids | RegionTree.for_request(request).ancestors(region_ids)
    return pollruns.filter(Q(region__isnull=True) | Q(region_id__in=related))


def get_poll(request: HttpRequest, pk: int) -> Poll:
    return get_object_or_404(selected_polls(request), pk=pk)


def get_pollrun(request: HttpRequest, pk: int) -> PollRun:
    return get_object_or_404(visible_pollruns(request).select_related("poll", "region"), pk=pk)


def shown_questions(poll: Poll) -> list[Question]:
    """The questions admins left shown, in flow order."""
    return list(poll.questions.filter(is_active=True).order_by("order", "pk"))
