"""The org's region tree, loaded with one query and walked in memory.

Every question about the hierarchy (a region's sub-tree, its ancestors, the
tree order of a list, a region's path) is answered here, so the tree is read
once per request (through the region scope) instead of once per question.
Only active regions are in the tree; a region whose parent is not active sits
at the top level.
"""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from tracpro.groups.models import Region
from tracpro.orgs.models import Org

NO_REGION = _("No region")


class RegionTree:
    def __init__(self, regions: Iterable[Region]):
        self.nodes: dict[int, Region] = {region.pk: region for region in regions}
        self.children: dict[int | None, list[int]] = {}
        for region in sorted(self.nodes.values(), key=lambda r: (r.name.casefold(), r.pk)):
            self.children.setdefault(self.parent(region.pk), []).append(region.pk)

    @classmethod
    def load(cls, org: Org) -> "RegionTree":
        return cls(Region.objects.for_org(org).active())

    def __contains__(self, pk: object) -> bool:
        return pk in self.nodes

    def name(self, pk: int | None) -> str:
        region = self.nodes.get(pk) if pk is not None else None
        return region.name if region else str(NO_REGION)

    def parent(self, pk: int) -> int | None:
        parent = self.nodes[pk].parent_id
        return parent if parent in self.nodes else None

    def subtree(self, roots: Iterable[int]) -> frozenset[int]:
        """The given regions (those in the tree) and all their descendants."""
        found: set[int] = set()
        stack = [pk for pk in roots if pk in self.nodes]
        while stack:
            pk = stack.pop()
            if pk not in found:
                found.add(pk)
                stack.extend(self.children.get(pk, ()))
        return frozenset(found)

    def ancestors(self, pks: Iterable[int]) -> frozenset[int]:
        """Every region above the given ones (the given ones excluded unless above another)."""
        found: set[int] = set()
        for pk in pks:
            parent = self.parent(pk) if pk in self.nodes else None
            while parent is not None and parent not in found:
                found.add(parent)
                parent = self.parent(parent)
        return frozenset(found)

    def lineage(self, pk: int) -> list[Region]:
        """The region's ancestors, parent first, up to the top level."""
        found = []
        parent = self.parent(pk) if pk in self.nodes else None
        while parent is not None:
            found.append(self.nodes[parent])
            parent = self.parent(parent)
        return found

    def path(self, pk: int | None) -> str:
        """The region with its ancestors, for tables: "Central / Kampala"."""
        if pk not in self.nodes:
            return self.name(pk)
        names = [self.nodes[pk].name, *(region.name for region in self.lineage(pk))]
        return " / ".join(reversed(names))

    def in_order(self) -> list[Region]:
        """Every region depth-first (siblings by name), each with a `depth` set."""
        ordered: list[Region] = []
        stack = [(pk, 0) for pk in reversed(self.children.get(None, []))]
        while stack:
            pk, depth = stack.pop()
            region = self.nodes[pk]
            region.depth = depth
            ordered.append(region)
            stack.extend((child, depth + 1) for child in reversed(self.children.get(pk, [])))
        return ordered

    def ordered(self, pks: Iterable[int]) -> list[int]:
        """The given regions sorted by path (the tree order of a flat list)."""
        return sorted((pk for pk in pks if pk in self.nodes), key=lambda pk: self.path(pk).lower())

    def roots(self, region_ids: frozenset[int] | None) -> list[int]:
        """The highest regions of a set (the tree's top when the set is unlimited)."""
        if region_ids is None:
            return list(self.children.get(None, []))
        return [
            pk
            for pk in self.ordered(region_ids)
            if self.parent(pk) is None or self.parent(pk) not in region_ids
        ]
