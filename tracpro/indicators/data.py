"""What an indicator's chart is built from, read within the user's scope.

A fixed number of queries whatever the data size: the poll dates (2), the
follow-up answers and responses per date and region (2, from the rollups
unless a reporter-group or contact-field filter needs the raw answers), and
the baseline's first answers per region (2, see `charts.data.first_answers`).
"""

from collections.abc import Iterator
from datetime import date

from django.utils.translation import gettext as _

from tracpro.charts import regions
from tracpro.charts.data import answer_rows, first_answers, response_rows
from tracpro.charts.filters import Filters
from tracpro.groups.scope import RegionScope
from tracpro.indicators import series
from tracpro.indicators.models import Indicator
from tracpro.polls.models import PollRun

RECENT = 5


def recent_indicators(scope: RegionScope) -> tuple[list[Indicator], dict | None]:
    """The org's most recent indicators, and the first one's chart data for the scope."""
    indicators = list(Indicator.objects.for_org(scope.org).with_questions()[:RECENT])
    if not indicators:
        return [], None
    first = indicators[0]
    return indicators, indicator_data(first, scope, term_filters(first, scope))


def term_filters(indicator: Indicator, scope: RegionScope) -> Filters:
    """The filters of an indicator's own view: its term, everything in the scope."""
    return Filters(start=indicator.start_date, end=indicator.end_date, region_ids=scope.region_ids)


def indicator_data(
    indicator: Indicator, scope: RegionScope, filters: Filters, *, with_spoofed: bool = True
) -> dict:
    """The indicator's series and summary for the filters (which start from the scope)."""
    org = scope.org
    pollruns = PollRun.objects.visible_to(scope).within(filters.start, filters.end)
    if not with_spoofed:
        pollruns = pollruns.real()
    follow_ups = [
        series.PollDate(pk, day, kind == PollRun.Kind.SPOOF)
        for pk, day, kind in pollruns.filter(poll_id=indicator.follow_up_poll_id)
        .order_by("conducted_on", "pk")
        .values_list("pk", "local_date", "kind")
    ]
    baseline_ids = list(
        pollruns.filter(poll_id=indicator.baseline_poll_id).values_list("pk", flat=True)
    )
    follow_up_ids = [d.pk for d in follow_ups]
    chart = series.build(
        follow_ups,
        regions.units(scope.tree, filters.region_ids),
        answer_rows(org, filters, [indicator.follow_up_question_id], follow_up_ids),
        response_rows(org, filters, follow_up_ids),
        first_answers(org, filters, indicator.baseline_question_id, baseline_ids),
        goal=indicator.goal,
    )
    return {**chart, "numeric": filters.numeric, "y_title": indicator.y_axis_title}


def table(chart: dict, mode: str) -> dict:
    """One mode's figures as a table: a row per follow-up date with each series' value
    and the total; the series labels; the baseline."""
    figures = chart["modes"][mode]
    rows = [
        {
            "id": poll_date["id"],
            "day": date.fromisoformat(poll_date["date"]),
            "spoofed": poll_date["spoofed"],
            "cells": [item["data"][index] for item in figures["series"]],
            "total": figures["total"][index],
        }
        for index, poll_date in enumerate(chart["dates"])
    ]
    labels = [item["label"] for item in figures["series"]]
    return {"mode": mode, "labels": labels, "rows": rows, "baseline": figures["baseline"]}


def export_header(chart: dict, mode: str) -> list[str]:
    return [_("Poll date"), _("Spoofed"), *table(chart, mode)["labels"], _("Total"), _("Baseline")]


def export_rows(chart: dict, mode: str) -> Iterator[list]:
    """One row per follow-up date: each series, the total and the baseline (numbers)."""
    figures = table(chart, mode)
    for row in figures["rows"]:
        spoofed = _("Yes") if row["spoofed"] else ""
        yield [row["day"], spoofed, *row["cells"], row["total"], figures["baseline"]]
