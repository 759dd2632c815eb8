"""Chart data for a poll across its dates (the poll page), and for one date
(a poll date's Summary tab). Library-neutral JSON: labels, series, numbers.

Multi-date definitions (kept from the original TracPro):
- numeric, per date: the sum and the average of the answers' numbers, and the
  response rate = 100 x answers / active responses (empty ones included);
  summary: the mean and the standard deviation of the per-date averages and
  the mean of the per-date rates, a date without answers counting as 0;
- categorical, per date: each category's share of the answers, plus totals; with
  the question's `show_no_response`, contacts who got the poll date but did not
  answer the question (its active responses minus its answers) are a share of
  their own, marked `no_response` (a timeout is never an answer, so they are in it);
- open-ended: a word cloud (loaded separately, see `poll_word_clouds`).
Single-date: a histogram of the numbers (mean, standard deviation, rate),
category counts and shares, a word cloud. Every question can have a map.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tracpro.charts import regions
from tracpro.charts.data import AnswerRow, ResponseRow, answer_rows, response_rows
from tracpro.charts.filters import Filters
from tracpro.charts.histograms import number_bins
from tracpro.charts.maps import boundary_features, map_areas
from tracpro.charts.regions import Unit, unit_lookup
from tracpro.charts.tally import Tally, category_order, mean, percent, pstdev, rounded
from tracpro.charts.words import word_clouds
from tracpro.groups.tree import RegionTree
from tracpro.orgs.models import Org
from tracpro.polls.models import PollRun, Question, QuestionType

ALL = "all"


@dataclass
class ChartInput:
    """Everything a page's charts are built from, fetched once."""

    org: Org
    filters: Filters
    tree: RegionTree
    questions: Sequence[Question]
    pollruns: Sequence[PollRun]
    answers: dict[int, list[AnswerRow]] = field(default_factory=dict)
    responses: list[ResponseRow] = field(default_factory=list)

    @classmethod
    def fetch(cls, org, filters, tree, questions, pollruns) -> "ChartInput":
        pollrun_ids = [pollrun.pk for pollrun in pollruns]
        by_question: dict[int, list[AnswerRow]] = defaultdict(list)
        for row in answer_rows(org, filters, [q.pk for q in questions], pollrun_ids):
            by_question[row.question_id].append(row)
        responses = response_rows(org, filters, pollrun_ids)
        return cls(org, filters, tree, questions, pollruns, by_question, responses)

    def map_units(self) -> list[Unit]:
        return regions.map_units(self.tree, self.filters.region_ids)

    def breakdown(self) -> "Breakdown":
        """How series split: by region when the filters ask for it, else one series."""
        if not self.filters.split_regions:
            return Breakdown(None)
        return Breakdown(regions.units(self.tree, self.filters.region_ids))

    def response_totals(self, breakdown: "Breakdown") -> dict[tuple[str, int], int]:
        """Active responses (all statuses) per (series key, poll date)."""
        totals: dict[tuple[str, int], int] = Counter()
        for row in self.responses:
            key = breakdown.key(row.region_id)
            if key is not None:
                totals[(key, row.pollrun_id)] += row.count
        return totals


class Breakdown:
    """Series of a chart: one for everything, or one per region unit."""

    def __init__(self, units: list[Unit] | None):
        self.units = units
        self.lookup = unit_lookup(units) if units else {}

    @property
    def is_split(self) -> bool:
        return self.units is not None

    def key(self, region_id: int | None) -> str | None:
        """The series a row of this region adds to (None: no series shows it)."""
        if self.units is None:
            return ALL
        unit = self.lookup.get(region_id) or self.lookup.get(None)
        return unit.key if unit else None

    def series(self) -> list[tuple[str, str]]:
        if self.units is None:
            return [(ALL, "")]
        return [(unit.key, unit.label) for unit in self.units]


