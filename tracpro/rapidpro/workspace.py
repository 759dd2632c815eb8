"""The RapidPro workspace's own settings TracPro follows: its time zone.

Poll dates are org-local days, so `Org.timezone` decides which day a run belongs
to. It comes from the workspace (the org endpoint's `timezone`) on each flows
sync: an org whose time zone followed the workspace (or was never set, "UTC")
follows it when it changes; one an admin set to something else keeps it, and the
org settings page warns about the difference. The runs sync recomputes local
dates and the charts when `Org.timezone` changes (RunsSyncer.apply_local_rules).
"""

import logging

from temba_client.v2.types import Org as Workspace

from tracpro.orgs.models import Org
from tracpro.orgs.validators import timezone_names

logger = logging.getLogger(__name__)

UNSET = "UTC"  # Org.timezone's default


def follow_workspace_timezone(org: Org, workspace: Workspace | None) -> bool:
    """Keep the workspace's time zone on the org; True if the org's own one changed."""
    found = getattr(workspace, "timezone", None) or ""
    if found not in timezone_names():
        if found:
            logger.warning("org %s: RapidPro's time zone %r is unknown", org.subdomain, found)
        return False
    if found == org.workspace_timezone:
        return False
    following = org.timezone in (org.workspace_timezone or UNSET, UNSET)
    changes = {"workspace_timezone": found}
    if following:
        changes["timezone"] = found
    Org.objects.filter(pk=org.pk).update(**changes)
    moved = following and org.timezone != found
    for name, value in changes.items():
        setattr(org, name, value)
    return moved
