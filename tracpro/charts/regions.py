"""The org's region tree in memory, and how charts break data down by region.

Rollup rows carry the contact's own region. Charts split by region and maps
colour boundaries one level at a time: the "units" of a view are the regions
just below what the user is looking at, each covering its whole sub-tree, so
a supervisor of Central sees Kampala, Wakiso and Mukono, and an admin looking
at "All regions" sees the top of the tree.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tracpro.groups.models import Region
from tracpro.orgs.models import Org

NO_REGION_LABEL = _("No region")
DIRECT_LABEL = _("%(region)s (not in a sub-region)")


@dataclass(frozen=True)
class RegionNode:
    pk: int
    name: str
    parent_id: int | None
    boundary_id: int | None


@dataclass(frozen=True)
class Unit:
    """One slice of a breakdown: a label and the region ids it covers (None = no region)."""

    key: str
    label: str
    region_ids: frozenset[int | None]
    boundary_id: int | None = None
    region_id: int | None = None


class RegionTree:
    """Active regions of one org, loaded with a single query."""

    def __init__(self, nodes: Iterable[RegionNode]):
        self.nodes: dict[int, RegionNode] = {node.pk: node for node in nodes}
        self.children: dict[int | None, list[int]] = {}
        for node in sorted(self.nodes.values(), key=lambda n: n.name.lower()):
            parent = node.parent_id if node.parent_id in self.nodes else None
            self.children.setdefault(parent, []).append(node.pk)

    @classmethod
    def load(cls, org: Org) -> "RegionTree":
        rows = Region.objects.for_org(org).active().values_list("pk", "name", "parent", "boundary")
        return cls(RegionNode(*row) for row in rows)

    @classmethod
    def for_request(cls, request: HttpRequest) -> "RegionTree":
        tree = getattr(request, "_region_tree", None)
        if tree is None:
            tree = request._region_tree = cls.load(request.org)
        return tree

    def name(self, pk: int | None) -> str:
        node = self.nodes.get(pk) if pk is not None else None
        return node.name if node else str(NO_REGION_LABEL)

    def parent(self, pk: int) -> int | None:
        parent = self.nodes[pk].parent_id
        return parent if parent in self.nodes else None

    def subtree(self, roots: Iterable[int]) -> frozenset[int]:
        found: set[int] = set()
        stack = [pk for pk in roots if pk in self.nodes]
        while stack:
            pk = stack.pop()
            if pk not in found:
                found.add(pk)
                stack.extend(self.children.get(pk, ()))
        return frozenset(found)

    def ancestors(self, pks: Iterable[int]) -> frozenset[int]:
        found: set[int] = set()
        for pk in pks:
            parent = self.parent(pk) if pk in self.nodes else None
            while parent is not None and parent not in found:
                found.add(parent)
                parent = self.parent(parent)
        return frozenset(found)

    def path(self, pk: int | None) -> str:
        """The region with its ancestors, for tables: "Central / Kampala"."""
        if pk not in self.nodes:
            return self.name(pk)
        names = [self.nodes[pk].name]
        parent = self.parent(pk)
        while parent is not None:
            names.append(self.nodes[parent].name)
            parent = self.parent(parent)
        return " / ".join(reversed(names))

    def roots(self, region_ids: frozenset[int] | None) -> list[int]:
        """The highest regions of a set (the tree's top when the set is unlimited)."""
        if region_ids is None:
            return list(self.children.get(None, []))
        return [
            pk
            for pk in self.ordered(region_ids)
            if self.parent(pk) is None or self.parent(pk) not in region_ids
        ]

    def ordered(self, pks: Iterable[int]) -> list[int]:
        return sorted((pk for pk in pks if pk in self.nodes), key=lambda pk: self.path(pk).lower())

    def units(self, region_ids: frozenset[int] | None) -> list[Unit]:
        """How a view of `region_ids` (None: everything) splits by region.

        A view with one root splits into that root's children, plus the root
        itself for contacts placed directly in it; a view with several roots
        splits into the roots. An unlimited view adds "No region".
        """
        visible = self._visible(region_ids)
        direct, tops = self._breakdown(region_ids)
        units = []
        if direct is not None:
            label = DIRECT_LABEL % {"region": self.nodes[direct].name}
            units.append(Unit(f"{direct}-direct", label, frozenset([direct]), region_id=direct))
        units += [self._unit(pk, visible) for pk in tops]
        if region_ids is None:
            units.append(Unit("none", str(NO_REGION_LABEL), frozenset([None])))
        return units

    def map_units(self, region_ids: frozenset[int] | None) -> list[Unit]:
        """The units a map can draw: a unit without a boundary gives way to its children."""
        visible = self._visible(region_ids)
        direct, pending = self._breakdown(region_ids)
        found: list[Unit] = []
        while pending:
            pk = pending.pop(0)
            if self.nodes[pk].boundary_id is not None:
                found.append(self._unit(pk, visible))
            else:
                pending.extend(child for child in self.children.get(pk, []) if child in visible)
        if not found and direct is not None and self.nodes[direct].boundary_id is not None:
            found.append(self._unit(direct, visible))
        return found

    def _visible(self, region_ids: frozenset[int] | None) -> frozenset[int]:
        return region_ids if region_ids is not None else frozenset(self.nodes)

    def _breakdown(self, region_ids: frozenset[int] | None) -> tuple[int | None, list[int]]:
        """(the single root, if the view has one with children; the regions to split into)."""
        roots = self.roots(region_ids)
        visible = self._visible(region_ids)
        if len(roots) == 1:
            children = [pk for pk in self.children.get(roots[0], []) if pk in visible]
            if children:
                return roots[0], children
        return None, roots

    def _unit(self, pk: int, visible: frozenset[int]) -> Unit:
        node = self.nodes[pk]
        covered = self.subtree([pk]) & visible
        return Unit(str(pk), node.name, frozenset(covered), node.boundary_id, pk)


def unit_lookup(units: Iterable[Unit]) -> dict[int | None, Unit]:
    """region id -> the unit that covers it."""
    return {region_id: unit for unit in units for region_id in unit.region_ids}
