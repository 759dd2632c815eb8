"""Region scoping: which regions' data a user may see right now.

Admins (and superusers) may see every region and choose "All regions".
Supervisors see the regions assigned to them and all their sub-regions, and
pick one of their regions as the current one. A page computes the scope once
(`tracpro.groups.views.get_scope`) and passes it down: every list, chart,
search and export filters through `scope.region_ids`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from tracpro.groups.models import Region
from tracpro.groups.tree import RegionTree
from tracpro.orgs.access import can_enter, get_membership, is_admin
from tracpro.orgs.models import Org


@dataclass(frozen=True)
class RegionScope:
    org: Org
    is_admin: bool
    # Regions the user may ever see; None means all of them (and contacts without one).
    allowed_ids: frozenset[int] | None
    # The switcher's choice; None means "all regions" (admins) or "all my regions".
    current: Region | None
    include_subregions: bool
    # What data is limited to now; None means no limit.
    region_ids: frozenset[int] | None
    # The org's active regions, loaded once for everything this scope is asked.
    tree: RegionTree

    @classmethod
    def build(
        cls,
        org: Org,
        *,
        is_admin: bool,
        assigned_ids: Iterable[int] = (),
        current_id: int | None = None,
        include_subregions: bool = True,
    ) -> "RegionScope":
        """The scope of an admin, or of a supervisor assigned `assigned_ids`, after
        the switcher chose `current_id` (a choice outside what they may see is ignored)."""
        tree = RegionTree.load(org)
        allowed = None if is_admin else tree.subtree(assigned_ids)
        current = None
        if current_id in tree and (allowed is None or current_id in allowed):
            current = tree.nodes[current_id]

        region_ids = allowed
        if current is not None:
            region_ids = tree.subtree([current.pk]) if include_subregions else {current.pk}
            region_ids = frozenset(region_ids if allowed is None else region_ids & allowed)
        return cls(org, is_admin, allowed, current, include_subregions, region_ids, tree)

    def allows(self, region_id: int | None) -> bool:
        return self.region_ids is None or region_id in self.region_ids

    def choices(self) -> list[Region]:
        """Regions the switcher offers, in tree order, each with a `depth` from the
        top of what this user sees: every active region for admins; a supervisor's
        assigned regions and their sub-regions otherwise."""
        regions = self.tree.in_order()
        if self.allowed_ids is not None:
            regions = [region for region in regions if region.pk in self.allowed_ids]
        top = min((region.depth for region in regions), default=0)
        for region in regions:
            region.depth -= top
            region.indented_name = "\u00a0\u00a0" * region.depth + region.name
        return regions

    def limit(self, regions: Iterable[Region]) -> list[Region]:
        """Only the regions the current choice covers (e.g. a form's region choices)."""
        return [region for region in regions if self.allows(region.pk)]

    def related_ids(self) -> frozenset[int] | None:
        """The regions in view and every region above them (None: no limit): data
        tied to a region (a poll started for it) concerns everyone who sees a part of it."""
        if self.region_ids is None:
            return None
        return self.region_ids | self.tree.ancestors(self.region_ids)


def scope_of(org: Org, user) -> RegionScope | None:
    """Everything a user may reach in an org right now, whatever their region switcher
    shows; None when they may no longer enter it. Background work that acts for a user
    (a message they sent) checks their rights again with this."""
    if user is None or not user.is_active:
        return None
    membership = get_membership(user, org)
    if not can_enter(user, membership):
        return None
    admin = is_admin(user, membership)
    assigned = [] if admin else list(membership.regions.values_list("pk", flat=True))
    return RegionScope.build(org, is_admin=admin, assigned_ids=assigned)
