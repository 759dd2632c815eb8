"""Boundaries -> Boundary: country, states and districts (levels 0-2) with parents
linked by osm_id, the geometry as RapidPro sent it and a simplified copy for maps.

RapidPro returns every boundary each time (there is no "modified since"), wards and
their full geometry included (it has no parameter to ask for less), so the syncer
drops what TracPro does not show (levels below districts) as each page is read,
before the client parses it, compares the rest with the mirror and writes, and
simplifies, only what changed.
"""

import logging

from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from tracpro.groups.models import Boundary
from tracpro.orgs.models import SyncKind
from tracpro.rapidpro.syncers.base import Syncer

logger = logging.getLogger(__name__)

MAX_LEVEL = Boundary.Level.DISTRICT
# Simplify to about 1/500 of a boundary's extent: a few hundred points draw a
# district crisply on a phone and keep map data small.
SIMPLIFY_FRACTION = 1 / 500
COORDINATE_DIGITS = 5  # ~1 m


class BoundariesSyncer(Syncer):
    kind = SyncKind.BOUNDARIES

    def sync(self) -> None:
        remote = [
            item
            for item in self.fetch_all(
                lambda: self.client.get_boundaries(geometry=True), "boundary", trim=shown_only
            )
            if item.osm_id and item.level is not None and 0 <= item.level <= MAX_LEVEL
        ]
        existing = {b.osm_id: b for b in Boundary.objects.for_org(self.org)}
        rows = {}
        for item in remote:
            boundary = existing.get(item.osm_id) or Boundary(org=self.org, osm_id=item.osm_id)
            fields = boundary_fields(item)
            if boundary.pk is None:
                self.counts.created += 1
            elif boundary_differs(boundary, fields):
                self.counts.updated += 1
            else:
                self.counts.skipped += 1
                rows[item.osm_id] = boundary
                continue
            if boundary.pk is None or boundary.geometry != fields["geometry"]:
                boundary.simplified_geometry = simplify(fields["geometry"])
            for name, value in fields.items():
                setattr(boundary, name, value)
            boundary.save()
            rows[item.osm_id] = boundary
        self.link_parents(remote, rows)
        self.remove_vanished(remote, existing)
        self.context.report(len(remote), len(remote), "Boundaries")

    def link_parents(self, remote: list, rows: dict[str, Boundary]) -> None:
        for item in remote:
            parent = rows.get(item.parent.osm_id) if item.parent else None
            boundary = rows[item.osm_id]
            if boundary.parent_id != (parent.pk if parent else None):
                boundary.parent = parent
                boundary.save(update_fields=["parent"])

    def remove_vanished(self, remote: list, existing: dict[str, Boundary]) -> None:
        if not remote:
            # An org whose country is unset gets nothing back; keep what we have.
            return
        vanished = set(existing) - {item.osm_id for item in remote}
        if vanished:
            Boundary.objects.for_org(self.org).filter(osm_id__in=vanished).delete()
            self.counts.updated += len(vanished)


def shown_only(item: dict) -> dict:
    """A boundary TracPro does not show loses its geometry before it is parsed."""
    level = item.get("level")
    if isinstance(level, int) and 0 <= level <= MAX_LEVEL:
        return item
    return {**item, "geometry": None}


def boundary_fields(item) -> dict:
    geometry = None
    if item.geometry is not None and item.geometry.type and item.geometry.coordinates is not None:
        geometry = {"type": item.geometry.type, "coordinates": item.geometry.coordinates}
    return {
        "name": (item.name or "")[:128],
        "level": item.level,
        "aliases": list(item.aliases or []),
        "geometry": geometry,
    }


def boundary_differs(boundary: Boundary, fields: dict) -> bool:
    return any(getattr(boundary, name) != value for name, value in fields.items())


def simplify(geometry: dict | None) -> dict | None:
    if not geometry:
        return None
    try:
        shaped = shape(geometry)
        minx, miny, maxx, maxy = shaped.bounds
        tolerance = max(maxx - minx, maxy - miny) * SIMPLIFY_FRACTION
        simplified = shaped.simplify(tolerance, preserve_topology=True)
        if isinstance(shaped, MultiPolygon) and isinstance(simplified, Polygon):
            simplified = MultiPolygon([simplified])  # keep the type maps were given
        return round_coordinates(mapping(simplified))
    except Exception:  # a geometry shapely cannot read is kept as it came
        logger.warning("could not simplify a boundary geometry", exc_info=True)
        return geometry


def round_coordinates(geometry: dict) -> dict:
    def walk(value):
        if isinstance(value, list | tuple):
            if value and isinstance(value[0], int | float):
                return [round(number, COORDINATE_DIGITS) for number in value]
            return [walk(part) for part in value]
        return value

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}
