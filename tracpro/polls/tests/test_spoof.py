"""Spoofed poll data: made up in one transaction, counted by the rollups like any
data, shown only while the org shows spoof data, cleared without a trace."""

import random
from datetime import date

import pytest

from tracpro.groups.scope import RegionScope
from tracpro.polls import spoof
from tracpro.polls.models import Answer, PollRun, Response, ResponseStatus
from tracpro.polls.tests.integrity import dangling_rows
from tracpro.polls.tests.test_rollups import answer_rollups, assert_rollups_match_a_rebuild

pytestmark = pytest.mark.django_db


def plan_for(world, **changes) -> spoof.SpoofPlan:
    values = {
        "baseline": world.questions["boys"],
        "follow_up": world.questions["boys"],
        "start": date(2024, 6, 3),
        "end": date(2024, 6, 24),
        "every_days": 7,
        "low": 10,
        "high": 20,
    }
    return spoof.SpoofPlan(**{**values, **changes})


def test_the_plan_puts_the_baseline_first_and_follow_ups_after_it(world):
    plan = plan_for(world)
    assert plan.follow_up_days() == [date(2024, 6, 10), date(2024, 6, 17), date(2024, 6, 24)]
    daily = plan_for(world, end=date(2024, 6, 5), every_days=1)
    assert daily.follow_up_days() == [date(2024, 6, 4), date(2024, 6, 5)]


def test_it_makes_up_one_complete_response_per_contact_and_date(world, ann):
    contacts = [world.contacts[name] for name in ("Alice", "Bob", "Dan")]
    result = spoof.generate(
        world.org, plan_for(world), [c.pk for c in contacts], ann, random.Random(4)
    )

    assert (result.poll_dates, result.responses) == (4, 12)
    pollruns = PollRun.objects.for_org(world.org).spoofed().order_by("local_date")
    assert [p.local_date for p in pollruns] == [
        date(2024, 6, 3),
        date(2024, 6, 10),
        date(2024, 6, 17),
        date(2024, 6, 24),
    ]
    assert {(p.kind, p.created_by, p.region, p.start_uuid) for p in pollruns} == {
        (PollRun.Kind.SPOOF, ann, None, None)
    }
    responses = Response.objects.filter(pollrun__in=pollruns)
    assert {r.status for r in responses} == {ResponseStatus.COMPLETE}
    assert sorted(r.contact_id for r in responses) == sorted([c.pk for c in contacts] * 4)
    answers = Answer.objects.filter(response__in=responses)
    assert answers.count() == 12
    assert all(10 <= a.number <= 20 and a.value_to_use == a.number for a in answers)
    assert {a.category for a in answers} == {"Small"}  # the question's own rules
    assert {a.contact_id for a in answers} == {c.pk for c in contacts}
    assert_rollups_match_a_rebuild(world.org)
    assert dangling_rows() == {}


def test_spoofed_dates_show_only_while_the_org_shows_spoof_data(world, ann):
    spoof.generate(world.org, plan_for(world), [world.contacts["Alice"].pk], ann)
    scope = RegionScope.build(world.org, is_admin=True)
    real = {p.pk for p in world.pollruns.values()}

    world.org.show_spoof_data = False
    assert {p.pk for p in PollRun.objects.visible_to(scope)} == real

    world.org.show_spoof_data = True
    visible = PollRun.objects.visible_to(scope)
    assert len(visible) == len(real) + 4
    assert {p.pk for p in visible.real()} == real


def test_clearing_deletes_every_spoofed_row_and_only_those(world, ann):
    before = answer_rollups(world.org)
    contact_ids = [c.pk for c in world.contacts.values()]
    spoof.generate(world.org, plan_for(world), contact_ids, ann)
    later = plan_for(world, start=date(2024, 7, 1), end=date(2024, 7, 2), every_days=1)
    spoof.generate(world.org, later, [], ann)
    assert answer_rollups(world.org) != before

    assert spoof.clear(world.org) == 6

    assert not PollRun.objects.for_org(world.org).spoofed().exists()
    assert not Response.objects.filter(run_uuid__startswith=spoof.RUN_UUID_PREFIX).exists()
    assert Response.objects.for_org(world.org).count() == len(world.responses)
    assert answer_rollups(world.org) == before
    assert_rollups_match_a_rebuild(world.org)
    assert dangling_rows() == {}
    assert spoof.clear(world.org) == 0


def test_clearing_one_org_leaves_the_other_alone(world, beta, ann):
    from tracpro.polls.tests.factories import make_pollrun

    theirs = make_pollrun(beta, kind=PollRun.Kind.SPOOF)
    spoof.generate(world.org, plan_for(world), [world.contacts["Alice"].pk], ann)
    spoof.clear(world.org)
    assert PollRun.objects.filter(pk=theirs.pk).exists()
