"""The sync against a simulator that behaves like a real RapidPro server: writes that
become visible late, the server's rate limits, runs archived and deleted from the
API. The mirror must end identical to the simulator's truth: responses per poll and
every answer (run, question, value), which is stronger than a checksum of them."""

from collections import Counter

import pytest

from django.utils import timezone

from tracpro.orgs.models import SyncState, SyncStatus
from tracpro.polls import rollups
from tracpro.polls.models import Answer, Poll, Response, ResponseStatus
from tracpro.polls.tests.integrity import dangling_rows
from tracpro.polls.tests.test_rollups import every_rollup
from tracpro.rapidpro.models import RunArchive
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, state, sync
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


def truth_answers(simulator, org) -> set[tuple[str, str, str]]:
    """(run uuid, result key, value) of every result a contact gave or a flow computed,
    for the selected polls, read from the simulator's own store (archived runs too)."""
    store = simulator.simulator.orgs["edu"]
    selected = set(Poll.objects.filter(org=org, is_active=True).values_list("flow_uuid", flat=True))
    found = set()
    runs = store.runs
    for rid in range(1, len(runs) + 1):
        flow = store.flows[runs.flow[rid - 1]]
        if runs.deleted[rid - 1] or flow.uuid not in selected:
            continue
        walk = store.walk_run(rid)
        for key, (_name, value, category, _node, _time, given) in walk.values.items():
            timed_out = given is None and category in ("No Response", "Timed Out") and value
            if not timed_out:
                found.add((store.run_uuids.make(rid), key, value))
    return found


def mirror_answers(org) -> set[tuple[str, str, str]]:
    return set(
        Answer.objects.filter(response__org=org).values_list(
            "response__run_uuid", "question__result_key", "value"
        )
    )


def assert_identical(simulator, org) -> None:
    truth = simulator.summary("edu")["flows"]
    for poll in Poll.objects.filter(org=org, is_active=True):
        responses = Response.objects.filter(pollrun__poll=poll)
        assert responses.count() == truth[poll.flow_uuid]["runs"], poll
        answered = responses.exclude(status=ResponseStatus.EMPTY).count()
        assert answered == truth[poll.flow_uuid]["responded"], poll
    assert mirror_answers(org) == truth_answers(simulator, org)
    assert dangling_rows() == {}
    # Every rollup (by day, reporter group, number and word), kept through late
    # writes and archive imports, equals a rebuild.
    incremental = every_rollup(org)
    assert incremental["polls_wordrollup"] and incremental["polls_answergrouprollup"]
    rollups.rebuild(org)
    assert every_rollup(org) == incremental


def test_late_writes_rate_limits_and_archives_end_identical_to_the_truth(acme, settings):
    settings.RAPIDPRO_OVERLAP = 60
    with running_simulator(
        seed=6,
        contacts=120,
        runs=2000,
        now=SIM_NOW,
        late_share=0.3,
        late_seconds=30,
        archive_days=45,
        delete_archived=True,
        faults=[{"mode": "rate_limit", "requests": 6, "window": 1, "per": "scope"}],
    ) as simulator:
        set_up_edu(acme, simulator)
        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}
        assert RunArchive.objects.filter(org=acme).count() > 0
        for _ in range(12):  # a minute of live activity, synced as it goes
            simulator.add_runs("edu", 15)
            simulator.tick("edu")
            assert sync(acme, "contacts", "runs") == {
                "contacts": "succeeded",
                "runs": "succeeded",
            }
        simulator.simulator.clock.advance(60)  # every late write is visible now
        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}
        assert simulator.stats()["faults_fired"].get("rate_limit", 0) > 0

        assert_identical(simulator, acme)


def test_without_the_overlap_late_writes_are_lost(acme, settings):
    """The test above would fail without the overlap window."""
    settings.RAPIDPRO_OVERLAP = 0
    with running_simulator(
        seed=6, contacts=120, runs=2000, now=SIM_NOW, late_share=0.3, late_seconds=30
    ) as simulator:
        set_up_edu(acme, simulator)
        sync(acme, "contacts", "runs")
        for _ in range(6):
            simulator.add_runs("edu", 15)
            simulator.tick("edu")
            sync(acme, "runs")
        simulator.simulator.clock.advance(60)
        sync(acme, "runs")

        truth = simulator.summary("edu")["flows"]
        mirrored = sum(
            Response.objects.filter(pollrun__poll=poll).count()
            for poll in Poll.objects.filter(org=acme, is_active=True)
        )
        expected = sum(
            truth[uuid]["runs"]
            for uuid in Poll.objects.filter(org=acme, is_active=True).values_list(
                "flow_uuid", flat=True
            )
        )
        assert mirrored < expected


