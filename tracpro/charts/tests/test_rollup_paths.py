"""The rollups give the charts the same numbers as the raw answers: counts split by
reporter group, histograms and word clouds, whatever the region and group filters."""

from collections import Counter

import pytest

from tracpro.charts.data import answer_rows, group_response_rows, response_rows
from tracpro.charts.filters import Filters
from tracpro.charts.histograms import number_bins
from tracpro.charts.words import word_clouds

pytestmark = pytest.mark.django_db


def filter_cases(world) -> list[Filters]:
    central = world.regions["Central"]
    in_central = frozenset([central.pk, world.regions["Kampala"].pk, world.regions["Wakiso"].pk])
    return [
        Filters(),
        Filters(region=central, region_ids=in_central),
        Filters(group=world.groups["Teachers"]),
        Filters(group=world.groups["Head Teachers"], region=central, region_ids=in_central),
    ]


def both_ways(monkeypatch, compute):
    """(from the rollups, from the raw answers)"""
    rolled_up = compute()
    monkeypatch.setattr(Filters, "needs_raw_answers", property(lambda self: True))
    monkeypatch.setattr(Filters, "needs_raw_values", property(lambda self: True))
    raw = compute()
    monkeypatch.undo()
    return rolled_up, raw


@pytest.mark.parametrize("case", range(4))
def test_counts_split_by_reporter_group_match_the_raw_answers(world, monkeypatch, case):
    filters = filter_cases(world)[case]
    questions = [q.pk for q in world.questions.values()]
    pollruns = [p.pk for p in world.pollruns.values()]

    def compute():
        return (
            Counter(answer_rows(world.org, filters, questions, pollruns)),
            Counter(response_rows(world.org, filters, pollruns)),
            Counter(group_response_rows(world.org, filters, pollruns)),
        )

    rolled_up, raw = both_ways(monkeypatch, compute)
    assert rolled_up == raw
    assert all(rolled_up[:2])


def test_a_group_filter_counts_only_that_groups_contacts(world):
    teachers = world.groups["Teachers"]
    rows = response_rows(world.org, Filters(group=teachers), [world.pollruns["may1"].pk])
    # Bob, =Carol (in both groups) and Dan answered on 1 May.
    assert sum(row.count for row in rows) == 3
    by_group = Counter()
    for group, _, count in group_response_rows(world.org, Filters(), [world.pollruns["may1"].pk]):
        by_group[group] += count
    head_teachers = world.groups["Head Teachers"].pk
    assert by_group == {head_teachers: 2, teachers.pk: 3, None: 1}  # Eve is in no group


@pytest.mark.parametrize("case", range(4))
def test_histograms_and_word_clouds_match_the_raw_answers(world, monkeypatch, case):
    filters = filter_cases(world)[case]
    boys, comment = world.questions["boys"].pk, world.questions["comment"].pk
    for pollruns in ([world.pollruns["may1"].pk], [p.pk for p in world.pollruns.values()]):
        rolled_up, raw = both_ways(
            monkeypatch,
            lambda pollruns=pollruns: (
                number_bins(world.org, filters, [boys], pollruns),
                word_clouds(world.org, filters, [comment], pollruns),
            ),
        )
        assert rolled_up == raw


def test_a_word_counts_once_per_contact_and_date(world):
    dates = [p.pk for p in world.pollruns.values()]
    words = dict(word_clouds(world.org, Filters(), [world.questions["comment"].pk], dates)[
        world.questions["comment"].pk
    ])  # fmt: skip
    # Alice wrote of desks on 1 May and of books on 8 May; Bob and Dan of both on 1 May.
    assert words == {"desks": 3, "books": 3, "need": 1, "arrived": 1}
