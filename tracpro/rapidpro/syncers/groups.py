"""Groups -> RemoteGroup (what admins choose regions and reporter groups from),
and contact fields -> DataField.

Both are small and read whole each time; only rows that differ are written.
System groups ("Open Tickets"...) are left out: they cannot be regions or
reporter groups. Groups and fields RapidPro no longer has are flagged inactive,
never deleted.
"""

from django.db import models
from django.utils import timezone

from tracpro.contacts.models import DataField
from tracpro.groups.models import Region, RemoteGroup, ReporterGroup
from tracpro.orgs.models import SyncKind
from tracpro.rapidpro.syncers.base import Syncer


class MirrorSyncer(Syncer):
    """Reads a whole remote list and makes a model's rows for the org match it."""

    model: type[models.Model]
    key_field: str
    what: str

    def fetch(self) -> list:
        raise NotImplementedError

    def remote_key(self, item) -> str:
        raise NotImplementedError

    def local_fields(self, item) -> dict:
        raise NotImplementedError

    def sync(self) -> None:
        items = self.fetch()
        existing = {
            getattr(row, self.key_field): row for row in self.model.objects.for_org(self.org)
        }
        created = []
        for item in items:
            fields = self.local_fields(item)
            row = existing.pop(self.remote_key(item), None)
            if row is None:
                key = {self.key_field: self.remote_key(item)}
                created.append(self.model(org=self.org, **key, **fields, **self.touch()))
            elif self.update(row, fields):
                self.counts.updated += 1
            else:
                self.counts.skipped += 1
        for row in existing.values():
            if row.is_active and self.update(row, {"is_active": False}):
                self.counts.updated += 1
        self.model.objects.bulk_create(created, ignore_conflicts=True)
        self.counts.created += len(created)
        self.context.report(len(items), len(items), self.what)

    def update(self, row: models.Model, fields: dict) -> bool:
        """Write the fields that differ; True if any did."""
        changes = {name: value for name, value in fields.items() if getattr(row, name) != value}
        if not changes:
            return False
        self.model.objects.filter(pk=row.pk).update(**changes, **self.touch())
        for name, value in changes.items():
            setattr(row, name, value)
        return True

    def touch(self) -> dict:
        return {}


class GroupsSyncer(MirrorSyncer):
    kind = SyncKind.GROUPS
    model = RemoteGroup
    key_field = "uuid"
    what = "Groups"

    def fetch(self) -> list:
        return [
            group for group in self.fetch_all(self.client.get_groups, "group") if not group.system
        ]

    def remote_key(self, item) -> str:
        return item.uuid

    def local_fields(self, item) -> dict:
        return {
            "name": (item.name or "")[:128],
            "query": item.query or "",
            "member_count": max(item.count or 0, 0),
            "is_active": True,
        }

    def touch(self) -> dict:
        return {"synced_on": timezone.now()}

    def sync(self) -> None:
        super().sync()
        self.follow_renames(Region)
        self.follow_renames(ReporterGroup)

    def follow_renames(self, model: type[Region | ReporterGroup]) -> None:
        """Keep the names of chosen regions and reporter groups as RapidPro has them."""
        renamed = model.objects.for_org(self.org).filter(
            uuid__in=models.Subquery(
                RemoteGroup.objects.for_org(self.org)
                .filter(is_active=True, uuid=models.OuterRef("uuid"))
                .exclude(name=models.OuterRef("name"))
                .values("uuid")
            )
        )
        renamed.update(
            name=models.Subquery(
                RemoteGroup.objects.for_org(self.org)
                .filter(uuid=models.OuterRef("uuid"))
                .values("name")[:1]
            )
        )


class FieldsSyncer(MirrorSyncer):
    kind = SyncKind.FIELDS
    model = DataField
    key_field = "key"
    what = "Contact fields"

    def fetch(self) -> list:
        return self.fetch_all(self.client.get_fields, "field")

    def remote_key(self, item) -> str:
        return item.key

    def local_fields(self, item) -> dict:
        types = DataField.ValueType.values
        return {
            "label": (item.name or item.key)[:128],
            "value_type": item.type if item.type in types else DataField.ValueType.TEXT,
            "is_active": True,
        }