def test_a_run_both_archived_and_live_is_written_once(acme):
    with running_simulator(
        seed=8, contacts=80, runs=1200, now=SIM_NOW, archive_days=30, delete_archived=False
    ) as simulator:
        set_up_edu(acme, simulator)
        assert sync(acme, "contacts", "runs") == {"contacts": "succeeded", "runs": "succeeded"}
        archived = sum(
            a.record_count for a in simulator.client("edu").get_archives(type="run").all()
        )
        assert archived > 0
        counts = state(acme, "runs").counts
        assert counts["skipped"] >= archived * 0.5  # read twice, written once

        assert_identical(simulator, acme)
        uuids = Counter(Response.objects.filter(org=acme).values_list("run_uuid", flat=True))
        assert max(uuids.values()) == 1


def test_archives_are_read_once_per_poll(acme):
    with running_simulator(
        seed=5, contacts=80, runs=1200, now=SIM_NOW, archive_days=30, delete_archived=True
    ) as simulator:
        set_up_edu(acme, simulator)
        sync(acme, "contacts", "runs")
        archives = RunArchive.objects.filter(org=acme)
        assert archives.exists()
        selected = sorted(
            Poll.objects.filter(org=acme, is_active=True).values_list("flow_uuid", flat=True)
        )
        assert all(sorted(a.flow_uuids) == selected for a in archives)
        before = Response.objects.filter(org=acme).count()
        simulator.reset_stats()

        assert sync(acme, "runs") == {"runs": "succeeded"}

        assert "archives" not in simulator.stats()["requests"]
        assert Response.objects.filter(org=acme).count() == before


def test_a_backfill_of_100000_runs_under_a_tight_rate_limit_waits_and_finishes(
    acme, settings, celery_eager
):
    """Each budget of 150 requests is spent long before its ten minutes are over: the
    sync saves its place, says it waits until RapidPro's time, and goes on from there.
    (The test does not wait ten minutes: when a wait is due, it gives the simulator a
    fresh budget and brings the resume time to now, as the clock would.)"""
    with running_simulator(seed=9, contacts=3000, runs=100_000, now=SIM_NOW) as simulator:
        set_up_edu(acme, simulator)
        budget = {"mode": "rate_limit", "requests": 150, "window": 600, "per": "scope"}
        simulator.faults(**budget)
        statuses = []
        for _ in range(10):
            outcome = sync(acme, "runs")["runs"]
            current = state(acme, "runs")
            statuses.append(current.status)
            if outcome == "succeeded":
                break
            assert outcome == "waiting" and current.status == SyncStatus.WAITING
            wait = (current.resume_at - timezone.now()).total_seconds()
            assert 400 < wait <= 600 and "rate limit" in current.last_error
            asked = simulator.stats()["total"]
            assert sync(acme, "runs") == {"runs": "waiting"}  # beat's run asks nothing
            assert simulator.stats()["total"] == asked
            simulator.clear_faults()  # ten minutes later
            simulator.faults(**budget)
            SyncState.objects.filter(pk=current.pk).update(resume_at=timezone.now())
        assert statuses[-1] == SyncStatus.SUCCEEDED
        assert statuses.count(SyncStatus.WAITING) >= 2 and SyncStatus.FAILED not in statuses
        assert state(acme, "runs").failures == 0
        truth = simulator.summary("edu")["flows"]
        for poll in Poll.objects.filter(org=acme, is_active=True):
            assert (
                Response.objects.filter(pollrun__poll=poll).count()
                == (truth[poll.flow_uuid]["runs"])
            )


def test_ten_thousand_boundaries_sync_with_every_request_in_time(acme, settings):
    with running_simulator(seed=2, contacts=30, runs=0, now=SIM_NOW, boundaries=10_000) as sim:
        acme.api_url, acme.api_token = sim.base_url, sim.tokens["edu"]
        acme.save()
        assert sync(acme, "boundaries") == {"boundaries": "succeeded"}
        assert acme.boundaries.count() == 14  # the country, its regions and districts
        timing = sim.stats()["server_ms"]["boundaries"]
        assert timing["count"] == 40
        assert timing["max"] < settings.RAPIDPRO_TIMEOUT * 1000
