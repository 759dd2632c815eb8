"""A sync that takes as long as a test wants, used by the queue-separation test.

The real-worker test starts `celery worker --include` with this module. The sync
holds its worker until the Redis key RELEASE_KEY is set (or a minute passes).
"""

import time

from tracpro.orgs.models import Org, SyncState
from tracpro.orgs.tasks import org_task, redis_client

SLOW = "slow_probe"
RELEASE_KEY = "tracpro:test:release-slow-sync"


@org_task(SLOW, time_limit=120)
def slow_sync(org: Org, state: SyncState) -> dict[str, int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not redis_client().exists(RELEASE_KEY):
        time.sleep(0.2)
    return {"slept": 1}
