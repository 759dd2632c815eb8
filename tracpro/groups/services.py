"""Writes to regions and reporter groups. Views call these; they keep the rules in one place.

Selecting or deselecting groups changes which RapidPro contacts TracPro follows,
so it queues a contact sync once the transaction commits (never a RapidPro call
inside the request).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tracpro.groups.models import Boundary, Region, RemoteGroup, ReporterGroup
from tracpro.groups.tree import RegionTree
from tracpro.orgs import tasks
from tracpro.orgs.models import Org, SyncKind


class HierarchyError(ValueError):
    """A parent that would put a region inside itself (or in another org)."""


@dataclass(frozen=True)
class SelectionChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def select_groups(
    org: Org, model: type[Region] | type[ReporterGroup], chosen: Iterable[RemoteGroup]
) -> SelectionChange:
    """Make `chosen` the org's active regions (or reporter groups): create or
    reactivate them, deactivate the others, then queue a contact sync."""
    chosen_by_uuid = {group.uuid: group for group in chosen}
    added: list[str] = []
    removed: list[str] = []
    with transaction.atomic():
        existing = {item.uuid: item for item in model.objects.for_org(org).select_for_update()}
        for uuid, group in chosen_by_uuid.items():
            item = existing.get(uuid)
            if item is None:
                model.objects.create(org=org, uuid=uuid, name=group.name)
                added.append(group.name)
            elif not item.is_active or item.name != group.name:
                if not item.is_active:
                    added.append(group.name)
                item.is_active = True
                item.name = group.name
                item.save(update_fields=["is_active", "name"])
        for uuid, item in existing.items():
            if item.is_active and uuid not in chosen_by_uuid:
                deactivate(item)
                removed.append(item.name)
        change = SelectionChange(tuple(added), tuple(removed))
        if change.changed:
            transaction.on_commit(lambda: tasks.trigger(org, SyncKind.CONTACTS), robust=True)
    return change


def deactivate(item: Region | ReporterGroup) -> None:
    if isinstance(item, Region):
        item.deactivate()
    else:
        item.is_active = False
        item.save(update_fields=["is_active"])


def parent_choices(region: Region) -> list[Region]:
    """Regions that may become `region`'s parent: any active region of its org
    except itself and its descendants, in tree order."""
    tree = RegionTree.load(region.org)
    excluded = tree.subtree([region.pk])
    return [r for r in tree.in_order() if r.pk not in excluded and r.pk != region.pk]


def check_parent(region: Region, parent: Region | None) -> None:
    if parent is None:
        return
    if parent.org_id != region.org_id or not parent.is_active:
        raise HierarchyError(_("Choose an active region of this organization."))
    if parent.pk == region.pk:
        raise HierarchyError(_("A region cannot be its own parent."))
    if parent.pk in RegionTree.load(region.org).subtree([region.pk]):
        raise HierarchyError(
            _("%(parent)s is inside %(region)s, so it cannot also be its parent.")
            % {"parent": parent.name, "region": region.name}
        )


def move_region(region: Region, parent: Region | None) -> None:
    """Put `region` (with its sub-regions) under `parent`, or at the top level."""
    with transaction.atomic():
        # Lock the org's regions so two admins cannot build a cycle between them.
        list(Region.objects.for_org(region.org).select_for_update().values_list("pk"))
        region.refresh_from_db(fields=["parent", "is_active"])
        check_parent(region, parent)
        if region.parent_id == getattr(parent, "pk", None):
            return
        region.parent = parent
        region.save(update_fields=["parent"])
        # A contact in both a region's group and its parent's belongs to the deeper
        # one, so the sync recomputes contacts' regions for the new tree.
        org = region.org
        transaction.on_commit(lambda: tasks.trigger(org, SyncKind.CONTACTS), robust=True)


def update_region(region: Region, parent: Region | None, boundary: Boundary | None) -> None:
    with transaction.atomic():
        move_region(region, parent)
        region.boundary = boundary
        region.save(update_fields=["boundary"])
