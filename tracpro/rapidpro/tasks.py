"""One per-org Celery task per kind of RapidPro data (see tracpro.orgs.tasks).

Beat queues them for every syncable org (CELERY_BEAT_SCHEDULE); other code queues
one now with `tracpro.orgs.tasks.trigger(org, SyncKind.RUNS)`. A sync that runs
out of its time budget (a long backfill) saves its place and queues itself again.
"""

import time

from celery import Task

from tracpro.orgs.models import Org, SyncKind, SyncState
from tracpro.orgs.tasks import org_task
from tracpro.rapidpro.syncers import run_sync

# Hard limits; each sync stops starting new batches at BUDGET of its limit.
TIME_LIMITS = {
    SyncKind.FIELDS: 5 * 60,
    SyncKind.GROUPS: 5 * 60,
    SyncKind.FLOWS: 10 * 60,
    SyncKind.BOUNDARIES: 15 * 60,
    SyncKind.CONTACTS: 30 * 60,
    SyncKind.RUNS: 30 * 60,
    SyncKind.INBOX: 10 * 60,
}
BUDGET = 0.75
# The lock of a sync lives this long past its last batch (see orgs.tasks.heartbeat):
# a worker killed mid-sync holds the next one back for minutes at most.
LOCK_HEARTBEAT = 5 * 60


def register(kind: str) -> Task:
    time_limit = TIME_LIMITS[kind]

    def sync(org: Org, state: SyncState) -> dict:
        deadline = time.monotonic() + time_limit * BUDGET
        return run_sync(org, kind, state, deadline=deadline).as_dict()

    sync.__name__ = f"sync_{kind}"
    return org_task(kind, time_limit=time_limit, heartbeat=LOCK_HEARTBEAT)(sync)


SYNC_TASKS = {kind: register(kind) for kind in SyncKind}
