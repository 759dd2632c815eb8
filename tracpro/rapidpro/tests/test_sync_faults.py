"""The sync against a misbehaving RapidPro: the simulator's fault modes, through the
real client. Rate limits are waited out, server errors and timeouts retried with
backoff, bad items skipped, and a sync that gives up resumes where it stopped."""

import logging
import time

import pytest

from tracpro.orgs.models import SyncStatus
from tracpro.polls.models import Poll, Response
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, state, sync
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


@pytest.fixture
def simulator():
    with running_simulator(seed=5, contacts=60, runs=1200, now=SIM_NOW) as handle:
        yield handle


@pytest.fixture(autouse=True)
def quick_backoff(settings):
    settings.RAPIDPRO_BACKOFF_BASE = 0.05
    settings.RAPIDPRO_BACKOFF_CAP = 0.2


@pytest.fixture
def edu(acme, simulator):
    set_up_edu(acme, simulator)
    simulator.reset_stats()
    return acme


def expected_runs(simulator, org) -> int:
    flows = simulator.summary("edu")["flows"]
    return sum(flows[uuid]["runs"] for uuid in selected_flows(org))


def selected_flows(org) -> list[str]:
    return list(Poll.objects.filter(org=org, is_active=True).values_list("flow_uuid", flat=True))


def requests_made(simulator, endpoint: str | None = None) -> int:
    stats = simulator.stats()
    if endpoint is None:
        return stats["total"]
    return sum(stats["requests"].get(endpoint, {}).values())


def other_requests(simulator) -> int:
    """Requests that are not pages of runs: a poll's run count, its questions, the list
    of RapidPro's archives."""
    requests = simulator.stats()["requests"]
    endpoints = ("flows", "definitions", "archives")
    return sum(sum(requests.get(endpoint, {}).values()) for endpoint in endpoints)


def failed_requests(simulator, endpoint: str) -> int:
    return sum(
        n
        for status, n in simulator.stats()["requests"].get(endpoint, {}).items()
        if status != "200"
    )


def test_it_waits_out_a_rate_limit_for_as_long_as_retry_after_says(edu, simulator):
    # One request per 2 s: the second request, however slow the machine, comes
    # within the window and is told to wait 1-2 s; then the rule is dropped.
    simulator.faults(mode="rate_limit", requests=1, window=2, count=1, endpoint="runs")
    started = time.monotonic()

    assert sync(edu, "runs") == {"runs": "succeeded"}

    assert time.monotonic() - started >= 1  # Retry-After is at least 1 s
    assert failed_requests(simulator, "runs") == 1
    assert Response.objects.filter(org=edu).count() == expected_runs(simulator, edu)
    counts = state(edu, "runs").counts
    assert counts["retries"] == failed_requests(simulator, "runs")


def test_it_retries_server_errors_and_timeouts_with_backoff(edu, simulator, settings):
    settings.RAPIDPRO_TIMEOUT = 0.5
    simulator.faults(mode="error", status=503, endpoint="runs", nth=2, count=2)
    simulator.faults(mode="delay", seconds=2, endpoint="runs", nth=5, count=1)
    simulator.faults(mode="disconnect", endpoint="runs", nth=7, count=1)

    assert sync(edu, "runs") == {"runs": "succeeded"}

    assert Response.objects.filter(org=edu).count() == expected_runs(simulator, edu)
    counts = state(edu, "runs").counts
    assert counts["retries"] == 4
    # Every request either brought a page or was a retry: none was wasted. (The
    # simulator counts a request when it answers; it never answered the timed-out one.)
    answered = requests_made(simulator)
    assert counts["requests"] == answered + simulator.stats()["faults_fired"]["delay"]
    assert counts["requests"] == counts["pages"] + counts["retries"] + other_requests(simulator)


