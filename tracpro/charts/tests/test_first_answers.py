"""Each contact's first answer across poll dates (an indicator's baseline), per region."""

import pytest

from tracpro.charts.data import FirstAnswerRow, _first_answers_by_region, first_answers
from tracpro.charts.filters import Filters

pytestmark = pytest.mark.django_db


def test_each_contact_counts_once_with_their_earliest_answer(world):
    boys = world.questions["boys"].pk
    dates = [world.pollruns["may1"].pk, world.pollruns["may8"].pk]
    rows = {row.region_id: row for row in first_answers(world.org, Filters(), boys, dates)}
    kampala, wakiso, gulu = (world.regions[n].pk for n in ("Kampala", "Wakiso", "Gulu"))
    # Alice 120 and Bob 80 (May 1, not their May 8 answers), =Carol 40, Dan 10; Eve asked only.
    assert rows == {
        kampala: FirstAnswerRow(kampala, asked=2, answered=2, number_count=2, number_sum=200),
        wakiso: FirstAnswerRow(wakiso, asked=1, answered=1, number_count=1, number_sum=40),
        gulu: FirstAnswerRow(gulu, asked=2, answered=1, number_count=1, number_sum=10),
    }


def test_one_date_reads_the_rollups_and_agrees_with_the_raw_answers(
    world, django_assert_num_queries
):
    boys = world.questions["boys"].pk
    may8 = [world.pollruns["may8"].pk]
    with django_assert_num_queries(2):
        rows = first_answers(world.org, Filters(), boys, may8)
    from_rollups = {
        row.region_id: (row.answered, row.number_count, row.number_sum)
        for row in rows
        if row.answered
    }
    assert from_rollups == _first_answers_by_region(world.org, Filters(), boys, may8)
    assert {row.region_id: row.asked for row in rows} == {
        world.regions["Kampala"].pk: 2,
        world.regions["Gulu"].pk: 1,
    }


def test_the_scope_limits_the_contacts(world):
    kampala = world.regions["Kampala"].pk
    dates = [world.pollruns["may1"].pk, world.pollruns["may8"].pk]
    filters = Filters(region_ids=frozenset([kampala]))
    rows = first_answers(world.org, filters, world.questions["boys"].pk, dates)
    assert [(row.region_id, row.number_sum) for row in rows] == [(kampala, 200)]
    assert first_answers(world.org, filters, world.questions["boys"].pk, []) == []