def dates(pollruns: Iterable[PollRun]) -> list[dict]:
    return [{"id": pollrun.pk, "date": pollrun.local_date.isoformat()} for pollrun in pollruns]


# Poll page -------------------------------------------------------------------


def poll_charts(data: ChartInput) -> dict:
    """Chart data of every question of a poll across the dates in `data`."""
    breakdown = data.breakdown()
    map_units = data.map_units()
    questions = [
        _poll_question(data, question, breakdown, map_units) for question in data.questions
    ]
    return {
        "dates": dates(data.pollruns),
        "numeric": data.filters.numeric,
        "questions": questions,
        "boundaries": boundary_features(data.org, map_units) if map_units else None,
    }


def _poll_question(data, question, breakdown, map_units) -> dict:
    base = {"id": question.pk, "name": question.display_name, "type": question.question_type}
    rows = data.answers.get(question.pk, [])
    if question.question_type == QuestionType.NUMERIC:
        base.update(_numeric_over_time(data, rows, breakdown))
    elif question.question_type == QuestionType.CATEGORICAL:
        base.update(_categorical_over_time(data, question, rows))
    base["map"] = map_areas(question, rows, map_units)
    return base


def _numeric_over_time(data: ChartInput, rows: list[AnswerRow], breakdown: Breakdown) -> dict:
    tallies: dict[tuple[str, int], Tally] = defaultdict(Tally)
    for row in rows:
        key = breakdown.key(row.region_id)
        if key is not None:
            tallies[(key, row.pollrun_id)].add(row)
    responses = data.response_totals(breakdown)
    series = {"sum": [], "average": [], "rate": []}
    for key, label in breakdown.series():
        per_date = [
            (tallies.get((key, pollrun.pk), Tally()), responses.get((key, pollrun.pk), 0))
            for pollrun in data.pollruns
        ]
        if breakdown.is_split and not any(tally.count or total for tally, total in per_date):
            continue
        series["sum"].append(
            {"label": label, "data": [round(tally.number_sum, 1) for tally, _ in per_date]}
        )
        series["average"].append(
            {"label": label, "data": [rounded(tally.mean) for tally, _ in per_date]}
        )
        series["rate"].append(
            {"label": label, "data": [percent(tally.count, total) for tally, total in per_date]}
        )
    return {"series": series, "summary": _numeric_summary(data, rows)}


def _numeric_summary(data: ChartInput, rows: list[AnswerRow]) -> dict:
    tallies: dict[int, Tally] = defaultdict(Tally)
    for row in rows:
        tallies[row.pollrun_id].add(row)
    responses = data.response_totals(Breakdown(None))
    averages = [tallies[p.pk].mean or 0.0 for p in data.pollruns]
    rates = [
        percent(tallies[p.pk].count, responses.get((ALL, p.pk), 0)) or 0.0 for p in data.pollruns
    ]
    return {
        "mean": rounded(mean(averages)),
        "std": rounded(pstdev(averages)),
        "rate": rounded(mean(rates)),
        "answers": sum(tally.count for tally in tallies.values()),
    }


