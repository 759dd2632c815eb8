"""Histograms of one poll date's numeric answers, binned in Postgres.

Like numpy's `bins="sqrt"`: ceil(sqrt(n)) equal bins from the smallest to the
largest value, the last bin including its upper edge; all equal values make
one bin.

Without a reporter group or contact field filter the values come from the
rollups (`NumberRollup`: how many answers have each number, per poll date and
region), so a histogram costs the same at a million answers as at a thousand;
with one, from the answers themselves.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet, Value

from tracpro.charts.data import compiled, filtered_answers
from tracpro.charts.filters import Filters
from tracpro.orgs.models import Org

HISTOGRAM_SQL = """
    WITH value (question_id, x, n) AS ({values}),
    stats AS (
        SELECT question_id, min(x) AS low, max(x) AS high,
               greatest(1, ceil(sqrt(sum(n))))::int AS bins
        FROM value GROUP BY question_id
    )
    SELECT stats.question_id, stats.low, stats.high, stats.bins,
           CASE WHEN stats.high = stats.low THEN 1
                ELSE least(width_bucket(value.x, stats.low, stats.high, stats.bins), stats.bins)
           END AS bin,
           sum(value.n)::bigint
    FROM value JOIN stats ON stats.question_id = value.question_id
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 5
"""
ROLLED_UP_VALUES = """
    SELECT question_id, number, sum(count) FROM polls_numberrollup
    WHERE question_id = ANY(%s) AND pollrun_id = ANY(%s) AND (%s OR region_id = ANY(%s))
    GROUP BY question_id, number
"""


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def number_bins(
    org: Org, filters: Filters, question_ids: Sequence[int], pollrun_ids: Sequence[int]
) -> dict[int, list[Bin]]:
    """{question id: bins} of the numeric answers to the questions on the poll dates."""
    if not question_ids or not pollrun_ids:
        return {}
    if filters.needs_raw_values:
        return histograms(filtered_answers(org, filters, question_ids, pollrun_ids))
    regions = filters.region_ids
    params = [list(question_ids), list(pollrun_ids), regions is None, list(regions or [])]
    return _binned(ROLLED_UP_VALUES, params)


def histograms(answers: QuerySet) -> dict[int, list[Bin]]:
    """{question id: bins (empty ones included)} of the answers' numbers."""
    inner = (
        answers.filter(value_to_use__isnull=False)
        .annotate(one=Value(1))
        .values_list("question_id", "value_to_use", "one")
        .order_by()
    )
    query = compiled(inner)
    if query is None:
        return {}
    return _binned(*query)


def _binned(values: str, params: Sequence) -> dict[int, list[Bin]]:
    """Bins of a statement selecting (question_id, number, how many)."""
    counts: dict[int, dict[int, int]] = {}
    shapes: dict[int, tuple[float, float, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(HISTOGRAM_SQL.format(values=values), params)
        for question_id, low, high, bins, index, count in cursor.fetchall():
            shapes[question_id] = (low, high, bins if high > low else 1)
            counts.setdefault(question_id, {})[index] = count
    return {
        question_id: _bins(*shape, counts[question_id]) for question_id, shape in shapes.items()
    }


def _bins(low: float, high: float, bins: int, counts: dict[int, int]) -> list[Bin]:
    if high == low:
        return [Bin(low, high, counts.get(1, 0))]
    width = (high - low) / bins
    return [
        Bin(low + width * index, low + width * (index + 1), counts.get(index + 1, 0))
        for index in range(bins)
    ]
