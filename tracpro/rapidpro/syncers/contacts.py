"""Contacts -> Contact, incremental by modified_on.

TracPro follows the groups admins chose as regions and reporter groups. A
contact's region is the deepest (in TracPro's hierarchy) followed region group it
is in, its reporter groups the followed reporter groups it is in. A contact that
is deleted, blocked, stopped or archived in RapidPro, or in no followed group,
becomes inactive and drops out of charts; its rows stay.

Each sync:
1. recomputes region, reporter groups and is_active from the group uuids stored
   on each contact, if the followed groups or the region tree changed;
2. pulls every contact modified since the watermark (the main stream);
3. pulls the contacts RapidPro deleted since its watermark ("deleted" stream);
4. fetches newly followed groups whole ("group:<uuid>" streams).

A contact edited in TracPro and not yet pushed (push_status "pending") is not
overwritten. Region and is_active changes keep the rollups current in the same
transaction.
"""

import hashlib
import json
from dataclasses import dataclass

from temba_client.v2.types import Contact as RemoteContact

from django.db import transaction

from tracpro.contacts.models import Contact, PushStatus
from tracpro.groups.models import Region, RemoteGroup, ReporterGroup
from tracpro.orgs.models import Org, SyncKind
from tracpro.polls.rollups import RollupTracker
from tracpro.rapidpro.sql import (
    analyze,
    clean_text,
    column_defaults,
    copy_rows,
    create_staging_table,
    execute,
    fetch_all,
    table,
)
from tracpro.rapidpro.syncers.base import Counts, Syncer

STAGE = "sync_contacts"
STAGE_COLUMNS = [
    ("uuid", "text"),
    ("name", "text"),
    ("urn", "text"),
    ("language", "text"),
    ("fields", "text"),
    ("group_uuids", "text[]"),
    ("remote_status", "text"),
    ("modified_on", "timestamptz"),
]
COMPUTED_COLUMNS = [
    ("contact_id", "bigint"),
    ("region_id", "bigint"),
    ("reporter_ids", "bigint[]"),
    ("followed", "boolean"),
    ("is_active", "boolean"),
    ("is_new", "boolean"),
    ("written", "boolean"),
]

MEMBERSHIP = """
    UPDATE sync_contacts s SET
        region_id = (
            SELECT m.id FROM unnest(%(region_uuids)s::text[], %(region_ids)s::bigint[],
                                    %(region_ranks)s::int[]) AS m(uuid, id, rank)
            WHERE m.uuid = ANY(s.group_uuids) ORDER BY m.rank LIMIT 1),
        reporter_ids = ARRAY(
            SELECT g.id
            FROM unnest(%(reporter_uuids)s::text[], %(reporter_ids)s::bigint[]) AS g(uuid, id)
            WHERE g.uuid = ANY(s.group_uuids) ORDER BY g.id)
"""
ACTIVITY = """
    UPDATE sync_contacts SET
        followed = region_id IS NOT NULL OR cardinality(reporter_ids) > 0,
        is_active = remote_status = 'active'
            AND (region_id IS NOT NULL OR cardinality(reporter_ids) > 0)
"""


@dataclass(frozen=True)
class Followed:
    """The groups TracPro follows, as of the start of a sync."""

    region_uuids: list[str]
    region_ids: list[int]
    region_ranks: list[int]  # 0 = the deepest region; a contact gets its lowest rank
    reporter_uuids: list[str]
    reporter_ids: list[int]

    @classmethod
    def snapshot(cls, org: Org) -> "Followed":
        regions = list(Region.objects.for_org(org).active())
        depths = region_depths(regions)
        ranked = sorted(regions, key=lambda r: (-depths[r.pk], r.name, r.pk))
        reporters = list(ReporterGroup.objects.for_org(org).active().order_by("pk"))
        return cls(
            region_uuids=[r.uuid for r in ranked],
            region_ids=[r.pk for r in ranked],
            region_ranks=list(range(len(ranked))),
            reporter_uuids=[g.uuid for g in reporters],
            reporter_ids=[g.pk for g in reporters],
        )

    @property
    def uuids(self) -> list[str]:
        return sorted(set(self.region_uuids) | set(self.reporter_uuids))

    @property
    def fingerprint(self) -> str:
        encoded = json.dumps(
            [self.region_uuids, self.region_ids, self.reporter_uuids, self.reporter_ids]
        )
        return hashlib.sha256(encoded.encode()).hexdigest()

    def params(self) -> dict:
        return {
            "region_uuids": self.region_uuids,
            "region_ids": self.region_ids,
            "region_ranks": self.region_ranks,
            "reporter_uuids": self.reporter_uuids,
            "reporter_ids": self.reporter_ids,
        }


