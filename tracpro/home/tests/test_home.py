"""The home page: polls and their latest dates, recent activity, sync trouble."""

from datetime import timedelta

import pytest
import time_machine

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tracpro.orgs.models import SyncKind, SyncState
from tracpro.polls.models import ResponseStatus
from tracpro.polls.tests.factories import make_poll
from tracpro.polls.tests.world import ANSWERS, CONTACTS, MAY_8

pytestmark = pytest.mark.django_db

# Ten days after the second poll date: both dates are within the last 30 days.
SOON_AFTER = MAY_8 + timedelta(days=10)


def responded(date, contacts=None):
    return [
        name
        for (when, name), row in ANSWERS.items()
        if when == date
        and row[0] != ResponseStatus.EMPTY
        and (contacts is None or name in contacts)
    ]


def test_it_lists_polls_with_their_latest_date_and_response_rate(world, client_for, ann):
    unconducted = make_poll(world.org, "Attendance")
    response = client_for(ann, world.org).get("/")
    figures = {item.poll: item.latest for item in response.context["polls"]}
    latest = figures[world.poll]
    assert latest.pollrun == world.pollruns["may8"]
    reached = sum(1 for when, _ in ANSWERS if when == "may8")
    assert latest.participants == reached
    assert latest.response_rate == round(100 * len(responded("may8")) / reached, 1)
    assert figures[unconducted] is None
    assert [f.pollrun for f in response.context["recent_dates"]] == [
        world.pollruns["may8"],
        world.pollruns["may1"],
    ]


@time_machine.travel(SOON_AFTER, tick=False)
def test_it_ranks_the_most_active_regions_and_groups(world, client_for, ann):
    response = client_for(ann, world.org).get("/")
    answered = responded("may1") + responded("may8")
    regions = {item.name: item.responses for item in response.context["active_regions"]}
    for region in ("Kampala", "Wakiso", "Gulu"):
        parent = world.regions[region].parent.name
        expected = sum(1 for name in answered if CONTACTS[name][0] == region)
        assert regions.get(f"{parent} / {region}", 0) == expected
    groups = {item.name: item.responses for item in response.context["active_groups"]}
    for group in ("Head Teachers", "Teachers"):
        assert groups[group] == sum(1 for name in answered if group in CONTACTS[name][1])
    counts = [item.responses for item in response.context["active_regions"]]
    assert counts == sorted(counts, reverse=True)


@time_machine.travel(SOON_AFTER + timedelta(days=40), tick=False)
def test_it_forgets_activity_older_than_30_days(world, client_for, ann):
    response = client_for(ann, world.org).get("/")
    assert response.context["active_regions"] == []
    assert response.context["active_groups"] == []


@time_machine.travel(SOON_AFTER, tick=False)
def test_it_shows_a_supervisor_only_their_regions(world, client_for, kampala_sam):
    response = client_for(kampala_sam, world.org).get("/")
    kampala = {n for n, (region, _, _) in CONTACTS.items() if region == "Kampala"}
    assert [item.name for item in response.context["active_regions"]] == ["Central / Kampala"]
    latest = response.context["polls"][0].latest
    assert latest.participants == sum(1 for w, n in ANSWERS if w == "may8" and n in kampala)


def test_it_warns_admins_of_a_failing_sync(world, client_for, ann, kampala_sam):
    SyncState.objects.create(
        org=world.org, kind=SyncKind.RUNS, failures=3, last_error="TembaHttpError: 502"
    )
    SyncState.objects.create(org=world.org, kind=SyncKind.CONTACTS, failures=0)
    admin_page = client_for(ann, world.org).get("/").content.decode()
    assert "TembaHttpError: 502" in admin_page
    assert 'href="/sync/"' in admin_page
    assert [s.kind for s in client_for(ann, world.org).get("/").context["failing_syncs"]] == [
        SyncKind.RUNS
    ]
    supervisor_page = client_for(kampala_sam, world.org).get("/").content.decode()
    assert "TembaHttpError" not in supervisor_page


def test_it_invites_admins_to_select_polls_when_there_are_none(acme, client_for, ann, sam):
    assert "/poll/select/" in client_for(ann, acme).get("/").content.decode()
    assert "/poll/select/" not in client_for(sam, acme).get("/").content.decode()


def test_it_makes_as_many_queries_with_more_polls(world, client_for, ann):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client_for(ann, world.org).get("/").status_code == 200
        return len(queries)

    before = count()
    for index in range(5):
        make_poll(world.org, f"Extra {index}")
    assert count() == before
