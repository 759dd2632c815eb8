"""How charts break data down by region.

Rollup rows carry the contact's own region. Charts split by region and maps
colour boundaries one level at a time: the "units" of a view are the regions
just below what the user is looking at, each covering its whole sub-tree, so
a supervisor of Central sees Kampala, Wakiso and Mukono, and an admin looking
at "All regions" sees the top of the tree.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from tracpro.groups.tree import NO_REGION, RegionTree

DIRECT_LABEL = _("%(region)s (not in a sub-region)")


@dataclass(frozen=True)
class Unit:
    """One slice of a breakdown: a label and the region ids it covers (None = no region)."""

    key: str
    label: str
    region_ids: frozenset[int | None]
    boundary_id: int | None = None
    region_id: int | None = None


def units(tree: RegionTree, region_ids: frozenset[int] | None) -> list[Unit]:
    """How a view of `region_ids` (None: everything) splits by region.

    A view with one root splits into that root's children, plus the root
    itself for contacts placed directly in it; a view with several roots
    splits into the roots. An unlimited view adds "No region".
    """
    visible = _visible(tree, region_ids)
    direct, tops = _breakdown(tree, region_ids)
    found = []
    if direct is not None:
        label = DIRECT_LABEL % {"region": tree.name(direct)}
        found.append(Unit(f"{direct}-direct", label, frozenset([direct]), region_id=direct))
    found += [_unit(tree, pk, visible) for pk in tops]
    if region_ids is None:
        found.append(Unit("none", str(NO_REGION), frozenset([None])))
    return found


def map_units(tree: RegionTree, region_ids: frozenset[int] | None) -> list[Unit]:
    """The units a map can draw: a unit without a boundary gives way to its children."""
    visible = _visible(tree, region_ids)
    direct, pending = _breakdown(tree, region_ids)
    found: list[Unit] = []
    while pending:
        pk = pending.pop(0)
        if tree.nodes[pk].boundary_id is not None:
            found.append(_unit(tree, pk, visible))
        else:
            pending.extend(child for child in tree.children.get(pk, []) if child in visible)
    if not found and direct is not None and tree.nodes[direct].boundary_id is not None:
        found.append(_unit(tree, direct, visible))
    return found


def unit_lookup(units: Iterable[Unit]) -> dict[int | None, Unit]:
    """region id -> the unit that covers it."""
    return {region_id: unit for unit in units for region_id in unit.region_ids}


def _visible(tree: RegionTree, region_ids: frozenset[int] | None) -> frozenset[int]:
    return region_ids if region_ids is not None else frozenset(tree.nodes)


def _breakdown(tree: RegionTree, region_ids: frozenset[int] | None) -> tuple[int | None, list[int]]:
    """(the single root, if the view has one with children; the regions to split into)."""
    roots = tree.roots(region_ids)
    visible = _visible(tree, region_ids)
    if len(roots) == 1:
        children = [pk for pk in tree.children.get(roots[0], []) if pk in visible]
        if children:
            return roots[0], children
    return None, roots


def _unit(tree: RegionTree, pk: int, visible: frozenset[int]) -> Unit:
    region = tree.nodes[pk]
    covered = tree.subtree([pk]) & visible
    return Unit(str(pk), region.name, frozenset(covered), region.boundary_id, pk)
