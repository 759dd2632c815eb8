import itertools
import uuid

from tracpro.groups.models import Boundary, Region, RemoteGroup, ReporterGroup
from tracpro.orgs.models import Org

_osm_ids = itertools.count(1000)


def make_region(org: Org, name: str = "Region", parent: Region | None = None, **fields) -> Region:
    fields.setdefault("uuid", str(uuid.uuid4()))
    return Region.objects.create(org=org, name=name, parent=parent, **fields)


def make_reporter_group(org: Org, name: str = "Reporters", **fields) -> ReporterGroup:
    fields.setdefault("uuid", str(uuid.uuid4()))
    return ReporterGroup.objects.create(org=org, name=name, **fields)


def make_remote_group(org: Org, name: str = "Group", **fields) -> RemoteGroup:
    fields.setdefault("uuid", str(uuid.uuid4()))
    return RemoteGroup.objects.create(org=org, name=name, **fields)


def make_boundary(org: Org, name: str = "Boundary", level: int = 1, **fields) -> Boundary:
    return Boundary.objects.create(
        org=org, osm_id=f"R{next(_osm_ids)}", name=name, level=level, **fields
    )


# The tenant sweep builds one of each per org to fill URL arguments.
SWEEP_FACTORIES = {
    "groups.Region": make_region,
    "groups.ReporterGroup": make_reporter_group,
    "groups.RemoteGroup": make_remote_group,
    "groups.Boundary": make_boundary,
}
