from datetime import date

from tracpro.indicators.models import Indicator
from tracpro.orgs.models import Org
from tracpro.polls.models import Question
from tracpro.polls.tests.factories import make_question


def make_indicator(
    org: Org,
    name: str = "Enrolment against attendance",
    baseline: Question | None = None,
    follow_up: Question | None = None,
    **fields,
) -> Indicator:
    baseline = baseline or make_question(org, "boys")
    follow_up = follow_up or baseline
    fields.setdefault("start_date", date(2024, 5, 1))
    fields.setdefault("end_date", date(2024, 7, 31))
    return Indicator.objects.create(
        org=org,
        name=name,
        baseline_poll=baseline.poll,
        baseline_question=baseline,
        follow_up_poll=follow_up.poll,
        follow_up_question=follow_up,
        **fields,
    )


SWEEP_FACTORIES = {"indicators.Indicator": make_indicator}
