"""Small arithmetic on aggregated rows: totals, means, spreads, shares.

Figures are rounded to one decimal place (maps: two), like the original.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from tracpro.polls.models import Question
from tracpro.polls.rules import OTHER


@dataclass
class Tally:
    """Answers counted so far: how many, and count / sum / sum of squares of their numbers."""

    count: int = 0
    number_count: int = 0
    number_sum: float = 0.0
    number_sum_sq: float = 0.0

    def add(self, row) -> None:
        self.count += row.count
        self.number_count += row.number_count
        self.number_sum += row.number_sum
        self.number_sum_sq += row.number_sum_sq

    @property
    def mean(self) -> float | None:
        return self.number_sum / self.number_count if self.number_count else None

    @property
    def std(self) -> float | None:
        """Population standard deviation of the numbers."""
        if not self.number_count:
            return None
        mean = self.number_sum / self.number_count
        return math.sqrt(max(self.number_sum_sq / self.number_count - mean * mean, 0.0))


def rounded(value: float | None, places: int = 1) -> float | None:
    return None if value is None else round(value, places)


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def pstdev(values: Iterable[float]) -> float | None:
    values = list(values)
    if not values:
        return None
    average = sum(values) / len(values)
    return math.sqrt(sum((value - average) ** 2 for value in values) / len(values))


def category_order(question: Question, seen: Iterable[str]) -> list[str]:
    """The question's categories in router order, then any others answers have,
    "Other" last; blank categories are left out."""
    ordered = [name for name in question.categories if name and name != OTHER]
    extra = sorted({name for name in seen if name and name != OTHER} - set(ordered))
    has_other = OTHER in question.categories or OTHER in set(seen)
    return ordered + extra + ([OTHER] if has_other else [])
