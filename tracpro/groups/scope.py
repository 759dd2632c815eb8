"""Region scoping: which regions' data a request may see right now.

Admins (and superusers) may see every region and choose "All regions".
Supervisors see the regions assigned to them and all their sub-regions, and
pick one of their regions as the current one. Every list, chart, search and
export filters through `get_scope(request).region_ids`.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import HttpRequest

from tracpro.groups.models import Region
from tracpro.orgs.access import is_org_admin
from tracpro.orgs.models import Org

SESSION_KEY = "region:{org_id}"


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

    def allows(self, region_id: int | None) -> bool:
        return self.region_ids is None or region_id in self.region_ids

    def choices(self) -> list[Region]:
        """Regions the switcher offers, in tree order, each with a `depth` from the
        top of what this user sees: every active region for admins; a supervisor's
        assigned regions and their sub-regions otherwise."""
        regions = Region.objects.in_tree_order(self.org)
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


def get_scope(request: HttpRequest) -> RegionScope:
    scope = getattr(request, "_region_scope", None)
    if scope is None:
        scope = request._region_scope = _build_scope(request)
    return scope


def _build_scope(request: HttpRequest) -> RegionScope:
    org = request.org
    admin = is_org_admin(request)
    allowed: frozenset[int] | None = None
    if not admin:
        assigned = request.membership.regions.values_list("pk", flat=True)
        allowed = Region.objects.tree_ids(org, assigned)

    current_id, include_subregions = _saved_choice(request)
    current = None
    if current_id and (allowed is None or current_id in allowed):
        current = Region.objects.for_org(org).active().filter(pk=current_id).first()

    if current is None:
        region_ids = allowed
    elif include_subregions:
        region_ids = Region.objects.tree_ids(org, [current.pk])
        if allowed is not None:
            region_ids &= allowed
    else:
        region_ids = frozenset([current.pk])
    return RegionScope(org, admin, allowed, current, include_subregions, region_ids)


def _saved_choice(request: HttpRequest) -> tuple[int | None, bool]:
    membership = request.membership
    if membership is not None:
        return membership.current_region_id, membership.include_subregions
    saved = request.session.get(SESSION_KEY.format(org_id=request.org.pk), {})
    return saved.get("region"), saved.get("include_subregions", True)


def save_choice(request: HttpRequest, region: Region | None, include_subregions: bool) -> None:
    """Remember the switcher's choice per user and org."""
    membership = request.membership
    if membership is not None:
        membership.current_region = region
        membership.include_subregions = include_subregions
        membership.save(update_fields=["current_region", "include_subregions"])
    else:
        request.session[SESSION_KEY.format(org_id=request.org.pk)] = {
            "region": region.pk if region else None,
            "include_subregions": include_subregions,
        }
    request.__dict__.pop("_region_scope", None)
