"""Indicator series: shaping already-aggregated rows with pandas.

The rows come from `tracpro.charts.data`, one aggregate query each (per poll
date and region; per region for the baseline), so the frames here hold a few
hundred cells whatever the number of answers. Everything below is plain maths
on those rows and is tested with the original TracPro's numbers.

Definitions (kept from the original):
- follow-up, per poll date: the sum of the answers' numbers, their average,
  or the response rate = 100 x answers / responses (empty ones included);
- baseline: the sum of each contact's first answer in the dates (or the goal,
  when one is set), drawn as a flat line; for averages, the average of those
  first answers; for rates, the share of asked contacts who answered;
- summary: the baseline and its response rate (distinct contacts), the mean
  and the population standard deviation of the per-date sums (a date without
  answers counts as 0), the follow-up response rate over all dates, and the
  change of that mean against the baseline in percent.

Series split by region units (`tracpro.charts.regions`): the `top` units with
the most answers keep their own series, the rest add up to "Other regions".
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date

import pandas as pd

from django.utils.translation import gettext_lazy as _

from tracpro.charts.data import AnswerRow, FirstAnswerRow, ResponseRow
from tracpro.charts.regions import Unit, unit_lookup

SUM, AVERAGE, RATE = "sum", "average", "rate"
MODES = (SUM, AVERAGE, RATE)
TOP_REGIONS = 5
OTHER_KEY = "other"
OTHER_LABEL = _("Other regions")
ANSWER_MEASURES = ["count", "number_count", "number_sum"]
RESPONSE_MEASURES = ["count"]
BASELINE_MEASURES = ["asked", "answered", "number_count", "number_sum"]


@dataclass(frozen=True)
class PollDate:
    pk: int
    day: date
    spoofed: bool = False


@dataclass(frozen=True)
class Summary:
    baseline: float | None
    goal: float | None
    baseline_contacts: int
    baseline_rate: float | None
    mean: float | None
    std: float | None
    rate: float | None
    change: float | None
    dates: int


def build(
    dates: Sequence[PollDate],
    units: Sequence[Unit],
    answers: Iterable[AnswerRow],
    responses: Iterable[ResponseRow],
    baseline: Iterable[FirstAnswerRow],
    goal: float | None = None,
    top: int = TOP_REGIONS,
) -> dict:
    """Chart data and summary of an indicator: library-neutral JSON."""
    unit_keys = {region_id: unit.key for region_id, unit in unit_lookup(units).items()}
    pollrun_ids = [d.pk for d in dates]
    answered = _by_date_and_unit(answers, ANSWER_MEASURES, unit_keys)
    asked = _by_date_and_unit(responses, RESPONSE_MEASURES, unit_keys)
    keys, labels = _series_keys(units, answered, asked, top)
    answered = _fold_others(answered, keys)
    asked = _fold_others(asked, keys)

    def wide(frame: pd.DataFrame, column: str) -> pd.DataFrame:
        table = frame[column].unstack("unit") if len(frame) else pd.DataFrame()
        return table.reindex(index=pollrun_ids, columns=keys).fillna(0.0)

    sums, number_counts, counts = (
        wide(answered, c) for c in ("number_sum", "number_count", "count")
    )
    totals_asked = wide(asked, "count")
    per_date = pd.DataFrame(
        {
            "sum": sums.sum(axis=1),
            "number_count": number_counts.sum(axis=1),
            "count": counts.sum(axis=1),
            "asked": totals_asked.sum(axis=1),
        },
        index=pollrun_ids,
    )
    first = _baseline(baseline)
    summary = _summary(per_date, first, goal, len(dates))
    modes = {
        SUM: (sums, per_date["sum"], summary.baseline),
        AVERAGE: (
            sums / number_counts.where(number_counts > 0),
            per_date["sum"] / per_date["number_count"].where(per_date["number_count"] > 0),
            _ratio(first["number_sum"], first["number_count"]),
        ),
        RATE: (
            100 * counts / totals_asked.where(totals_asked > 0),
            100 * per_date["count"] / per_date["asked"].where(per_date["asked"] > 0),
            summary.baseline_rate,
        ),
    }
    return {
        "dates": [{"id": d.pk, "date": d.day.isoformat(), "spoofed": d.spoofed} for d in dates],
        "modes": {
            mode: {
                "series": [
                    {"key": key, "label": str(labels[key]), "data": _numbers(table[key])}
                    for key in keys
                ],
                "total": _numbers(total),
                "baseline": _number(reference),
            }
            for mode, (table, total, reference) in modes.items()
        },
        "summary": asdict(summary),
    }


def _by_date_and_unit(
    rows: Iterable, measures: list[str], unit_keys: dict[int | None, str]
) -> pd.DataFrame:
    """The rows' measures summed per (poll date, unit); regions no unit covers are left out."""
    records = [
        (row.pollrun_id, unit_keys[row.region_id], *(getattr(row, name) for name in measures))
        for row in rows
        if row.region_id in unit_keys
    ]
    frame = pd.DataFrame(records, columns=["pollrun_id", "unit", *measures])
    return frame.groupby(["pollrun_id", "unit"]).sum()


