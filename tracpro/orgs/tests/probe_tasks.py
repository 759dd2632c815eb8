"""An org task used only by the tests of the per-org task wrapper.

The real-worker tests start `celery worker --include` with this module.
"""

import time

from tracpro.orgs.models import Org, SyncState
from tracpro.orgs.tasks import org_task, redis_client

PROBE = "probe"


@org_task(PROBE, time_limit=30)
def probe(org: Org, state: SyncState) -> dict[str, int]:
    state.cursor = f"done:{org.subdomain}"
    state.save(update_fields=["cursor"])
    return {"orgs": 1}


# The two-beats drill: a task slow enough for duplicates to overlap if the lock
# let them, which records when each run held the org.
SLOW_PROBE = "slow-probe"
SLOW_PROBE_RUNS = "tracpro:test:slow-probe-runs"
SLOW_PROBE_SECONDS = 1.5


@org_task(SLOW_PROBE, time_limit=30)
def slow_probe(org: Org, state: SyncState) -> dict[str, int]:
    started = time.time()
    time.sleep(SLOW_PROBE_SECONDS)
    redis_client().rpush(SLOW_PROBE_RUNS, f"{org.pk} {started} {time.time()}")
    return {"orgs": 1}
