"""An org task used only by the tests of the per-org task wrapper.

The real-worker test starts `celery worker --include` with this module.
"""

from tracpro.orgs.models import Org, SyncState
from tracpro.orgs.tasks import org_task

PROBE = "probe"


@org_task(PROBE, time_limit=30)
def probe(org: Org, state: SyncState) -> dict[str, int]:
    state.cursor = f"done:{org.subdomain}"
    state.save(update_fields=["cursor"])
    return {"orgs": 1}
