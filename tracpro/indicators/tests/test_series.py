"""The indicator maths on plain rows, with the original TracPro's numbers."""

from datetime import date

import pytest

from tracpro.charts.data import AnswerRow, FirstAnswerRow, ResponseRow
from tracpro.charts.regions import Unit
from tracpro.indicators.series import OTHER_KEY, PollDate, build

KAMPALA = Unit("1", "Kampala", frozenset([1]))
GULU = Unit("2", "Gulu", frozenset([2]))
NO_REGION = Unit("none", "No region", frozenset([None]))
DATES = [
    PollDate(11, date(2024, 5, 1)),
    PollDate(12, date(2024, 5, 8)),
    PollDate(13, date(2024, 5, 15)),
]


def answer(pollrun_id, region_id, count, total, number_count=None) -> AnswerRow:
    return AnswerRow(
        7,
        pollrun_id,
        region_id,
        "",
        count,
        count if number_count is None else number_count,
        total,
        0.0,
    )


def asked(pollrun_id, region_id, count) -> ResponseRow:
    return ResponseRow(pollrun_id, region_id, "complete", count)


def test_the_original_numbers_hold():
    """Baseline 60; follow-ups 42, 84 and 126: mean 84, standard deviation 34.3
    (the population one: the sample one would be 42), 40% above the baseline."""
    answers = [answer(11, 1, 2, 42), answer(12, 1, 3, 84), answer(13, 1, 3, 126)]
    responses = [asked(11, 1, 4), asked(12, 1, 4), asked(13, 1, 4)]
    baseline = [FirstAnswerRow(1, asked=4, answered=3, number_count=3, number_sum=60)]

    data = build(DATES, [KAMPALA], answers, responses, baseline)

    summary = data["summary"]
    assert summary["baseline"] == 60
    assert summary["mean"] == 84
    assert summary["std"] == 34.3
    assert summary["change"] == 40
    assert summary["baseline_rate"] == 75  # 3 of the 4 contacts asked
    assert summary["baseline_contacts"] == 3
    assert summary["rate"] == round(100 * 8 / 12, 1)
    assert data["modes"]["sum"]["series"] == [
        {"key": "1", "label": "Kampala", "data": [42, 84, 126]}
    ]
    assert data["modes"]["sum"]["baseline"] == 60
    assert data["modes"]["average"]["series"][0]["data"] == [21, 28, 42]
    assert data["modes"]["average"]["baseline"] == 20
    assert data["modes"]["rate"]["series"][0]["data"] == [50, 75, 75]
    assert data["modes"]["rate"]["baseline"] == 75
    assert [d["date"] for d in data["dates"]] == ["2024-05-01", "2024-05-08", "2024-05-15"]


def test_a_goal_replaces_the_baseline_of_the_sums():
    answers = [answer(11, 1, 1, 50)]
    baseline = [FirstAnswerRow(1, asked=1, answered=1, number_count=1, number_sum=60)]
    data = build(DATES[:1], [KAMPALA], answers, [asked(11, 1, 1)], baseline, goal=100)
    assert data["summary"]["baseline"] == 100
    assert data["summary"]["goal"] == 100
    assert data["summary"]["change"] == -50
    assert data["modes"]["sum"]["baseline"] == 100
    assert data["modes"]["average"]["baseline"] == 60  # the goal is a sum


def test_it_splits_by_region_and_fills_dates_without_answers():
    answers = [answer(11, 1, 1, 10), answer(11, 2, 2, 30), answer(13, None, 1, 5)]
    responses = [asked(11, 1, 2), asked(11, 2, 2), asked(12, 2, 3), asked(13, None, 1)]

    data = build(DATES, [KAMPALA, GULU, NO_REGION], answers, responses, [])

    sums = {s["label"]: s["data"] for s in data["modes"]["sum"]["series"]}
    assert sums == {"Gulu": [30, 0, 0], "Kampala": [10, 0, 0], "No region": [0, 0, 5]}
    assert list(sums) == ["Gulu", "Kampala", "No region"]  # by volume
    assert data["modes"]["sum"]["total"] == [40, 0, 5]
    averages = {s["label"]: s["data"] for s in data["modes"]["average"]["series"]}
    assert averages["Gulu"] == [15, None, None]
    rates = {s["label"]: s["data"] for s in data["modes"]["rate"]["series"]}
    assert rates["Gulu"] == [100, 0, None]  # asked but no answer: 0; not asked: nothing
    summary = data["summary"]
    assert summary["mean"] == 15  # (40 + 0 + 5) / 3: a date without answers counts as 0
    assert summary["baseline"] is None and summary["change"] is None


def test_only_the_units_in_view_count():
    answers = [answer(11, 1, 1, 10), answer(11, 2, 2, 30)]
    data = build(DATES[:1], [KAMPALA], answers, [asked(11, 1, 1), asked(11, 2, 2)], [])
    assert [s["label"] for s in data["modes"]["sum"]["series"]] == ["Kampala"]
    assert data["modes"]["sum"]["total"] == [10]


def test_the_smaller_regions_add_up_to_other_regions():
    units = [Unit(str(pk), f"Region {pk}", frozenset([pk])) for pk in range(1, 9)]
    answers = [answer(11, pk, pk, 10 * pk) for pk in range(1, 9)]
    data = build(DATES[:1], units, answers, [], [], top=3)
    series = data["modes"]["sum"]["series"]
    assert [s["key"] for s in series] == ["8", "7", "6", OTHER_KEY]
    assert series[-1]["label"] == "Other regions"
    assert series[-1]["data"] == [sum(10 * pk for pk in range(1, 6))]
    assert data["modes"]["sum"]["total"] == [sum(10 * pk for pk in range(1, 9))]


def test_one_region_too_many_is_shown_rather_than_folded():
    units = [Unit(str(pk), f"Region {pk}", frozenset([pk])) for pk in range(1, 5)]
    answers = [answer(11, pk, 1, pk) for pk in range(1, 5)]
    data = build(DATES[:1], units, answers, [], [], top=3)
    assert OTHER_KEY not in [s["key"] for s in data["modes"]["sum"]["series"]]


def test_nothing_to_show():
    data = build([], [KAMPALA], [], [], [])
    assert data["modes"]["sum"] == {"series": [], "total": [], "baseline": None}
    assert data["summary"]["mean"] is None and data["summary"]["std"] is None


@pytest.mark.parametrize("spoofed", [True, False])
def test_dates_say_whether_they_are_spoofed(spoofed):
    data = build([PollDate(11, date(2024, 5, 1), spoofed)], [KAMPALA], [], [], [])
    assert data["dates"] == [{"id": 11, "date": "2024-05-01", "spoofed": spoofed}]
