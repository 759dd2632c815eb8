"""Two beats started by mistake: every org task is queued twice as often, but no
org's task ever runs twice at the same time (the per-org lock), and every org
still gets its runs. Real beats and a real worker with four threads."""

import itertools

import pytest

from tracpro.orgs.tasks import redis_client
from tracpro.orgs.tests.probe_tasks import SLOW_PROBE, SLOW_PROBE_RUNS
from tracpro.tests.workers import celery_beat, celery_worker, purge_broker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def runs_by_org() -> dict[int, list[tuple[float, float]]]:
    runs: dict[int, list[tuple[float, float]]] = {}
    for item in redis_client().lrange(SLOW_PROBE_RUNS, 0, -1):
        assert isinstance(item, bytes)  # redis_client() does not decode responses
        org_id, started, ended = item.decode().split()
        runs.setdefault(int(org_id), []).append((float(started), float(ended)))
    return runs


def test_two_beats_never_run_an_orgs_task_twice_at_once(acme, beta, tmp_path):
    assert SLOW_PROBE == "slow-probe"  # the kind beat_drill schedules
    redis_client().delete(SLOW_PROBE_RUNS)
    purge_broker()

    with (
        celery_worker(include=("tracpro.orgs.tests.probe_tasks",), pool="threads", concurrency=4),
        celery_beat("tracpro.orgs.tests.beat_drill", tmp_path / "one"),
        celery_beat("tracpro.orgs.tests.beat_drill", tmp_path / "two"),
    ):

        def three_runs_each():
            """each org's slow probe to have run three times"""
            runs = runs_by_org()
            return len(runs) == 2 and all(len(times) >= 3 for times in runs.values())

        wait_for(three_runs_each, timeout=90)

    for org_id, times in runs_by_org().items():
        times.sort()
        for (_, first_end), (second_start, _) in itertools.pairwise(times):
            assert second_start >= first_end, f"org {org_id} ran twice at once"
