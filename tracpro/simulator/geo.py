"""Administrative boundaries for Uganda: country, regions, districts and wards.

The server lists the workspace's root boundary and every descendant, wards (level 3)
included, each with its full stored geometry and no way to ask for less
(`temba/api/v2/views.py` BoundariesEndpoint, since January 2025 without its
`geometry` parameter). `wards` sets how many level-3 boundaries there are (the
demo: Kampala's five divisions; `--boundaries 10000` for a large country).

Shapes are jittered rectangles around the real places (not real borders): each
polygon only ever moves inward from its own rectangle, so neighbours never
overlap and districts stay inside their region. Every ring has a few dozen
points so that simplification has something to do.
"""

import math
import random

# (lon_min, lat_min, lon_max, lat_max)
COUNTRY = ("Uganda", "192796", (29.5, -1.5, 34.98, 4.3), ["Republic of Uganda"])
REGIONS = {
    "Central": ("3492710", (31.3, -1.0, 32.9, 1.7), ["Buganda"]),
    "Eastern": ("3492711", (32.9, -0.3, 34.85, 1.7), ["East"]),
    "Northern": ("3492712", (30.6, 1.7, 34.85, 4.2), ["North"]),
    "Western": ("3492713", (29.6, -1.4, 31.3, 1.7), ["West"]),
}
DISTRICTS = {
    "Kampala": ("Central", "3492720", (32.45, 0.2, 32.7, 0.45), ["Kampala City", "KCCA"]),
    "Wakiso": ("Central", "3492721", (32.0, 0.0, 32.42, 0.6), []),
    "Mukono": ("Central", "3492722", (32.72, 0.1, 32.84, 0.8), []),
    "Gulu": ("Northern", "3492723", (31.9, 2.5, 32.7, 3.2), ["Gulu City"]),
    "Lira": ("Northern", "3492724", (32.75, 2.0, 33.4, 2.6), []),
    "Jinja": ("Eastern", "3492725", (33.0, 0.3, 33.4, 0.7), ["Jinja City"]),
    "Mbale": ("Eastern", "3492726", (34.0, 0.9, 34.4, 1.3), []),
    "Mbarara": ("Western", "3492727", (30.4, -0.9, 31.0, -0.3), []),
    "Kasese": ("Western", "3492728", (29.75, -0.2, 30.3, 0.4), []),
}


def _ring(rect: tuple, jitter: float, rng: random.Random, per_edge: int = 9) -> list[list[float]]:
    """A closed counter-clockwise ring on the rectangle's edges, pushed inward at random."""
    lon0, lat0, lon1, lat1 = rect
    corners = [(lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1)]
    points = []
    for (ax, ay), (bx, by) in zip(corners, corners[1:] + corners[:1], strict=True):
        for i in range(per_edge):
            f = i / per_edge
            x, y = ax + (bx - ax) * f, ay + (by - ay) * f
            push = rng.uniform(min(0.004, jitter / 2), jitter)
            x += push if x <= lon0 + 1e-9 else -push if x >= lon1 - 1e-9 else 0
            y += push if y <= lat0 + 1e-9 else -push if y >= lat1 - 1e-9 else 0
            points.append([round(x, 5), round(y, 5)])
    points.append(points[0])
    return points


def _boundary(osm_id: str, name: str, level: int, parent, rect, aliases, rng, jitter) -> dict:
    return {
        "osm_id": osm_id,
        "name": name,
        "parent": parent,
        "level": level,
        "aliases": sorted(aliases),
        "geometry": {"type": "MultiPolygon", "coordinates": [[_ring(rect, jitter, rng)]]},
    }


KAMPALA_DIVISIONS = ("Kampala Central", "Kawempe", "Makindye", "Nakawa", "Rubaga")
UPPER_LEVELS = 1 + len(REGIONS) + len(DISTRICTS)  # boundaries above the wards
WARD_POINTS = 30  # points per edge of a ward's ring: full geometry is heavy


def uganda_boundaries(seed: int, wards: int = len(KAMPALA_DIVISIONS)) -> list[dict]:
    """The boundaries endpoint's results for an org in Uganda, ordered by osm_id."""
    rng = random.Random(f"{seed}/boundaries")
    name, osm_id, rect, aliases = COUNTRY
    found = [_boundary(osm_id, name, 0, None, rect, aliases, rng, 0.05)]
    country_ref = {"osm_id": osm_id, "name": name}
    for region, (r_id, r_rect, r_aliases) in REGIONS.items():
        found.append(_boundary(r_id, region, 1, country_ref, r_rect, r_aliases, rng, 0.03))
    for district, (region, d_id, d_rect, d_aliases) in DISTRICTS.items():
        parent = {"osm_id": REGIONS[region][0], "name": region}
        found.append(_boundary(d_id, district, 2, parent, d_rect, d_aliases, rng, 0.02))
    found.extend(_wards(wards, rng))
    return sorted(found, key=lambda b: b["osm_id"])


def _wards(count: int, rng: random.Random) -> list[dict]:
    """Level-3 boundaries in a grid inside their district: Kampala's divisions, or for
    a large country `count` wards spread over every district."""
    districts = list(DISTRICTS)
    if count <= len(KAMPALA_DIVISIONS):
        places = [("Kampala", slot, KAMPALA_DIVISIONS[slot]) for slot in range(count)]
    else:
        places = [(districts[n % len(districts)], n // len(districts), "") for n in range(count)]
    side = max(1, math.ceil(math.sqrt(max((slot for _, slot, _ in places), default=0) + 1)))
    found = []
    for number, (district, slot, name) in enumerate(places):
        _region, d_id, (lon0, lat0, lon1, lat1), _aliases = DISTRICTS[district]
        width, height = (lon1 - lon0) / side, (lat1 - lat0) / side
        x, y = lon0 + (slot % side) * width, lat0 + (slot // side) * height
        ring = _ring((x, y, x + width, y + height), min(width, height) / 5, rng, WARD_POINTS)
        found.append(
            {
                "osm_id": f"R{4_000_000 + number}",
                "name": name or f"{district} Ward {slot + 1}",
                "parent": {"osm_id": d_id, "name": district},
                "level": 3,
                "aliases": [],
                "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            }
        )
    return found


def boundary_path(district: str) -> str:
    """A district field value, e.g. "Uganda > Central > Kampala"."""
    return f"{COUNTRY[0]} > {DISTRICTS[district][0]} > {district}"
