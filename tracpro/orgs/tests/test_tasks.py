"""The per-org task wrapper, against the real Redis (and, once, a real worker)."""

import os
import subprocess
import sys
import threading
import time

import pytest

from django.conf import settings
from django.db import connection, connections

from tracpro.orgs.models import Org, SyncState, SyncStatus
from tracpro.orgs.tasks import LOCK_KEY, OrgTaskSpec, fan_out, redis_client, run_org_task
from tracpro.orgs.tests import probe_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(target, *args) -> threading.Thread:
    """Start target in a thread that closes its own database connection."""

    def run():
        try:
            target(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture(autouse=True)
def clean_locks():
    client = redis_client()
    for key in client.scan_iter("tracpro:org-task-lock:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("tracpro:org-task-lock:*"):
        client.delete(key)


def test_two_concurrent_runs_for_one_org_and_kind_run_once(acme):
    entered, release = threading.Event(), threading.Event()
    calls = []

    def slow(org: Org, state: SyncState) -> dict:
        calls.append(org.pk)
        entered.set()
        release.wait(10)
        return {}

    spec = OrgTaskSpec("slow", slow, time_limit=60)
    outcome = {}
    first = in_thread(lambda: outcome.setdefault("first", run_org_task(spec, acme.pk)))
    assert entered.wait(10)
    assert run_org_task(spec, acme.pk) == "locked"
    release.set()
    first.join(10)
    assert outcome["first"] == "succeeded"
    assert calls == [acme.pk]


def test_the_lock_outlives_the_time_limit(acme):
    ttls = []

    def measure(org: Org, state: SyncState) -> dict:
        ttls.append(redis_client().pttl(LOCK_KEY.format(org_id=org.pk, kind="measure")))
        return {}

    run_org_task(OrgTaskSpec("measure", measure, time_limit=120), acme.pk)
    assert ttls[0] > 120 * 1000


def test_other_orgs_and_kinds_are_not_blocked(acme, beta):
    entered, release = threading.Event(), threading.Event()

    def slow(org: Org, state: SyncState) -> dict:
        entered.set()
        release.wait(10)
        return {}

    def quick(org: Org, state: SyncState) -> dict:
        return {}

    first = in_thread(run_org_task, OrgTaskSpec("slow", slow, 60), acme.pk)
    assert entered.wait(10)
    assert run_org_task(OrgTaskSpec("slow", slow, 60), beta.pk) != "locked"
    assert run_org_task(OrgTaskSpec("quick", quick, 60), acme.pk) == "succeeded"
    release.set()
    first.join(10)


def test_a_crashed_holders_lock_expires(acme):
    key = LOCK_KEY.format(org_id=acme.pk, kind="crashy")
    redis_client().set(key, "token-of-a-dead-worker", px=400)
    spec = OrgTaskSpec("crashy", lambda org, state: {"ran": 1}, time_limit=60)
    assert run_org_task(spec, acme.pk) == "locked"
    time.sleep(0.5)
    assert run_org_task(spec, acme.pk) == "succeeded"
    assert SyncState.objects.get(org=acme, kind="crashy").counts == {"ran": 1}


def test_it_records_success_and_failure_on_the_sync_state(acme):
    def failing(org: Org, state: SyncState) -> dict:
        state.cursor = "page-3"
        state.save(update_fields=["cursor"])
        raise ConnectionError("RapidPro did not answer")

    assert run_org_task(OrgTaskSpec("flaky", failing, 60), acme.pk) == "failed"
    assert run_org_task(OrgTaskSpec("flaky", failing, 60), acme.pk) == "failed"
    state = SyncState.objects.get(org=acme, kind="flaky")
    assert state.status == SyncStatus.FAILED
    assert state.failures == 2
    assert state.last_error == "ConnectionError: RapidPro did not answer"
    assert state.cursor == "page-3", "a failure keeps the resume cursor"

    assert run_org_task(OrgTaskSpec("flaky", lambda o, s: {"runs": 5}, 60), acme.pk) == "succeeded"
    state.refresh_from_db()
    assert (state.status, state.failures, state.last_error) == (SyncStatus.SUCCEEDED, 0, "")
    assert state.counts == {"runs": 5}
    assert state.last_success_on is not None
    assert state.cursor == "page-3"


def test_it_skips_inactive_orgs(acme):
    acme.is_active = False
    acme.save()
    assert run_org_task(OrgTaskSpec("any", lambda o, s: {}, 60), acme.pk) == "skipped"
    assert not SyncState.objects.filter(org=acme).exists()


def test_fan_out_queues_one_task_per_syncable_org(acme, beta, celery_eager):
    beta.api_token = ""
    beta.save()
    assert fan_out(probe_tasks.PROBE) == 1
    assert SyncState.objects.get(org=acme, kind=probe_tasks.PROBE).cursor == "done:acme"
    assert not SyncState.objects.filter(org=beta).exists()


@pytest.mark.slow
def test_a_real_worker_runs_the_fanned_out_tasks(acme, beta):
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    connection.close()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracpro.celery", "worker", "--pool", "solo",
         "--include", "tracpro.orgs.tests.probe_tasks", "--loglevel", "WARNING",
         "--without-heartbeat", "--without-mingle", "--without-gossip"],
        env=env,
    )  # fmt: skip
    try:
        fan_out.delay(probe_tasks.PROBE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = SyncState.objects.filter(kind=probe_tasks.PROBE, status=SyncStatus.SUCCEEDED)
            if done.count() == 2:
                break
            time.sleep(0.5)
        cursors = dict(
            SyncState.objects.filter(kind=probe_tasks.PROBE).values_list("org__subdomain", "cursor")
        )
        assert cursors == {"acme": "done:acme", "beta": "done:beta"}
    finally:
        worker.terminate()
        worker.wait(30)