def test_it_gives_up_after_repeated_failures_and_resumes_from_its_cursor(edu, simulator, beta):
    # Another org mirrors the same workspace without faults, to count a clean sync's requests.
    set_up_edu(beta, simulator)
    simulator.reset_stats()
    assert sync(beta, "runs") == {"runs": "succeeded"}
    clean_requests = requests_made(simulator, "runs")
    simulator.reset_stats()

    # The 6th runs request is the second page of a poll's backfill (after the newest
    # run, the changes since, and two pages of the first poll).
    simulator.faults(mode="error", status=500, endpoint="runs", nth=6, count=5)
    assert sync(edu, "runs") == {"runs": "failed"}

    failed = state(edu, "runs")
    assert failed.status == SyncStatus.FAILED
    assert failed.failures == 1
    assert "500" in failed.last_error and "5 attempts" in failed.last_error
    interrupted = SyncStream.objects.filter(org=edu, kind="runs").exclude(cursor="")
    assert interrupted.count() == 1  # the backfill that was under way kept its place
    stored = Response.objects.filter(org=edu).count()
    assert 0 < stored < expected_runs(simulator, edu)
    ok_before = requests_made(simulator, "runs") - failed_requests(simulator, "runs")

    simulator.reset_stats()
    assert sync(edu, "runs") == {"runs": "succeeded"}

    assert state(edu, "runs").failures == 0
    assert Response.objects.filter(org=edu).count() == expected_runs(simulator, edu)
    # Resuming fetched only the pages the failed sync had not stored (plus the new
    # sync's own one request for what changed since).
    assert ok_before + requests_made(simulator, "runs") == clean_requests + 1


def test_it_fails_at_once_when_rapidpro_refuses_the_token(edu, simulator):
    edu.api_token = "not-the-token"
    edu.save()

    assert sync(edu, "runs") == {"runs": "failed"}

    assert "refused the API token" in state(edu, "runs").last_error
    assert requests_made(simulator) == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"mode": "broken_item", "endpoint": "runs", "nth": 3, "field": "contact", "value": None},
        {"mode": "broken_item", "endpoint": "runs", "nth": 3, "field": "values", "value": "oops"},
    ],
    ids=["a run without contact", "a run whose values are not a dict"],
)
def test_it_skips_one_malformed_item_and_keeps_the_rest_of_its_page(edu, simulator, caplog, rule):
    simulator.faults(**rule)
    caplog.set_level(logging.WARNING, logger="tracpro")

    assert sync(edu, "runs") == {"runs": "succeeded"}

    stored = set(Response.objects.filter(org=edu).values_list("run_uuid", flat=True))
    client = simulator.client("edu")
    remote = {run.uuid for flow in selected_flows(edu) for run in client.get_runs(flow=flow).all()}
    assert len(remote - stored) == 1
    (missing,) = remote - stored
    assert missing in caplog.text
    assert state(edu, "runs").counts["failed"] == 1


def test_it_retries_a_malformed_page(edu, simulator):
    simulator.faults(mode="malformed", endpoint="runs", nth=3, count=1)
    simulator.faults(mode="truncate", endpoint="runs", nth=6, count=1)

    assert sync(edu, "runs") == {"runs": "succeeded"}

    assert Response.objects.filter(org=edu).count() == expected_runs(simulator, edu)
    assert state(edu, "runs").counts["retries"] == 2


def test_it_fails_on_a_page_that_stays_malformed_without_losing_its_cursor(edu, simulator):
    simulator.faults(mode="malformed", endpoint="runs", nth=6, count=5)

    assert sync(edu, "runs") == {"runs": "failed"}

    assert "could not be read" in state(edu, "runs").last_error
    cursors = SyncStream.objects.filter(org=edu, kind="runs").exclude(cursor="")
    assert cursors.count() == 1
    assert sync(edu, "runs") == {"runs": "succeeded"}
    assert Response.objects.filter(org=edu).count() == expected_runs(simulator, edu)


def test_it_stores_an_item_served_on_two_pages_once(edu, simulator):
    simulator.faults(mode="duplicate_item", endpoint="runs", count=3)

    assert sync(edu, "runs") == {"runs": "succeeded"}

    assert Response.objects.filter(org=edu).count() == expected_runs(simulator, edu)
    counts = state(edu, "runs").counts
    assert counts["created"] == expected_runs(simulator, edu)
    assert counts["skipped"] >= 3
