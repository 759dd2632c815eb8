"""Inbox messages -> InboxMessage: what contacts sent outside any flow.

RapidPro filters messages by creation time, newest first, so the stream's
watermark is the newest creation time seen. The first sync goes back
`RAPIDPRO_INBOX_DAYS` (30 by default). A sender not yet in the mirror gets a
minimal inactive contact, as runs do.

A message reaches RapidPro's inbox folder only once it is handled, some time
after its creation time: each pass reads again `RAPIDPRO_INBOX_OVERLAP` before its
watermark and upserts, so a late one is not missed. Archiving, restoring and
labelling change a message without changing its creation time: at most every
`RAPIDPRO_INBOX_REFRESH_EVERY` the inbox and archived folders of the last
`RAPIDPRO_INBOX_REFRESH_DAYS` are read again (streams "refresh:<folder>"), and the
newer versions replace the stored ones.
"""

from datetime import timedelta

from temba_client.v2.types import Message

from django.conf import settings
from django.utils import timezone

from tracpro.contacts.models import Contact
from tracpro.msgs.models import InboxMessage
from tracpro.orgs.models import SyncKind
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.sql import (
    clean_text,
    column_defaults,
    copy_rows,
    create_staging_table,
    execute,
    fetch_all,
)
from tracpro.rapidpro.syncers.base import Counts, Syncer

COLUMNS = [
    ("uuid", "text"),
    ("remote_id", "bigint"),
    ("contact_uuid", "text"),
    ("contact_name", "text"),
    ("direction", "text"),
    ("text", "text"),
    ("labels", "text[]"),
    ("is_archived", "boolean"),
    ("created_on", "timestamptz"),
    ("sent_on", "timestamptz"),
    ("modified_on", "timestamptz"),
]
REFRESHED_FOLDERS = ("inbox", "archived")


class InboxSyncer(Syncer):
    kind = SyncKind.INBOX

    def sync(self) -> None:
        days = settings.RAPIDPRO_INBOX_DAYS
        stream = self.stream_from_newest(
            "", lambda: self.client.get_messages(folder="inbox"), created_on, timedelta(days=days)
        )
        overlap = timedelta(seconds=settings.RAPIDPRO_INBOX_OVERLAP)
        complete = self.pull(
            stream,
            lambda s: self.client.get_messages(
                folder="inbox", after=s.after - overlap if s.after else None
            ),
            self.ingest,
            created_on,
            label="Inbox messages",
            what="message",
        )
        for folder in REFRESHED_FOLDERS:
            if complete and not self.context.out_of_time:
                complete = self.refresh(folder, stream)
        self.context.result.complete = complete

    def refresh(self, folder: str, main: SyncStream) -> bool:
        """Read a folder's recent messages again (archived, restored, relabelled).
        "Recent" is counted back from the newest message seen, on RapidPro's clock."""
        stream = self.stream(f"refresh:{folder}")
        every = timedelta(seconds=settings.RAPIDPRO_INBOX_REFRESH_EVERY)
        if not stream.cursor:
            if stream.finished_on is not None and stream.finished_on > timezone.now() - every:
                return True
            newest = main.after or timezone.now()
            stream.after = newest - timedelta(days=settings.RAPIDPRO_INBOX_REFRESH_DAYS)
            stream.save(update_fields=["after", "updated_on"])
        return self.pull(
            stream,
            lambda s: self.client.get_messages(folder=folder, after=s.after),
            self.ingest,
            created_on,
            label=f"Inbox messages ({folder})",
            what="message",
        )

    def ingest(self, messages: list[Message]) -> Counts:
        counts = Counts()
        rows: dict[str, tuple] = {}
        for message in messages:
            if not (
                message.uuid and message.contact and message.contact.uuid and message.created_on
            ):
                counts.failed += 1
                continue
            if message.flow is None:  # the archived folder also has archived flow answers
                rows[message.uuid] = message_row(message)
        counts.skipped += len(messages) - counts.failed - len(rows)
        if not rows:
            return counts
        create_staging_table("sync_inbox", COLUMNS)
        copy_rows("sync_inbox", COLUMNS, rows.values())
        params = {"org": self.org.pk}
        counts.skipped += execute(
            """
            DELETE FROM sync_inbox s USING msgs_inboxmessage m
            WHERE m.org_id = %(org)s AND m.uuid = s.uuid AND m.remote_modified_on >= s.modified_on
              AND (m.remote_id IS NOT NULL OR s.remote_id IS NULL)
            """,
            params,
        )
        columns, values, defaults = column_defaults(
            Contact, ["org_id", "uuid", "name", "is_active"]
        )
        execute(
            f"""
            INSERT INTO contacts_contact (org_id, uuid, name, is_active{columns})
            SELECT DISTINCT ON (contact_uuid)
                   %(org)s, contact_uuid, coalesce(contact_name, ''), false{values}
            FROM sync_inbox ORDER BY contact_uuid
            ON CONFLICT (org_id, uuid) WHERE uuid IS NOT NULL DO NOTHING
            """,  # noqa: S608 - identifiers from model metadata
            {**params, **defaults},
        )
        provided = [
            "org_id",
            "uuid",
            "remote_id",
            "contact_id",
            "direction",
            "text",
            "labels",
            "is_archived",
            "created_on",
            "sent_on",
            "remote_modified_on",
        ]
        columns, values, defaults = column_defaults(InboxMessage, provided)
        rows_written = fetch_all(
            f"""
            INSERT INTO msgs_inboxmessage AS m ({", ".join(provided)}{columns})
            SELECT %(org)s, s.uuid, s.remote_id, c.id, s.direction, s.text, s.labels,
                   s.is_archived, s.created_on, s.sent_on, s.modified_on{values}
            FROM sync_inbox s
            JOIN contacts_contact c ON c.org_id = %(org)s AND c.uuid = s.contact_uuid
            ON CONFLICT (org_id, uuid) DO UPDATE SET
                text = EXCLUDED.text, labels = EXCLUDED.labels,
                is_archived = EXCLUDED.is_archived, archive_error = '',
                remote_id = coalesce(EXCLUDED.remote_id, m.remote_id),
                sent_on = EXCLUDED.sent_on,
                remote_modified_on = EXCLUDED.remote_modified_on
            WHERE m.remote_modified_on IS NULL OR m.remote_modified_on < EXCLUDED.remote_modified_on
               OR (m.remote_id IS NULL AND EXCLUDED.remote_id IS NOT NULL)
            RETURNING (xmax = 0)
            """,  # noqa: S608 - identifiers from model metadata
            {**params, **defaults},
        )
        counts.created += sum(1 for (inserted,) in rows_written if inserted)
        counts.updated += sum(1 for (inserted,) in rows_written if not inserted)
        execute("DROP TABLE sync_inbox")
        return counts


def message_row(message: Message) -> tuple:
    direction = message.direction if message.direction in InboxMessage.Direction.values else "in"
    labels = [clean_text(label.name, 64) for label in message.labels or [] if label.name]
    return (
        message.uuid,
        getattr(message, "id", None),  # RemoteMessage; absent from upstream's Message
        message.contact.uuid,
        clean_text(message.contact.name, 128),
        direction,
        clean_text(message.text) or "",
        labels,
        message.visibility == "archived",
        message.created_on,
        message.sent_on,
        message.modified_on or message.created_on,
    )


def created_on(message: Message):
    return message.created_on
