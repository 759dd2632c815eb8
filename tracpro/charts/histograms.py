"""Histograms of one poll date's numeric answers, binned in Postgres.

Like numpy's `bins="sqrt"`: ceil(sqrt(n)) equal bins from the smallest to the
largest value, the last bin including its upper edge; all equal values make
one bin.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from tracpro.charts.data import compiled

HISTOGRAM_SQL = """
    WITH value (question_id, x) AS ({answers}),
    stats AS (
        SELECT question_id, min(x) AS low, max(x) AS high,
               greatest(1, ceil(sqrt(count(*))))::int AS bins
        FROM value GROUP BY question_id
    )
    SELECT stats.question_id, stats.low, stats.high, stats.bins,
           CASE WHEN stats.high = stats.low THEN 1
                ELSE least(width_bucket(value.x, stats.low, stats.high, stats.bins), stats.bins)
           END AS bin,
           count(*)
    FROM value JOIN stats ON stats.question_id = value.question_id
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 5
"""


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


def histograms(answers: QuerySet) -> dict[int, list[Bin]]:
    """{question id: bins (empty ones included)} of the answers' numbers."""
    inner = (
        answers.filter(value_to_use__isnull=False)
        .values_list("question_id", "value_to_use")
        .order_by()
    )
    query = compiled(inner)
    if query is None:
        return {}
    sql, params = query
    counts: dict[int, dict[int, int]] = {}
    shapes: dict[int, tuple[float, float, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(HISTOGRAM_SQL.format(answers=sql), params)
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