def _series_keys(units, answered, asked, top) -> tuple[list[str], dict[str, str]]:
    """The units with data, by volume (answers, then responses), the first `top` kept
    and the rest folded into "Other regions" (only when that folds two or more)."""
    volume = pd.DataFrame(
        {
            "answers": answered["count"].groupby("unit").sum() if len(answered) else pd.Series(),
            "responses": asked["count"].groupby("unit").sum() if len(asked) else pd.Series(),
        }
    ).fillna(0)
    order = {unit.key: index for index, unit in enumerate(units)}
    ranked = sorted(
        (key for key in volume.index if volume.loc[key].sum() > 0),
        key=lambda key: (-volume.loc[key, "answers"], -volume.loc[key, "responses"], order[key]),
    )
    labels = {unit.key: unit.label for unit in units}
    if len(ranked) <= top + 1:
        return ranked, labels
    kept = ranked[:top]
    return [*kept, OTHER_KEY], {**labels, OTHER_KEY: OTHER_LABEL}


def _fold_others(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if OTHER_KEY not in keys or not len(frame):
        return frame
    frame = frame.reset_index()
    frame["unit"] = frame["unit"].where(frame["unit"].isin(keys), OTHER_KEY)
    return frame.groupby(["pollrun_id", "unit"]).sum()


def _baseline(rows: Iterable[FirstAnswerRow]) -> pd.Series:
    records = [[getattr(row, name) for name in BASELINE_MEASURES] for row in rows]
    return pd.DataFrame(records, columns=BASELINE_MEASURES, dtype=float).sum()


def _summary(per_date: pd.DataFrame, first: pd.Series, goal: float | None, dates: int) -> Summary:
    sums = per_date["sum"]
    computed = float(first["number_sum"]) if first["number_count"] else None
    baseline = goal if goal is not None else computed
    mean = float(sums.mean()) if dates else None
    return Summary(
        baseline=_number(baseline),
        goal=goal,
        baseline_contacts=int(first["answered"]),
        baseline_rate=_number(_ratio(100 * first["answered"], first["asked"])),
        mean=_number(mean),
        std=_number(float(sums.std(ddof=0))) if dates else None,
        rate=_number(_ratio(100 * per_date["count"].sum(), per_date["asked"].sum())),
        change=_number(_ratio(100 * (mean - baseline), baseline))
        if mean is not None and baseline
        else None,
        dates=dates,
    )


def _ratio(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def _number(value: float | None) -> float | None:
    """Rounded to one decimal place; None for nothing to show."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 1)


def _numbers(values: pd.Series) -> list[float | None]:
    return [_number(value) for value in values.tolist()]
