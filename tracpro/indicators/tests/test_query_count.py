"""The indicator page reads a fixed number of queries, whatever the data size."""

from datetime import datetime

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracpro.contacts.tests.factories import make_contact
from tracpro.polls.tests.factories import make_answer, make_pollrun, make_response
from tracpro.polls.tests.world import KAMPALA_TZ, page_url

pytestmark = pytest.mark.django_db

# Session, user, membership, org, region tree, reporter groups, data fields, the
# indicator, the poll dates (2), the follow-up rows (2), the baseline (2: the rollups,
# or the raw answers when a reporter group is chosen, one more to resolve it), and
# what the base template reads (the menu's count of unanswered inbox messages included).
MAX_QUERIES = 18


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("params", [{}, {"group": "any"}])
def test_the_indicator_page_costs_the_same_queries_with_more_data(
    indicators, client_for, ann, params
):
    world = indicators.world
    if params:
        params = {"group": world.groups["Teachers"].pk}  # the raw-answers path
    client = client_for(ann, world.org)
    url = page_url("indicators:read", indicators.indicator.pk, **params)
    before = queries_of(client, url)

    for day in (20, 23, 27):
        pollrun = make_pollrun(indicators.absent.poll, datetime(2024, 5, day, 9, tzinfo=KAMPALA_TZ))
        for index in range(15):
            contact = make_contact(world.org, f"More {day}-{index}", world.regions["Wakiso"])
            contact.reporter_groups.add(world.groups["Teachers"])
            make_answer(make_response(pollrun, contact), indicators.absent, index)
            baseline = make_response(world.pollruns["may8"], contact)
            make_answer(baseline, world.questions["boys"], index)
    world.rebuild()

    after = queries_of(client, url)
    assert after == before
    assert after <= MAX_QUERIES