def region_depths(regions: list[Region]) -> dict[int, int]:
    """Depth of each active region; a region whose parent is inactive is a root."""
    by_id = {region.pk: region for region in regions}
    depths: dict[int, int] = {}

    def depth(region: Region, seen: frozenset = frozenset()) -> int:
        if region.pk not in depths:
            parent = by_id.get(region.parent_id)
            if parent is None or parent.pk in seen:
                depths[region.pk] = 0
            else:
                depths[region.pk] = depth(parent, seen | {region.pk}) + 1
        return depths[region.pk]

    for region in regions:
        depth(region)
    return depths


class ContactsSyncer(Syncer):
    kind = SyncKind.CONTACTS

    created = 0  # contacts created by this sync

    def sync(self) -> None:
        followed = Followed.snapshot(self.org)
        self.followed = followed
        main = self.stream_from_newest("", self.client.get_contacts, modified_on)
        if main.params.get("followed") != followed.fingerprint:
            with transaction.atomic():
                self.recompute_memberships()
                main.params = {**main.params, "followed": followed.fingerprint}
                main.save(update_fields=["params", "updated_on"])
        steps = (
            (
                main,
                lambda s: self.client.get_contacts(after=self.incremental_after(s), reverse=True),
                "Contacts",
            ),
            (
                self.stream_from_newest(
                    "deleted", lambda: self.client.get_contacts(deleted=True), modified_on
                ),
                lambda s: self.client.get_contacts(
                    deleted=True, after=self.incremental_after(s), reverse=True
                ),
                "Deleted contacts",
            ),
        )
        # What changed first, so fetching a big new group never holds back the others.
        ingests = (self.ingest, self.ingest_deleted)
        for (stream, query, label), ingest in zip(steps, ingests, strict=True):
            if not self.pull(stream, query, ingest, modified_on, label=label, what="contact"):
                self.context.result.complete = False
                return
        self.context.result.complete = self.pull_new_groups()

    def pull_new_groups(self) -> bool:
        """Fetch each newly followed group whole; forget groups no longer followed, so
        following one again fetches it again."""
        names = {f"group:{uuid}": uuid for uuid in self.followed.uuids}
        streams = self.org.sync_streams.filter(kind=self.kind, name__startswith="group:")
        streams.exclude(name__in=names).delete()
        sizes = dict(RemoteGroup.objects.for_org(self.org).values_list("uuid", "member_count"))
        group_names = dict(RemoteGroup.objects.for_org(self.org).values_list("uuid", "name"))
        for name, uuid in names.items():
            stream = self.stream(name)
            if stream.finished_on is not None:
                continue
            finished = self.pull(
                stream,
                lambda s, uuid=uuid: self.client.get_contacts(group=uuid, reverse=True),
                self.ingest,
                modified_on,
                label=f"Contacts of {group_names.get(uuid, uuid)}",
                total=sizes.get(uuid),
                what="contact",
            )
            if not finished:
                return False
        return True

    # Writing ------------------------------------------------------------------------

    def ingest_deleted(self, contacts: list[RemoteContact]) -> Counts:
        return self.ingest(contacts, deleted=True)

    def ingest(self, contacts: list[RemoteContact], deleted: bool = False) -> Counts:
        latest: dict[str, RemoteContact] = {}
        failed = 0
        for contact in contacts:
            if not contact.uuid:
                failed += 1
                continue
            known = latest.get(contact.uuid)
            if known is None or (
                contact.modified_on
                and known.modified_on
                and contact.modified_on > known.modified_on
            ):
                latest[contact.uuid] = contact
        create_staging_table(STAGE, STAGE_COLUMNS + COMPUTED_COLUMNS)
        copy_rows(STAGE, STAGE_COLUMNS, (stage_row(c, deleted) for c in latest.values()))
        analyze(STAGE)
        skipped = len(contacts) - len(latest) - failed
        skipped += execute(
            """
            DELETE FROM sync_contacts s USING contacts_contact c
            WHERE c.org_id = %(org)s AND c.uuid = s.uuid
              AND (c.remote_modified_on >= s.modified_on OR c.push_status = %(pending)s)
            """,
            {"org": self.org.pk, "pending": PushStatus.PENDING},
        )
        execute(MEMBERSHIP, self.followed.params())
        execute(ACTIVITY)
        execute(
            "UPDATE sync_contacts s SET contact_id = c.id FROM contacts_contact c "
            "WHERE c.org_id = %(org)s AND c.uuid = s.uuid",
            {"org": self.org.pk},
        )
        # Contacts outside every followed group are mirrored only if already known.
        skipped += execute("DELETE FROM sync_contacts WHERE contact_id IS NULL AND NOT followed")
        counts = self.write_staged(upsert=True)
        counts.skipped += skipped
        counts.failed += failed
        self.created += counts.created
        if (
            counts.created
            and self.created >= 1000
            and len(str(self.created)) > len(str(self.created - counts.created))
        ):
            analyze("contacts_contact")  # see RunsSyncer.keep_statistics_fresh
        return counts

    def recompute_memberships(self) -> int:
        """Region, reporter groups and is_active from stored group uuids, after admins
        changed the followed groups or the region tree."""
        analyze("contacts_contact", "polls_response")  # this reads every contact of the org
        create_staging_table(STAGE, STAGE_COLUMNS + COMPUTED_COLUMNS)
        execute(
            """
            INSERT INTO sync_contacts (uuid, group_uuids, remote_status, modified_on, contact_id)
            SELECT uuid, group_uuids, remote_status, remote_modified_on, id FROM contacts_contact
            WHERE org_id = %(org)s AND remote_modified_on IS NOT NULL AND push_status <> %(pending)s
            """,
            {"org": self.org.pk, "pending": PushStatus.PENDING},
        )
        analyze(STAGE)
        execute(MEMBERSHIP, self.followed.params())
        execute(ACTIVITY)
        through = table(Contact.reporter_groups.through)
        execute(
            f"""
            DELETE FROM sync_contacts s USING contacts_contact c
            WHERE c.id = s.contact_id AND c.region_id IS NOT DISTINCT FROM s.region_id
              AND c.is_active = s.is_active
              AND {reporter_ids(through)} = s.reporter_ids
            """  # noqa: S608 - identifiers from model metadata
        )
        return self.write_staged(upsert=False).updated

    def write_staged(self, upsert: bool) -> Counts:
        """Write the staged contacts, keeping the rollups current."""
        counts = Counts()
        tracker = None
        through = table(Contact.reporter_groups.through)
        # Responses of contacts whose region, is_active or reporter groups change
        # (the rollups split by each of them): the contacts first, each tested once.
        scope = f"""
            SELECT r.id FROM polls_response r WHERE r.contact_id IN (
                SELECT s.contact_id FROM sync_contacts s
                JOIN contacts_contact c ON c.id = s.contact_id
                WHERE c.region_id IS DISTINCT FROM s.region_id OR c.is_active <> s.is_active
                   OR {reporter_ids(through)} IS DISTINCT FROM s.reporter_ids
            )
        """  # noqa: S608 - identifiers from model metadata
        if fetch_all(f"SELECT EXISTS ({scope})")[0][0]:
            tracker = RollupTracker(self.org)
            tracker.add_responses(scope)
            tracker.before()
        if upsert:
            self.upsert_staged()
        else:
            execute(
                """
                UPDATE contacts_contact c SET region_id = s.region_id, is_active = s.is_active,
                    modified_on = now()
                FROM sync_contacts s WHERE c.id = s.contact_id
                """
            )
            execute("UPDATE sync_contacts SET written = true, is_new = false")
        self.write_reporter_groups()
        if tracker is not None:
            tracker.after()
        created, written = fetch_all(
            "SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE written) "
            "FROM sync_contacts"
        )[0]
        counts.created, counts.updated = created, written - created
        execute(f"DROP TABLE {STAGE}")
        return counts

    def upsert_staged(self) -> None:
        provided = [
            "org_id",
            "uuid",
            "name",
            "urn",
            "language",
            "fields",
            "group_uuids",
            "remote_status",
            "is_active",
            "region_id",
            "remote_modified_on",
        ]
        default_columns, default_values, params = column_defaults(Contact, provided)
        execute(
            f"""
            WITH written AS (
                INSERT INTO contacts_contact AS c ({", ".join(provided)}{default_columns})
                SELECT %(org)s, s.uuid, coalesce(s.name, ''), coalesce(s.urn, ''),
                       coalesce(s.language, ''), coalesce(s.fields::jsonb, '{{}}'::jsonb),
                       coalesce(s.group_uuids, '{{}}'), s.remote_status, s.is_active, s.region_id,
                       s.modified_on{default_values}
                FROM sync_contacts s
                ON CONFLICT (org_id, uuid) WHERE uuid IS NOT NULL DO UPDATE SET
                    name = coalesce(nullif(EXCLUDED.name, ''), c.name),
                    urn = CASE WHEN EXCLUDED.remote_status = 'deleted' THEN c.urn
                               ELSE EXCLUDED.urn END,
                    language = CASE WHEN EXCLUDED.remote_status = 'deleted' THEN c.language
                                    ELSE EXCLUDED.language END,
                    fields = CASE WHEN EXCLUDED.remote_status = 'deleted' THEN c.fields
                                  ELSE EXCLUDED.fields END,
                    group_uuids = EXCLUDED.group_uuids,
                    remote_status = EXCLUDED.remote_status,
                    is_active = EXCLUDED.is_active,
                    region_id = EXCLUDED.region_id,
                    remote_modified_on = EXCLUDED.remote_modified_on,
                    modified_on = now()
                WHERE (c.remote_modified_on IS NULL
                       OR c.remote_modified_on < EXCLUDED.remote_modified_on)
                  AND c.push_status <> %(pending)s
                RETURNING c.id, c.uuid, (xmax = 0) AS inserted
            )
            UPDATE sync_contacts s SET contact_id = w.id, is_new = w.inserted, written = true
            FROM written w WHERE w.uuid = s.uuid
            """,  # noqa: S608 - identifiers from model metadata
            {"org": self.org.pk, "pending": PushStatus.PENDING, **params},
        )

    @staticmethod
    def write_reporter_groups() -> None:
        through = table(Contact.reporter_groups.through)
        execute(
            f"""
            DELETE FROM {through} m USING sync_contacts s
            WHERE s.written AND m.contact_id = s.contact_id
              AND m.reportergroup_id <> ALL(s.reporter_ids)
            """  # noqa: S608 - identifiers from model metadata
        )
        execute(
            f"""
            INSERT INTO {through} (contact_id, reportergroup_id)
            SELECT s.contact_id, unnest(s.reporter_ids) FROM sync_contacts s WHERE s.written
            ON CONFLICT DO NOTHING
            """  # noqa: S608 - identifiers from model metadata
        )


def stage_row(contact: RemoteContact, deleted: bool) -> tuple:
    status = Contact.RemoteStatus.DELETED if deleted else (contact.status or "active")
    if status not in Contact.RemoteStatus.values:
        status = Contact.RemoteStatus.ACTIVE
    fields = {key: value for key, value in (contact.fields or {}).items() if value is not None}
    urns = contact.urns or []
    return (
        contact.uuid,
        clean_text(contact.name, 128),
        clean_text(urns[0], 255) if urns else None,
        clean_text(contact.language, 3),
        json.dumps(fields).replace("\\u0000", ""),
        [group.uuid for group in contact.groups or [] if group.uuid],
        status,
        contact.modified_on,
    )


def modified_on(contact: RemoteContact):
    return contact.modified_on


def reporter_ids(through: str) -> str:
    """SQL: the reporter group ids contact `c` is stored with, in order (as the staged
    `reporter_ids`)."""
    return (
        f"ARRAY(SELECT m.reportergroup_id FROM {through} m "  # noqa: S608 - a model's table
        "WHERE m.contact_id = c.id ORDER BY 1)"
    )