def _categorical_over_time(data: ChartInput, question: Question, rows: list[AnswerRow]) -> dict:
    counts: dict[int, Counter] = defaultdict(Counter)
    for row in rows:
        counts[row.pollrun_id][row.category] += row.count
    totals = Counter()
    for counter in counts.values():
        totals.update(counter)
    categories = [name for name in category_order(question, totals) if totals[name]]
    answered = [sum(counts[p.pk][name] for name in categories) for p in data.pollruns]
    silent = [0] * len(data.pollruns)
    if question.show_no_response:
        responses = data.response_totals(Breakdown(None))
        silent = [
            max(0, responses.get((ALL, p.pk), 0) - sum(counts[p.pk].values()))
            for p in data.pollruns
        ]
    shown = [a + s for a, s in zip(answered, silent, strict=True)]
    grand_total = sum(totals[name] for name in categories)
    series = [
        {
            "label": name,
            "counts": [counts[p.pk][name] for p in data.pollruns],
            "data": [percent(counts[p.pk][name], shown[i]) for i, p in enumerate(data.pollruns)],
        }
        for name in categories
    ]
    rows_out = [
        {"category": name, "count": totals[name], "percent": percent(totals[name], grand_total)}
        for name in categories
    ]
    if question.show_no_response and any(silent):
        series.append(
            {
                "label": _("No response"),
                "no_response": True,
                "counts": silent,
                "data": [percent(n, shown[i]) for i, n in enumerate(silent)],
            }
        )
        everyone = grand_total + sum(silent)
        for row in rows_out:
            row["percent"] = percent(row["count"], everyone)
        rows_out.append(
            {
                "category": _("No response"),
                "no_response": True,
                "count": sum(silent),
                "percent": percent(sum(silent), everyone),
            }
        )
    return {
        "categories": categories,
        "series": series,
        "totals": rows_out,
        "summary": {"answers": grand_total},
    }


def poll_word_clouds(
    org: Org, filters: Filters, questions: Sequence[Question], pollruns: Sequence[PollRun]
) -> dict[str, list[tuple[str, int]]]:
    """{question id: [(word, contacts), ...]} for the open-ended questions."""
    open_ids = [q.pk for q in questions if q.question_type == QuestionType.OPEN]
    if not open_ids or not pollruns:
        return {}
    clouds = word_clouds(org, filters, open_ids, [p.pk for p in pollruns])
    return {str(pk): clouds.get(pk, []) for pk in open_ids}


# One poll date ----------------------------------------------------------------


def pollrun_charts(data: ChartInput) -> dict:
    """Chart data of every question of one poll date (`data.pollruns` has just it)."""
    (pollrun,) = data.pollruns
    map_units = data.map_units()
    responses = sum(row.count for row in data.responses)
    numeric_ids = [q.pk for q in data.questions if q.question_type == QuestionType.NUMERIC]
    open_ids = [q.pk for q in data.questions if q.question_type == QuestionType.OPEN]
    bins = number_bins(data.org, data.filters, numeric_ids, [pollrun.pk])
    clouds = word_clouds(data.org, data.filters, open_ids, [pollrun.pk])
    questions = []
    for question in data.questions:
        rows = data.answers.get(question.pk, [])
        tally = Tally()
        for row in rows:
            tally.add(row)
        item = {
            "id": question.pk,
            "name": question.display_name,
            "type": question.question_type,
            "summary": {"answers": tally.count, "rate": percent(tally.count, responses)},
        }
        if question.question_type == QuestionType.NUMERIC:
            item["bins"] = [
                {"low": b.low, "high": b.high, "count": b.count} for b in bins.get(question.pk, [])
            ]
            item["summary"].update(mean=rounded(tally.mean), std=rounded(tally.std))
        elif question.question_type == QuestionType.CATEGORICAL:
            item.update(_categories_on_date(question, rows, responses))
        else:
            item["words"] = clouds.get(question.pk, [])
        item["map"] = map_areas(question, rows, map_units)
        questions.append(item)
    return {
        "questions": questions,
        "responses": responses,
        "boundaries": boundary_features(data.org, map_units) if map_units else None,
    }


def _categories_on_date(question: Question, rows: list[AnswerRow], responses: int) -> dict:
    counts = Counter()
    for row in rows:
        counts[row.category] += row.count
    categories = [name for name in category_order(question, counts) if counts[name]]
    values = [counts[name] for name in categories]
    silent = max(0, responses - sum(counts.values())) if question.show_no_response else 0
    marked = [False] * len(categories)
    if silent:
        categories, values, marked = (
            [*categories, _("No response")],
            [*values, silent],
            [
                *marked,
                True,
            ],
        )
    total = sum(values)
    return {
        "categories": categories,
        "counts": values,
        "percents": [percent(value, total) for value in values],
        "no_response": marked,
    }
