"""Per-org background tasks: one wrapper owns the lock, the SyncState and fan-out.

    @org_task(SyncKind.RUNS, time_limit=30 * 60)
    def sync_runs(org: Org, state: SyncState) -> dict[str, int]:
        ...  # returns counts, stored on the SyncState; {"complete": False, ...}
             # queues the task again once the lock is released

Beat calls `fan_out(kind)`, which queues the kind's task once per syncable org.
A non-blocking Redis lock per org and kind makes a second copy of the same task
return at once instead of running twice; its TTL outlives the task's hard time
limit, so a worker that dies holding it only delays the next run.

A long task may instead ask for `heartbeat=N` seconds: its lock then lives N
seconds past the last `heartbeat()` call the body makes, so a worker killed
mid-task (OOM, deploy) holds the next run back for minutes, not a whole time limit.
"""

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from redis import Redis
from redis.exceptions import LockError

from django.conf import settings
from django.utils import timezone

from tracpro.orgs.models import Org, SyncState, SyncStatus

logger = logging.getLogger(__name__)

LOCK_KEY = "tracpro:org-task-lock:{org_id}:{kind}"
LOCK_MARGIN = 60  # seconds the lock outlives the hard time limit

OrgTaskBody = Callable[[Org, SyncState], dict | None]


class Postpone(Exception):
    """Raised by a task body that must wait until `until` (e.g. RapidPro's rate limit):
    the task is queued again for then, and its state says it is waiting, not failing.
    Whatever the body saved before (a sync's cursor) is where the next run resumes."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


HEARTBEAT_EVERY = 15  # seconds between lock refreshes, however often heartbeat() is called


@dataclass(frozen=True)
class OrgTaskSpec:
    kind: str
    body: OrgTaskBody
    time_limit: int
    heartbeat: int | None = None  # seconds the lock lives past the last heartbeat()

    @property
    def lock_ttl(self) -> int:
        return self.heartbeat or self.time_limit + LOCK_MARGIN


# The lock of the org task running in this thread, when it asked for heartbeats.
_running = threading.local()


ORG_TASKS: dict[str, Task] = {}


def redis_client() -> Redis:
    return Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def org_task(
    kind: str, *, time_limit: int = 30 * 60, heartbeat: int | None = None
) -> Callable[[OrgTaskBody], Task]:
    """Register `body` as the Celery task for `kind`, run as `task.delay(org_id)`."""

    def decorator(body: OrgTaskBody):
        spec = OrgTaskSpec(kind, body, time_limit, heartbeat)

        @shared_task(
            name=f"tracpro.org_task.{kind}",
            soft_time_limit=time_limit,
            time_limit=time_limit + 30,
            ignore_result=True,
        )
        def task(org_id: int) -> str:
            return run_org_task(spec, org_id)

        task.spec = spec
        ORG_TASKS[kind] = task
        return task

    return decorator


def run_org_task(spec: OrgTaskSpec, org_id: int, body: OrgTaskBody | None = None) -> str:
    """Run one org's task unless another worker holds its lock. Returns what happened.

    `body` replaces the task's own body (e.g. a management command running the same
    sync in the foreground, without a time budget).
    """
    org = Org.objects.active().filter(pk=org_id).first()
    if org is None:
        return "skipped"
    if is_waiting(org, spec.kind):
        return "waiting"  # queued again for when the wait ends; beat need not ask now
    lock = redis_client().lock(
        LOCK_KEY.format(org_id=org_id, kind=spec.kind), timeout=spec.lock_ttl, blocking=False
    )
    if not lock.acquire():
        logger.info("%s for org %s is already running; skipped", spec.kind, org.subdomain)
        return "locked"
    _running.lock = lock if spec.heartbeat else None
    _running.beaten = time.monotonic()
    try:
        state = start_state(org, spec.kind)
        try:
            counts = (body or spec.body)(org, state)
        except Postpone as wait:
            record_waiting(state, wait)
            logger.info("%s for org %s waits until %s", spec.kind, org.subdomain, wait.until)
            ORG_TASKS[spec.kind].apply_async((org_id,), eta=wait.until)
            return "waiting"
        except (Exception, SoftTimeLimitExceeded) as error:
            record_failure(state, error)
            logger.exception("%s for org %s failed", spec.kind, org.subdomain)
            return "failed"
        record_success(state, counts)
    finally:
        _running.lock = None
        release(lock)
    if counts and counts.get("complete") is False:
        # The body stopped at its time budget with more to do (a long backfill):
        # carry on in a fresh task, now that the lock is free.
        ORG_TASKS[spec.kind].delay(org_id)
        return "continued"
    return "succeeded"


def start_state(org: Org, kind: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(org=org, kind=kind)
    state.status = SyncStatus.RUNNING
    state.started_on = timezone.now()
    state.save(update_fields=["status", "started_on"])
    return state


def is_waiting(org: Org, kind: str) -> bool:
    return SyncState.objects.filter(
        org=org, kind=kind, status=SyncStatus.WAITING, resume_at__gt=timezone.now()
    ).exists()


def record_waiting(state: SyncState, wait: Postpone) -> None:
    """Neither a success nor a failure: consecutive failures stay as they were."""
    state.status = SyncStatus.WAITING
    state.finished_on = timezone.now()
    state.resume_at = wait.until
    state.last_error = wait.reason[:2000]
    state.save(update_fields=["status", "finished_on", "resume_at", "last_error"])


def record_success(state: SyncState, counts: dict | None) -> None:
    state.status = SyncStatus.SUCCEEDED
    state.finished_on = state.last_success_on = timezone.now()
    state.failures = 0
    state.last_error = ""
    state.resume_at = None
    fields = ["status", "finished_on", "last_success_on", "failures", "last_error", "resume_at"]
    if counts is not None:
        state.counts = counts
        fields.append("counts")
    state.save(update_fields=fields)


def record_failure(state: SyncState, error: BaseException) -> None:
    """Keep the cursor and watermark: the next run resumes where this one stopped."""
    state.status = SyncStatus.FAILED
    state.finished_on = timezone.now()
    state.failures += 1
    state.resume_at = None
    summary = traceback.format_exception_only(type(error), error)[-1].strip()
    state.last_error = summary[:2000]
    state.save(update_fields=["status", "finished_on", "failures", "last_error", "resume_at"])


def heartbeat() -> None:
    """The running org task is alive: keep its lock (for tasks with `heartbeat=`)."""
    lock = getattr(_running, "lock", None)
    if lock is None or time.monotonic() - _running.beaten < HEARTBEAT_EVERY:
        return
    _running.beaten = time.monotonic()
    try:
        lock.reacquire()
    except LockError:
        logger.warning("lock %s was lost: another worker may run this task too", lock.name)


def release(lock) -> None:
    try:
        lock.release()
    except Exception:  # the lock expired and may belong to another worker now
        logger.warning("lock %s had expired before release", lock.name)


def trigger(org: Org, kind: str) -> None:
    """Queue one org's task of `kind` now (e.g. after an admin selects a poll)."""
    ORG_TASKS[kind].delay(org.pk)


@shared_task(name="tracpro.orgs.tasks.fan_out", ignore_result=True)
def fan_out(kind: str) -> int:
    """Queue `kind`'s task once for every org that can reach RapidPro."""
    task = ORG_TASKS[kind]
    org_ids = list(Org.objects.syncable().values_list("pk", flat=True))
    for org_id in org_ids:
        task.delay(org_id)
    return len(org_ids)
