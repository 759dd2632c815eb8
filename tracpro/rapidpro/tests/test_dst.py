"""Daylight saving time: an org in Europe/Paris keeps its poll dates, the same-day
rule and "today" right across both transitions (2025: the night of 29-30 March
has 23 hours, the night of 25-26 October 25). Runs come through the real sync,
RapidPro faked at the seam; "now" is moved with time-machine."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from django.utils import timezone

from tracpro.orgs.models import SameDayRule
from tracpro.polls.models import Answer, PollRun
from tracpro.rapidpro.tests import fakes
from tracpro.rapidpro.tests.sync_helpers import sync
from tracpro.rapidpro.tests.test_sync_runs import absent

# The fixtures `rapidpro` (RapidPro faked at the seam), `poll` ("Attendance") and
# `reporter` come from tracpro/rapidpro/tests/conftest.py.


@pytest.fixture
def paris(acme):
    acme.timezone = "Europe/Paris"
    acme.same_day_rule = SameDayRule.SUM
    acme.save()
    return acme


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# (moment in UTC, the Paris calendar day it falls on). A fixed offset of either
# +1 or +2 gets at least one of each transition's pair wrong.
SPRING = [
    (utc(2025, 3, 29, 22, 30), date(2025, 3, 29)),  # 23:30 CET
    (utc(2025, 3, 29, 23, 30), date(2025, 3, 30)),  # 00:30 CET, the short day begins
    (utc(2025, 3, 30, 21, 30), date(2025, 3, 30)),  # 23:30 CEST
    (utc(2025, 3, 30, 22, 30), date(2025, 3, 31)),  # 00:30 CEST (+1 would say the 30th)
]
AUTUMN = [
    (utc(2025, 10, 25, 21, 30), date(2025, 10, 25)),  # 23:30 CEST
    (utc(2025, 10, 25, 22, 30), date(2025, 10, 26)),  # 00:30 CEST (+1 would say the 25th)
    (utc(2025, 10, 26, 0, 30), date(2025, 10, 26)),  # 02:30 CEST, the first 02:30
    (utc(2025, 10, 26, 1, 30), date(2025, 10, 26)),  # 02:30 CET, the second one
    (utc(2025, 10, 26, 22, 30), date(2025, 10, 26)),  # 23:30 CET (+2 would say the 27th)
    (utc(2025, 10, 26, 23, 30), date(2025, 10, 27)),  # 00:30 CET
]


@pytest.mark.parametrize("moments", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_poll_dates_are_paris_calendar_days_across_the_change(
    paris, poll, rapidpro, reporter, moments
):
    flow = rapidpro.flows[0]
    rapidpro.runs += [
        fakes.run(flow, (reporter.uuid, "Grace"), moment, absent("1", moment))
        for moment, _ in moments
    ]

    assert sync(paris, "runs") == {"runs": "succeeded"}

    days = PollRun.objects.filter(poll=poll, kind=PollRun.Kind.DAY)
    assert sorted(days.values_list("local_date", flat=True)) == sorted({day for _, day in moments})
    for moment, day in moments:
        answer = Answer.objects.get(submitted_on=moment)
        assert answer.local_date == day, moment
        assert answer.response.pollrun.local_date == day, moment


@pytest.mark.parametrize("moments", [SPRING, AUTUMN], ids=["spring", "autumn"])
def test_the_same_day_rule_sums_each_paris_day_whatever_its_length(
    paris, poll, rapidpro, reporter, moments
):
    flow = rapidpro.flows[0]
    rapidpro.runs += [
        fakes.run(flow, (reporter.uuid, "Grace"), moment, absent(str(number), moment))
        for number, (moment, _) in enumerate(moments, start=1)
    ]

    assert sync(paris, "runs") == {"runs": "succeeded"}

    expected: dict[date, int] = {}
    for number, (_, day) in enumerate(moments, start=1):
        expected[day] = expected.get(day, 0) + number
    for moment, day in moments:
        assert Answer.objects.get(submitted_on=moment).value_to_use == expected[day], moment


@pytest.mark.parametrize(("moment", "day"), [*SPRING, *AUTUMN], ids=str)
def test_today_is_the_paris_day_at_every_moment_of_the_change(paris, moment, day):
    with time_machine.travel(moment, tick=False):
        assert paris.local_date(timezone.now()) == day
        assert timezone.localdate(timezone=paris.tz) == day
