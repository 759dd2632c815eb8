"""What the home page summarises: polls and their latest dates, and where
people answered most over the last days. All of it within the region scope."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from tracpro.charts.data import group_response_rows, response_rows
from tracpro.charts.filters import Filters
from tracpro.groups.models import ReporterGroup
from tracpro.groups.scope import RegionScope
from tracpro.polls.models import Poll, PollRun, ResponseStatus

ACTIVITY_DAYS = 30
TOP = 5
RECENT_DATES = 5


@dataclass(frozen=True)
class DateFigures:
    pollrun: PollRun
    participants: int
    complete: int
    partial: int

    @property
    def responded(self) -> int:
        return self.complete + self.partial

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.responded / self.participants, 1) if self.participants else None


@dataclass(frozen=True)
class PollFigures:
    poll: Poll
    latest: DateFigures | None


@dataclass(frozen=True)
class Ranked:
    name: str
    responses: int


def scope_filters(scope: RegionScope) -> Filters:
    return Filters(region_ids=scope.region_ids)


def date_figures(scope: RegionScope, pollruns: Sequence[PollRun]) -> list[DateFigures]:
    counts: dict[int, Counter] = defaultdict(Counter)
    rows = response_rows(scope.org, scope_filters(scope), [p.pk for p in pollruns])
    for row in rows:
        counts[row.pollrun_id][row.status] += row.count
    return [
        DateFigures(
            pollrun,
            sum(counts[pollrun.pk].values()),
            counts[pollrun.pk][ResponseStatus.COMPLETE],
            counts[pollrun.pk][ResponseStatus.PARTIAL],
        )
        for pollrun in pollruns
    ]


def polls_with_latest_dates(scope: RegionScope) -> tuple[list[PollFigures], list[DateFigures]]:
    """Every poll with its latest date, and the latest dates of all polls."""
    polls = list(Poll.objects.selected(scope.org).order_by("name", "rapidpro_name"))
    pollruns = PollRun.objects.visible_to(scope)
    latest_per_poll = list(pollruns.order_by("poll_id", "-conducted_on", "-pk").distinct("poll_id"))
    recent = list(pollruns.order_by("-conducted_on", "-pk")[:RECENT_DATES])
    figures = {
        figure.pollrun.pk: figure
        for figure in date_figures(
            scope, list({p.pk: p for p in latest_per_poll + recent}.values())
        )
    }
    latest = {pollrun.poll_id: figures[pollrun.pk] for pollrun in latest_per_poll}
    polls_by_pk = {poll.pk: poll for poll in polls}
    for pollrun in recent:
        pollrun.poll = polls_by_pk.get(pollrun.poll_id, pollrun.poll)
    return (
        [PollFigures(poll, latest.get(poll.pk)) for poll in polls],
        [figures[pollrun.pk] for pollrun in recent],
    )


def recent_pollrun_ids(scope: RegionScope) -> list[int]:
    since = timezone.localdate(timezone=scope.org.tz) - timedelta(days=ACTIVITY_DAYS - 1)
    pollruns = PollRun.objects.visible_to(scope).filter(local_date__gte=since)
    return list(pollruns.values_list("pk", flat=True))


def most_active_regions(scope: RegionScope, pollrun_ids: list[int]) -> list[Ranked]:
    """Regions with the most responses (partial or complete) in the last 30 days."""
    totals: Counter = Counter()
    for row in response_rows(scope.org, scope_filters(scope), pollrun_ids):
        if row.status != ResponseStatus.EMPTY and row.region_id is not None:
            totals[row.region_id] += row.count
    return [Ranked(scope.tree.path(pk), count) for pk, count in totals.most_common(TOP) if count]


def most_active_groups(scope: RegionScope, pollrun_ids: list[int]) -> list[Ranked]:
    """Reporter groups with the most responses (partial or complete) in the last 30 days."""
    if not pollrun_ids:
        return []
    names = dict(ReporterGroup.objects.for_org(scope.org).active().values_list("pk", "name"))
    totals: Counter = Counter()
    for group_id, status, count in group_response_rows(
        scope.org, scope_filters(scope), pollrun_ids
    ):
        if status != ResponseStatus.EMPTY and group_id in names:
            totals[group_id] += count
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return [Ranked(names[pk], count) for pk, count in ranked if count]
