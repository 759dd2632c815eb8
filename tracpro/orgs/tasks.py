"""Per-org background tasks: one wrapper owns the lock, the SyncState and fan-out.

    @org_task(SyncKind.RUNS, time_limit=30 * 60)
    def sync_runs(org: Org, state: SyncState) -> dict[str, int]:
        ...  # returns counts, stored on the SyncState

Beat calls `fan_out(kind)`, which queues the kind's task once per syncable org.
A non-blocking Redis lock per org and kind makes a second copy of the same task
return at once instead of running twice; its TTL outlives the task's hard time
limit, so a worker that dies holding it only delays the next run.
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from redis import Redis

from django.conf import settings
from django.utils import timezone

from tracpro.orgs.models import Org, SyncState, SyncStatus

logger = logging.getLogger(__name__)

LOCK_KEY = "tracpro:org-task-lock:{org_id}:{kind}"
LOCK_MARGIN = 60  # seconds the lock outlives the hard time limit

OrgTaskBody = Callable[[Org, SyncState], dict | None]


@dataclass(frozen=True)
class OrgTaskSpec:
    kind: str
    body: OrgTaskBody
    time_limit: int

    @property
    def lock_ttl(self) -> int:
        return self.time_limit + LOCK_MARGIN


ORG_TASKS: dict[str, Task] = {}


def redis_client() -> Redis:
    return Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


def org_task(kind: str, *, time_limit: int = 30 * 60) -> Callable[[OrgTaskBody], Task]:
    """Register `body` as the Celery task for `kind`, run as `task.delay(org_id)`."""

    def decorator(body: OrgTaskBody):
        spec = OrgTaskSpec(kind, body, time_limit)

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


def run_org_task(spec: OrgTaskSpec, org_id: int) -> str:
    """Run one org's task unless another worker holds its lock. Returns what happened."""
    org = Org.objects.active().filter(pk=org_id).first()
    if org is None:
        return "skipped"
    lock = redis_client().lock(
        LOCK_KEY.format(org_id=org_id, kind=spec.kind), timeout=spec.lock_ttl, blocking=False
    )
    if not lock.acquire():
        logger.info("%s for org %s is already running; skipped", spec.kind, org.subdomain)
        return "locked"
    try:
        state = start_state(org, spec.kind)
        try:
            counts = spec.body(org, state)
        except (Exception, SoftTimeLimitExceeded) as error:
            record_failure(state, error)
            logger.exception("%s for org %s failed", spec.kind, org.subdomain)
            return "failed"
        record_success(state, counts)
        return "succeeded"
    finally:
        release(lock)


def start_state(org: Org, kind: str) -> SyncState:
    state, _ = SyncState.objects.get_or_create(org=org, kind=kind)
    state.status = SyncStatus.RUNNING
    state.started_on = timezone.now()
    state.save(update_fields=["status", "started_on"])
    return state


def record_success(state: SyncState, counts: dict | None) -> None:
    state.status = SyncStatus.SUCCEEDED
    state.finished_on = state.last_success_on = timezone.now()
    state.failures = 0
    state.last_error = ""
    fields = ["status", "finished_on", "last_success_on", "failures", "last_error"]
    if counts is not None:
        state.counts = counts
        fields.append("counts")
    state.save(update_fields=fields)


def record_failure(state: SyncState, error: BaseException) -> None:
    """Keep the cursor and watermark: the next run resumes where this one stopped."""
    state.status = SyncStatus.FAILED
    state.finished_on = timezone.now()
    state.failures += 1
    summary = traceback.format_exception_only(type(error), error)[-1].strip()
    state.last_error = summary[:2000]
    state.save(update_fields=["status", "finished_on", "failures", "last_error"])


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
