"""The dashboards' poll world plus a follow-up poll, Attendance, and an indicator
comparing Enrolment (boys) with it.

    Attendance "absent" (numeric), three org-wide dates:
                May 2   May 9   May 16
    Alice        20      40      60       (Kampala)
    Bob          -       14      26       (Kampala)
    Dan          22      30      40       (Gulu)
    sums         42      84     126

Baseline (Enrolment boys, each contact's first answer from May 1): Alice 120,
Bob 80, =Carol 40, Dan 10 = 250; Eve was asked and did not answer.
"""

from dataclasses import dataclass
from datetime import date, datetime

import pytest

from tracpro.indicators.models import Indicator
from tracpro.indicators.tests.factories import make_indicator
from tracpro.polls.models import PollRun, Question, QuestionType
from tracpro.polls.tests.conftest import kampala_sam, world  # noqa: F401
from tracpro.polls.tests.factories import (
    make_answer,
    make_poll,
    make_pollrun,
    make_question,
    make_response,
)
from tracpro.polls.tests.world import KAMPALA_TZ, World

FOLLOW_UP_DATES = {"may2": date(2024, 5, 2), "may9": date(2024, 5, 9), "may16": date(2024, 5, 16)}
ABSENT = {
    ("may2", "Alice"): 20,
    ("may2", "Dan"): 22,
    ("may9", "Alice"): 40,
    ("may9", "Bob"): 14,
    ("may9", "Dan"): 30,
    ("may16", "Alice"): 60,
    ("may16", "Bob"): 26,
    ("may16", "Dan"): 40,
}
BASELINE = {"Alice": 120, "Bob": 80, "=Carol": 40, "Dan": 10}
TERM = {"start_date": date(2024, 5, 1), "end_date": date(2024, 5, 31)}


@dataclass
class IndicatorWorld:
    world: World
    absent: Question
    pollruns: dict[str, PollRun]
    indicator: Indicator


@pytest.fixture
def indicators(world) -> IndicatorWorld:  # noqa: F811
    attendance = make_poll(world.org, "Attendance")
    absent = make_question(
        attendance, "absent_pupils", QuestionType.NUMERIC, rapidpro_name="Absent Pupils"
    )
    pollruns = {
        key: make_pollrun(attendance, datetime(day.year, day.month, day.day, 10, tzinfo=KAMPALA_TZ))
        for key, day in FOLLOW_UP_DATES.items()
    }
    for key, pollrun in pollruns.items():
        for name in ("Alice", "Bob", "Dan"):
            response = make_response(pollrun, world.contacts[name])
            if (key, name) in ABSENT:
                make_answer(response, absent, ABSENT[(key, name)])
    world.rebuild()
    indicator = make_indicator(
        world.org,
        baseline=world.questions["boys"],
        follow_up=absent,
        start_date=TERM["start_date"],
        end_date=TERM["end_date"],
    )
    return IndicatorWorld(world, absent, pollruns, indicator)
