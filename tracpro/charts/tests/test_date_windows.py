from datetime import date

import pytest

from tracpro.charts.filters import DateRange, date_window

TODAY = date(2024, 5, 20)


@pytest.mark.parametrize(
    ("choice", "start"),
    [
        (DateRange.MONTH, date(2024, 5, 1)),
        (DateRange.DAYS_30, date(2024, 4, 21)),
        (DateRange.DAYS_60, date(2024, 3, 22)),
        (DateRange.DAYS_90, date(2024, 2, 21)),
        (DateRange.MONTHS_6, date(2023, 11, 21)),
        (DateRange.MONTHS_12, date(2023, 5, 21)),
    ],
)
def test_it_ends_every_relative_range_today(choice, start):
    assert date_window(choice, TODAY) == (start, TODAY)


def test_it_leaves_all_dates_open():
    assert date_window(DateRange.ALL, TODAY) == (None, None)
