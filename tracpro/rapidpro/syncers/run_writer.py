"""Writes a batch of runs into the mirror, set-based: poll dates, responses, answers.

Each batch is written with a handful of statements under the org's ingest lock:
staging tables filled by COPY; one statement giving each run its contact, poll
date and response id (a new id from the sequence for a new run); then plain
INSERTs for what is new and upserts only for what was stored before. The rollups
are kept current in the same transaction. A run older than the stored one
changes nothing.
An archive import writes the runs of poll dates the mirror holds nothing of yet (a
poll's first history) without any of the lookups, by COPY straight into the
mirror's tables: `write_first_history`.

The rows come from `RunsSyncer.staged_rows` (runs.py), in `RUN_COLUMNS` and
`ANSWER_COLUMNS` order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from zoneinfo import ZoneInfo

from django.db import connection

from tracpro.contacts.models import Contact
from tracpro.msgs.models import Message
from tracpro.polls.models import Answer, PollRun, Question, QuestionType, Response
from tracpro.polls.rollups import (
    RollupTracker,
    delete_all,
    joining_by_index,
    lock_org,
    rebuild,
)
from tracpro.rapidpro.sql import (
    analyze,
    column_defaults,
    copy_into,
    copy_rows,
    create_staging_table,
    execute,
    fetch_all,
)
from tracpro.rapidpro.syncers.base import Counts

RUN_COLUMNS = [
    ("run_uuid", "text"),
    ("poll_id", "bigint"),
    ("start_uuid", "text"),
    ("contact_uuid", "text"),
    ("contact_name", "text"),
    ("status", "text"),
    ("created_on", "timestamptz"),
    ("updated_on", "timestamptz"),
    ("modified_on", "timestamptz"),
]
ANSWER_COLUMNS = [
    ("run_uuid", "text"),
    ("question_id", "bigint"),
    ("value", "text"),
    ("category", "text"),
    ("number", "double precision"),
    ("submitted_on", "timestamptz"),
    ("is_numeric", "boolean"),
]
GROUP_COLUMNS = [("contact_id", "bigint"), ("question_id", "bigint"), ("local_date", "date")]
# The columns the writer sets in its tables (column_defaults: the rest).
POLLRUN_FIELDS = ["poll_id", "kind", "start_uuid", "conducted_on", "local_date"]
RESPONSE_FIELDS = [
    "id",
    "org_id",
    "run_uuid",
    "pollrun_id",
    "contact_id",
    "status",
    "created_on",
    "updated_on",
    "remote_modified_on",
    "is_active",
]
ANSWER_FIELDS = [
    "response_id",
    "question_id",
    "contact_id",
    "value",
    "category",
    "number",
    "value_to_use",
    "submitted_on",
    "local_date",
]
MIRROR_TABLES = ("polls_pollrun", "polls_response", "polls_answer", "contacts_contact")


class RunWriter:
    """Writes one batch of runs set-based, with the rollups in the same transaction."""

    def __init__(self, org, contact_ids: dict[str, int] | None = None) -> None:
        """`contact_ids` (contact uuid: id) may be shared by the writers of an import:
        the ids of the org's contacts, as far as they were looked up (a contact's row
        is never deleted while its org exists)."""
        self.org = org
        self.contact_ids = {} if contact_ids is None else contact_ids
        self.params = {
            "org": org.pk,
            "tz": org.timezone,
            "rule": org.same_day_rule,
            "start": PollRun.Kind.START,
            "day": PollRun.Kind.DAY,
        }

    def run(self, sql: str, extra: dict | None = None) -> int:
        return execute(sql, {**self.params, **(extra or {})})

    def write(self, run_rows: list[tuple], answer_rows: list[tuple]) -> Counts:
        """A batch of the runs endpoint's pages, rollups included."""
        self.lock()
        counts = Counts()
        self.write_general(run_rows, answer_rows, bulk=False, counts=counts)
        return counts

    def write_bulk(self, batch: "BulkBatch", first_history: bool = True) -> Counts:
        """A batch of an archive import. It leaves the rollups and the same-day rule
        alone: the caller recomputes both once it has written every batch
        (`finish_bulk`). The runs of poll dates the mirror holds no response of yet
        take `write_first_history` (unless `first_history` is off: a check of one
        path against the other), the others the general path."""
        self.lock()
        counts = Counts()
        run_rows, answer_rows = batch.runs, batch.answers
        if first_history:
            run_rows, answer_rows, counts.created = self.write_first_history(batch)
        self.write_general(run_rows, answer_rows, bulk=True, counts=counts)
        return counts

    def lock(self) -> None:
        """Take the org's ingest lock, held to the commit: which runs are new is decided
        below, and no other writer of this org's responses may change that before."""
        with connection.cursor() as cursor:
            lock_org(cursor, self.org.pk)

    def write_general(
        self, run_rows: list[tuple], answer_rows: list[tuple], bulk: bool, counts: Counts
    ) -> None:
        """These runs through staging tables and `write_updates`."""
        if not run_rows:
            return
        create_staging_table("sync_raw_runs", RUN_COLUMNS)
        create_staging_table("sync_answers", ANSWER_COLUMNS)
        create_staging_table("sync_groups", GROUP_COLUMNS)
        copy_rows("sync_raw_runs", RUN_COLUMNS, run_rows)
        copy_rows("sync_answers", ANSWER_COLUMNS, answer_rows)
        self.write_updates(len(run_rows), bulk, counts)
        execute(
            "DROP TABLE IF EXISTS sync_raw_runs, sync_stored, sync_runs, sync_answers, sync_groups"
        )

    def write_updates(self, staged: int, bulk: bool, counts: Counts) -> None:
        """The path for runs the mirror may hold already, in any version: each run is
        looked up, written or skipped, and its contact's active response decided among
        the stored ones too."""
        # The staged runs the mirror holds, looked up once (by index, one run at a
        # time: see SYNC_RUNS); those it holds in this version or a newer one change
        # nothing. SYNC_RUNS takes the others' ids from here.
        execute("DROP TABLE IF EXISTS sync_stored")  # see create_staging_table
        with joining_by_index():
            self.run(STORED_RUNS)
        skipped = self.run(
            """
            DELETE FROM sync_raw_runs s USING sync_stored r
            WHERE r.run_uuid = s.run_uuid AND s.modified_on <= r.remote_modified_on
            """
        )
        counts.skipped += skipped
        if skipped == staged:
            return
        # The joins below must start from these few rows and use the big tables'
        # indexes; without statistics on them the planner may scan whole tables.
        analyze("sync_raw_runs (run_uuid, contact_uuid)", "sync_answers (run_uuid)")
        tracker = None if bulk else RollupTracker(self.org)
        self.prepare_rows()
        if tracker is not None:
            self.name_scope(tracker)
            tracker.before()
        created, counts.updated = self.write_responses()
        counts.created += created
        with joining_by_index():
            self.run(DEACTIVATE_OLDER)
        self.write_answers(counts.updated)
        if tracker is not None:
            self.run(SAME_DAY_FOR_GROUPS)
            tracker.after()

    def write_first_history(self, batch: "BulkBatch") -> tuple[list[tuple], list[tuple], int]:
        """The runs of poll dates the mirror holds no response of yet (a poll's first
        history, most of an archive import): each is new, so none is looked up, none
        is compared with stored responses and none deactivates a stored one, and the
        active one of each contact's runs of a poll date is its latest in the batch.
        Their responses and answers are copied straight into the mirror's tables (what
        the bench's floor measures), column by column: few Python steps per row, as
        the archive reader's thread needs the interpreter meanwhile. Returns the other
        runs and their answers, for the general path, and how many runs were written."""
        if not batch.first_created:
            return batch.runs, batch.answers, 0
        polls, days = zip(*batch.first_created, strict=True)
        params = {"polls": list(polls), "days": list(days), "restart": Message.Kind.RESTART}
        with joining_by_index():  # a few lookups per poll and day, not the org's responses
            first_days = set(fetch_all(FIRST_DAYS, {**self.params, **params}))
        if not first_days:
            return batch.runs, batch.answers, 0
        runs, rest, keys, latest = batch.runs, [], batch.keys, batch.latest
        if len(first_days) < len(batch.first_created) or None in keys:
            first = [index for index, key in enumerate(keys) if key in first_days]
            rest = [runs[index] for index, key in enumerate(keys) if key not in first_days]
            runs = [runs[index] for index in first]
            keys, latest = [keys[index] for index in first], [latest[index] for index in first]
        uuids, _, _, contacts, names, statuses, created, updated, modified = zip(*runs, strict=True)
        contact_ids = self.find_contacts(dict(zip(contacts, names, strict=True)))
        pollruns = self.day_poll_dates(batch, first_days)
        ids = self.response_ids(len(runs))
        contact_column = list(map(contact_ids.__getitem__, contacts))
        pollrun_column = [pollruns[key] for key in keys if key is not None]  # (none is None)
        copy_into(
            Response,
            RESPONSE_FIELDS,
            zip(
                ids, repeat(self.org.pk, len(runs)), uuids, pollrun_column, contact_column,
                statuses, created, updated, modified, latest, strict=True,
            ),
        )  # fmt: skip
        answers = batch.answers
        response_ids = dict(zip(uuids, ids, strict=True))
        if rest:
            picked = [index for index, row in enumerate(answers) if row[0] in response_ids]
            rest_answers = [row for row in answers if row[0] not in response_ids]
            answers = [answers[index] for index in picked]
            answer_days = [batch.answer_days[index] for index in picked]
            values = [batch.answer_values[index] for index in picked]
        else:
            rest_answers, answer_days, values = [], batch.answer_days, batch.answer_values
        if answers:
            contact_of = dict(zip(uuids, contact_column, strict=True))
            run_uuids, questions, texts, categories, numbers, submitted, _ = zip(
                *answers, strict=True
            )
            copy_into(
                Answer,
                ANSWER_FIELDS,
                zip(
                    map(response_ids.__getitem__, run_uuids), questions,
                    map(contact_of.__getitem__, run_uuids), texts, categories, numbers, values,
                    submitted, answer_days, strict=True,
                ),
            )  # fmt: skip
        return rest, rest_answers, len(runs)

    def day_poll_dates(
        self, batch: "BulkBatch", first_days: set[tuple[int, date]]
    ) -> dict[tuple[int, date], int]:
        """The ids of the day poll dates of these (poll, local day), created if missing."""
        polls, days = (list(column) for column in zip(*first_days, strict=True))
        self.create_day_poll_dates(
            "unnest(%(polls)s::bigint[], %(created)s::timestamptz[], %(days)s::date[])"
            " AS s(poll_id, created_on, local_day)",
            {
                "polls": polls,
                "created": [batch.first_created[key] for key in first_days],
                "days": days,
            },
        )
        rows = fetch_all(
            """
            SELECT pr.poll_id, pr.local_date, pr.id
            FROM unnest(%(polls)s::bigint[], %(days)s::date[]) AS d(poll_id, local_day)
            JOIN polls_pollrun pr ON pr.poll_id = d.poll_id AND pr.kind = %(day)s
                                 AND pr.local_date = d.local_day
            """,
            {**self.params, "polls": polls, "days": days},
        )
        return {(poll_id, day): pk for poll_id, day, pk in rows}

    def response_ids(self, count: int) -> list[int]:
        """`count` new ids from the responses' sequence (safe under the org's ingest
        lock, as SYNC_RUNS' ids)."""
        sequence = fetch_all(RESPONSE_SEQUENCE)[0][0]
        rows = fetch_all(
            "SELECT nextval(%(sequence)s::regclass) FROM generate_series(1, %(count)s)",
            {"sequence": sequence, "count": count},
        )
        return [pk for (pk,) in rows]

    def prepare_rows(self) -> None:
        """The contacts and poll dates the runs need, then `sync_runs`: each run with
        its contact, poll date and response id (a new one for a new run) and whether
        it becomes its contact's active response for that poll date."""
        self.run(
            "DELETE FROM sync_answers a "
            "WHERE NOT EXISTS (SELECT 1 FROM sync_raw_runs s WHERE s.run_uuid = a.run_uuid)"
        )
        self.create_contacts("sync_raw_runs s")
        columns, values, params = column_defaults(PollRun, POLLRUN_FIELDS)
        self.run(
            f"""
            INSERT INTO polls_pollrun AS pr ({", ".join(POLLRUN_FIELDS)}{columns})
            SELECT poll_id, %(start)s, start_uuid, min(created_on),
                   (min(created_on) AT TIME ZONE %(tz)s)::date{values}
            FROM sync_raw_runs s WHERE start_uuid IS NOT NULL AND NOT EXISTS ({TRACPRO_START})
            GROUP BY poll_id, start_uuid
            ON CONFLICT (poll_id, start_uuid) WHERE start_uuid IS NOT NULL DO UPDATE
                SET conducted_on = EXCLUDED.conducted_on, local_date = EXCLUDED.local_date
                WHERE EXCLUDED.conducted_on < pr.conducted_on
            """,  # noqa: S608 - identifiers from model metadata
            params,
        )
        self.create_day_poll_dates(
            "(SELECT poll_id, created_on, (created_on AT TIME ZONE %(tz)s)::date AS local_day"
            " FROM sync_raw_runs WHERE start_uuid IS NULL) s"
        )
        execute("DROP TABLE IF EXISTS sync_runs")  # see create_staging_table
        self.run(SYNC_RUNS)
        analyze("sync_runs (run_uuid, pollrun_id, contact_id, is_new, activate)")

    def find_contacts(self, names: dict[str, str | None]) -> dict[str, int]:
        """The ids of these contacts (uuid: name), by `contact_ids` and else from the
        mirror, where those it lacks are created (as `create_contacts`)."""
        known = self.contact_ids
        missing = [uuid for uuid in names if uuid not in known]
        if missing:
            known.update(fetch_all(CONTACT_IDS, {"org": self.org.pk, "uuids": missing}))
            missing = [uuid for uuid in missing if uuid not in known]
        if missing:
            self.create_contacts(
                "unnest(%(uuids)s::text[], %(names)s::text[]) AS s(contact_uuid, contact_name)",
                {"uuids": missing, "names": [names[uuid] for uuid in missing]},
            )
            known.update(fetch_all(CONTACT_IDS, {"org": self.org.pk, "uuids": missing}))
        return known

    def create_contacts(self, runs: str, extra: dict | None = None) -> None:
        """The contacts the mirror lacks of `runs` (a relation with contact_uuid and
        contact_name)."""
        columns, values, params = column_defaults(Contact, ["org_id", "uuid", "name", "is_active"])
        self.run(
            f"""
            INSERT INTO contacts_contact (org_id, uuid, name, is_active{columns})
            SELECT DISTINCT ON (s.contact_uuid)
                   %(org)s, s.contact_uuid, coalesce(s.contact_name, ''), false{values}
            FROM {runs}
            WHERE NOT EXISTS (  -- most are known: a lookup each, then few rows to sort
                SELECT 1 FROM contacts_contact c
                WHERE c.org_id = %(org)s AND c.uuid = s.contact_uuid)
            ORDER BY s.contact_uuid
            ON CONFLICT (org_id, uuid) WHERE uuid IS NOT NULL DO NOTHING
            """,  # noqa: S608 - identifiers from model metadata
            {**params, **(extra or {})},
        )

    def create_day_poll_dates(self, runs: str, extra: dict | None = None) -> None:
        """The poll dates by day of `runs` (a relation with poll_id, created_on and
        local_day, of runs without a flow start): created, or dated back to an
        earlier first run."""
        columns, values, params = column_defaults(PollRun, POLLRUN_FIELDS)
        self.run(
            f"""
            INSERT INTO polls_pollrun AS pr ({", ".join(POLLRUN_FIELDS)}{columns})
            SELECT s.poll_id, %(day)s, NULL, min(s.created_on), s.local_day{values}
            FROM {runs}
            GROUP BY s.poll_id, s.local_day
            ON CONFLICT (poll_id, local_date) WHERE kind = 'day' DO UPDATE
                SET conducted_on = EXCLUDED.conducted_on
                WHERE EXCLUDED.conducted_on < pr.conducted_on
            """,  # noqa: S608 - identifiers from model metadata
            {**params, **(extra or {})},
        )

    def name_scope(self, tracker: RollupTracker) -> None:
        """What the batch may change: its new responses (their ids are known before
        they exist), every response of the same contacts in the same poll dates
        (which one is active may change), and every answer sharing a contact, numeric
        question and day with an answer of the batch (value_to_use)."""
        with joining_by_index():
            tracker.add_responses(
                """
                SELECT r.id FROM (SELECT DISTINCT pollrun_id, contact_id FROM sync_runs) p
                JOIN polls_response r
                    ON r.pollrun_id = p.pollrun_id AND r.contact_id = p.contact_id
                UNION ALL
                SELECT response_id FROM sync_runs WHERE is_new
                """
            )
            # The numeric questions come as an array: each staged response's answers
            # to them are then one lookup in the (response, question) unique index.
            self.run(
                """
                INSERT INTO sync_groups
                SELECT DISTINCT s.contact_id, a.question_id, a.local_date
                FROM sync_runs s
                JOIN polls_answer a ON a.response_id = s.response_id
                WHERE a.question_id = ANY(ARRAY(
                    SELECT q.id FROM polls_question q JOIN polls_poll p ON p.id = q.poll_id
                    WHERE p.org_id = %(org)s AND q.question_type = 'numeric'))
                """
            )
        self.run(
            """
            INSERT INTO sync_groups
            SELECT s.contact_id, a.question_id, (a.submitted_on AT TIME ZONE %(tz)s)::date
            FROM sync_answers a JOIN sync_runs s ON s.run_uuid = a.run_uuid WHERE a.is_numeric
            EXCEPT
            SELECT contact_id, question_id, local_date FROM sync_groups
            """
        )
        analyze("sync_groups")
        tracker.add_answers(
            """
            SELECT a.id FROM sync_groups g
            JOIN polls_answer a ON a.question_id = g.question_id AND a.local_date = g.local_date
                               AND a.contact_id = g.contact_id
            """
        )

    def write_responses(self) -> tuple[int, int]:
        """Insert the new runs' responses under the ids `sync_runs` gave them and
        update the stored ones (all older: runs not newer were skipped). Returns
        (created, updated)."""
        columns, values, params = column_defaults(Response, RESPONSE_FIELDS)
        created = self.run(
            f"""
            INSERT INTO polls_response ({", ".join(RESPONSE_FIELDS)}{columns})
            SELECT response_id, %(org)s, run_uuid, pollrun_id, contact_id, status, created_on,
                   updated_on, modified_on, activate{values}
            FROM sync_runs WHERE is_new
            """,  # noqa: S608 - identifiers from model metadata
            params,
        )
        updated = self.run(
            """
            UPDATE polls_response r SET
                status = s.status, updated_on = s.updated_on, remote_modified_on = s.modified_on
            FROM sync_runs s WHERE NOT s.is_new AND r.id = s.response_id
            """
        )
        return created, updated

    def write_answers(self, updated: int) -> None:
        """The answers of new responses are inserted; those of the `updated` stored
        responses are upserted (a value may have changed) and the results their new
        version no longer has are deleted."""
        columns, values, params = column_defaults(Answer, ANSWER_FIELDS)
        insert = f"""
            INSERT INTO polls_answer AS a ({", ".join(ANSWER_FIELDS)}{columns})
            SELECT {ANSWER_VALUES}{values}
            FROM sync_answers x JOIN sync_runs s ON s.run_uuid = x.run_uuid
        """  # noqa: S608 - identifiers from model metadata
        self.run(f"{insert} WHERE s.is_new", params)
        if not updated:
            return
        self.run(
            f"""
            {insert} WHERE NOT s.is_new
            ON CONFLICT (response_id, question_id) DO UPDATE SET
                value = EXCLUDED.value, category = EXCLUDED.category, number = EXCLUDED.number,
                value_to_use = EXCLUDED.value_to_use, submitted_on = EXCLUDED.submitted_on,
                local_date = EXCLUDED.local_date
            WHERE (a.value, a.category, a.number, a.submitted_on)
                IS DISTINCT FROM
                (EXCLUDED.value, EXCLUDED.category, EXCLUDED.number, EXCLUDED.submitted_on)
            """,
            params,
        )
        self.run(
            """
            DELETE FROM polls_answer a USING sync_runs s
            WHERE NOT s.is_new AND a.response_id = s.response_id
              AND NOT EXISTS (
                  SELECT 1 FROM sync_answers x
                  WHERE x.run_uuid = s.run_uuid AND x.question_id = a.question_id)
            """
        )


# The stored responses of the staged runs (one row per run, even staged twice): one
# index lookup per staged run, never the whole table. LATERAL keeps the staged runs
# outside whatever the statistics say: as a plain join (even under
# `joining_by_index`), statistics taken while the org had no responses made the
# planner loop over the org's responses and scan the staged runs for each, a minute
# per batch once earlier batches had written a few hundred thousand runs. (OFFSET 0
# keeps Postgres from flattening the subquery back into that join.)
STORED_RUNS = """
    CREATE TEMP TABLE sync_stored ON COMMIT DROP AS
    SELECT DISTINCT s.run_uuid, r.id, r.remote_modified_on
    FROM sync_raw_runs s CROSS JOIN LATERAL (
        SELECT r.id, r.remote_modified_on FROM polls_response r
        WHERE r.org_id = %(org)s AND r.run_uuid = s.run_uuid
        OFFSET 0
    ) r
"""

# Each staged run with its contact, poll date and response: the stored one's id, or
# a new id from the table's sequence (safe under the org's ingest lock, which every
# writer of responses holds). A new run becomes its contact's active response for
# the poll date when it is the latest, by creation then run uuid (so the choice never
# depends on batch boundaries), among the batch and the stored responses.
# Contacts are looked up with a subquery per run (stored responses: STORED_RUNS):
# as a join, the planner hashes the org's whole table while it is small enough,
# which makes each batch slower than the last through a backfill (and the whole of
# it quadratic).
# The poll date a staged run `s` belongs to when TracPro made its flow start (a
# start, or a restart of the date): batches of TracPro's messages record the uuid.
# Looked up only for runs with a start: archived runs and keyword runs have none,
# and for them a plan could start from every message of the org, once per run.
TRACPRO_START = """
    SELECT m.pollrun_id FROM msgs_messagebatch b
    JOIN msgs_message m ON m.id = b.message_id
    JOIN polls_pollrun pr ON pr.id = m.pollrun_id
    WHERE b.remote_uuid = s.start_uuid AND m.org_id = %(org)s AND pr.poll_id = s.poll_id
    LIMIT 1
"""
SYNC_RUNS = f"""
    CREATE TEMP TABLE sync_runs ON COMMIT DROP AS
    SELECT j.*,
           coalesce(j.stored_id, nextval(pg_get_serial_sequence('polls_response', 'id')))
               AS response_id,
           j.stored_id IS NULL AS is_new,
           j.stored_id IS NULL AND j.latest AND NOT EXISTS (
               SELECT 1 FROM polls_response r
               WHERE r.pollrun_id = j.pollrun_id AND r.contact_id = j.contact_id
                 AND (r.created_on, r.run_uuid) > (j.created_on, j.run_uuid)
           ) AS activate
    FROM (
        SELECT s.*, row_number() OVER (
                   PARTITION BY s.pollrun_id, s.contact_id
                   ORDER BY s.created_on DESC, s.run_uuid DESC
               ) = 1 AS latest
        FROM (
            SELECT s.*, coalesce(CASE WHEN s.start_uuid IS NOT NULL THEN ({TRACPRO_START}) END,
                                 ps.id, pd.id) AS pollrun_id,
                   (SELECT c.id FROM contacts_contact c
                    WHERE c.org_id = %(org)s AND c.uuid = s.contact_uuid) AS contact_id,
                   stored.id AS stored_id
            FROM sync_raw_runs s
            LEFT JOIN sync_stored stored ON stored.run_uuid = s.run_uuid
            LEFT JOIN polls_pollrun ps ON ps.poll_id = s.poll_id AND ps.start_uuid = s.start_uuid
            LEFT JOIN polls_pollrun pd
                ON s.start_uuid IS NULL AND pd.poll_id = s.poll_id AND pd.kind = %(day)s
                   AND pd.local_date = (s.created_on AT TIME ZONE %(tz)s)::date
        ) s
    ) j
"""  # noqa: S608 - a constant SQL fragment
DEACTIVATE_OLDER = """
    UPDATE polls_response r SET is_active = false
    FROM sync_runs s
    WHERE s.is_new AND s.activate AND r.pollrun_id = s.pollrun_id AND r.contact_id = s.contact_id
      AND r.id <> s.response_id AND r.is_active
"""

# An answer's row from a staged answer `x` and its run's response `s` (response_id,
# contact_id), in ANSWER_FIELDS order.
ANSWER_VALUES = """
    s.response_id, x.question_id, s.contact_id, x.value, x.category, x.number,
    CASE WHEN x.is_numeric THEN x.number END,
    x.submitted_on, (x.submitted_on AT TIME ZONE %(tz)s)::date
"""

# A poll's first history (write_first_history): of the (poll, local day) of runs
# without a start, those where the poll's day poll date holds no response and no
# flow start of the poll was conducted, nor any of its poll dates restarted, before
# the day ended. Their runs are then all new, and each contact's active response
# there is decided among the batch's runs alone:
# - a stored copy of a run has the run's created_on (RapidPro never changes it), so
#   it lies in that day's poll date (first test), in a flow start's conducted
#   before the run was created (second test) or in a poll date TracPro restarted
#   before (third test: a restart's runs land on the date it restarts);
# - the day's poll date holds no response that could be active instead.
# A later batch of the same archive, or of another archive, that reaches the same
# poll date finds responses there and goes the usual way (write_updates).
CONTACT_IDS = (
    "SELECT uuid, id FROM contacts_contact WHERE org_id = %(org)s AND uuid = ANY(%(uuids)s)"
)
RESPONSE_SEQUENCE = "SELECT pg_get_serial_sequence('polls_response', 'id')"  # looked up once
FIRST_DAYS = """
    SELECT d.poll_id, d.local_day
    FROM unnest(%(polls)s::bigint[], %(days)s::date[]) AS d(poll_id, local_day)
    WHERE NOT EXISTS (
        SELECT 1 FROM polls_pollrun pd JOIN polls_response r ON r.pollrun_id = pd.id
        WHERE pd.poll_id = d.poll_id AND pd.kind = %(day)s AND pd.local_date = d.local_day
    ) AND NOT EXISTS (
        SELECT 1 FROM polls_pollrun ps
        WHERE ps.poll_id = d.poll_id AND ps.kind = %(start)s
          AND ps.conducted_on < (d.local_day + 1)::timestamp AT TIME ZONE %(tz)s
    ) AND NOT EXISTS (
        SELECT 1 FROM msgs_message m JOIN polls_pollrun pr ON pr.id = m.pollrun_id
        WHERE m.org_id = %(org)s AND m.kind = %(restart)s AND pr.poll_id = d.poll_id
          AND m.created_on < (d.local_day + 1)::timestamp AT TIME ZONE %(tz)s
    )
"""


@dataclass
class BulkBatch:
    """A batch of runs for `RunWriter.write_bulk`, with what its first-history path
    needs worked out before the batch's transaction (`bulk_batch`: the archive
    reader's thread does it while Postgres writes the batch before)."""

    runs: list[tuple]  # RUN_COLUMNS
    answers: list[tuple]  # ANSWER_COLUMNS
    failed: int  # lines that are not a run TracPro can keep
    keys: list[tuple[int, date] | None]  # each run's (poll, local day); None: a flow start
    latest: list[bool]  # is each run its contact's latest of its poll and day here?
    first_created: dict[tuple[int, date], datetime]  # (poll, day): its first run's creation
    answer_days: list[date]  # each answer's local day
    answer_values: list[float | None]  # each answer's value_to_use, as ANSWER_VALUES


def bulk_batch(
    runs: list[tuple],
    answers: list[tuple],
    failed: int,
    tz: ZoneInfo,
    days: Sequence[date | None] | None = None,
) -> BulkBatch:
    """A BulkBatch of these rows (`days`: the runs' local days, if known). The latest
    of a contact's runs goes by creation then run uuid, as SYNC_RUNS (run uuids compare
    alike byte by byte and by any collation)."""
    if days is None:
        days = [None if row[2] else row[6].astimezone(tz).date() for row in runs]
    keys: list[tuple[int, date] | None] = [
        None if day is None else (row[1], day) for row, day in zip(runs, days, strict=True)
    ]
    first_created: dict[tuple[int, date], datetime] = {}
    newest: dict[tuple, tuple[datetime, str, int]] = {}  # (poll, day, contact): latest run
    for index, (row, key) in enumerate(zip(runs, keys, strict=True)):
        if key is None:
            continue
        if key not in first_created or row[6] < first_created[key]:
            first_created[key] = row[6]
        best = newest.get((key, row[3]))
        if best is None or (row[6], row[0]) > best[:2]:
            newest[(key, row[3])] = (row[6], row[0], index)
    latest = [False] * len(runs)
    for _, _, index in newest.values():
        latest[index] = True
    answer_days = [row[5].astimezone(tz).date() for row in answers]
    answer_values = [row[4] if row[6] else None for row in answers]
    return BulkBatch(runs, answers, failed, keys, latest, first_created, answer_days, answer_values)


# The answers of a batch are written with value_to_use = their own number (what
# the rule gives an answer alone on its day); this corrects the days with several.
# value_to_use per (contact, numeric question, org-local day): the latest numeric
# answer's number ("last") or the sum of the day's numbers ("sum"); NULL for an
# answer that is not a number itself. Spoofed answers (sample data made in
# TracPro, tracpro.polls.spoof) form days of their own: they never change a real one.
VALUE_TO_USE = """
    CASE WHEN a2.number IS NULL THEN NULL
         WHEN %(rule)s = 'sum' THEN sum(a2.number) OVER same_day
         ELSE first_value(a2.number) OVER (
             same_day ORDER BY a2.number IS NULL, a2.submitted_on DESC, a2.id DESC)
    END
"""
SAME_DAY_FOR_GROUPS = f"""
    UPDATE polls_answer a SET value_to_use = v.value_to_use
    FROM (
        SELECT a2.id, {VALUE_TO_USE} AS value_to_use
        FROM sync_groups g
        JOIN polls_answer a2 ON a2.question_id = g.question_id AND a2.local_date = g.local_date
                            AND a2.contact_id = g.contact_id
        JOIN polls_response r ON r.id = a2.response_id
        JOIN polls_pollrun p ON p.id = r.pollrun_id
        WINDOW same_day AS (PARTITION BY a2.contact_id, a2.question_id, a2.local_date,
                                         p.kind = 'spoof')
    ) v
    WHERE a.id = v.id AND a.value_to_use IS DISTINCT FROM v.value_to_use
"""  # noqa: S608 - a constant SQL fragment
SAME_DAY_FOR_QUESTIONS = f"""
    UPDATE polls_answer a SET value_to_use = v.value_to_use
    FROM (
        SELECT a2.id, CASE WHEN q.question_type = 'numeric' THEN {VALUE_TO_USE} END AS value_to_use
        FROM polls_answer a2
        JOIN polls_response r ON r.id = a2.response_id
        JOIN polls_pollrun p ON p.id = r.pollrun_id
        JOIN polls_question q ON q.id = a2.question_id
        WHERE a2.question_id = ANY(%(questions)s)
        WINDOW same_day AS (PARTITION BY r.contact_id, a2.question_id, a2.local_date,
                                         p.kind = 'spoof')
    ) v
    WHERE a.id = v.id AND a.value_to_use IS DISTINCT FROM v.value_to_use
"""  # noqa: S608 - a constant SQL fragment


def recompute_values(org, question_ids: list[int]) -> None:
    """value_to_use of every answer of these questions (inside a transaction)."""
    analyze(*MIRROR_TABLES)  # a whole-table update needs a plan that fits the table
    tracker = RollupTracker(org)
    tracker.add_answers(
        "SELECT id FROM polls_answer WHERE question_id = ANY(%(ids)s)", {"ids": question_ids}
    )
    tracker.before()
    execute(SAME_DAY_FOR_QUESTIONS, {"rule": org.same_day_rule, "questions": question_ids})
    tracker.after()


def finish_bulk(org, question_ids: list[int]) -> None:
    """After a bulk write (an archive import): the same-day rule for these questions
    and every rollup of the org, recomputed from the rows (inside a transaction)."""
    with connection.cursor() as cursor:
        lock_org(cursor, org.pk)
    analyze(*MIRROR_TABLES)  # the bulk write left the statistics behind
    execute(SAME_DAY_FOR_QUESTIONS, {"rule": org.same_day_rule, "questions": question_ids})
    rebuild(org, analyzed=True)


# A new time zone: poll dates of flow starts get the new local day of their first run;
# runs without a start move to the day poll date of their new local day (created when
# missing, emptied ones removed); answers get their new local day. Each contact's
# latest response per poll date becomes the active one again.
RELOCATE = [
    """
    UPDATE polls_pollrun pr SET local_date = (pr.conducted_on AT TIME ZONE %(tz)s)::date
    FROM polls_poll p
    WHERE p.id = pr.poll_id AND p.org_id = %(org)s AND pr.kind = %(start)s
      AND pr.local_date <> (pr.conducted_on AT TIME ZONE %(tz)s)::date
    """,
    """
    DROP TABLE IF EXISTS relocated
    """,
    """
    CREATE TEMP TABLE relocated ON COMMIT DROP AS
    SELECT r.id, pr.poll_id, (r.created_on AT TIME ZONE %(tz)s)::date AS local_day
    FROM polls_response r JOIN polls_pollrun pr ON pr.id = r.pollrun_id
    WHERE r.org_id = %(org)s AND pr.kind = %(day)s
    """,
    """
    INSERT INTO polls_pollrun (poll_id, kind, start_uuid, conducted_on, local_date{columns})
    SELECT x.poll_id, %(day)s, NULL, min(r.created_on), x.local_day{values}
    FROM relocated x JOIN polls_response r ON r.id = x.id
    GROUP BY x.poll_id, x.local_day
    ON CONFLICT (poll_id, local_date) WHERE kind = 'day' DO NOTHING
    """,
    """
    UPDATE polls_response r SET pollrun_id = pr.id
    FROM relocated x JOIN polls_pollrun pr
        ON pr.poll_id = x.poll_id AND pr.kind = %(day)s AND pr.local_date = x.local_day
    WHERE r.id = x.id AND r.pollrun_id <> pr.id
    """,
    """
    DELETE FROM polls_pollrun pr USING polls_poll p
    WHERE p.id = pr.poll_id AND p.org_id = %(org)s AND pr.kind = %(day)s
      AND NOT EXISTS (SELECT 1 FROM polls_response r WHERE r.pollrun_id = pr.id)
    """,
    """
    UPDATE polls_pollrun pr SET conducted_on = first.created_on
    FROM (
        SELECT r.pollrun_id, min(r.created_on) AS created_on FROM relocated x
        JOIN polls_response r ON r.id = x.id GROUP BY r.pollrun_id
    ) first
    WHERE pr.id = first.pollrun_id AND pr.conducted_on <> first.created_on
    """,
    """
    UPDATE polls_response r SET is_active = latest.is_active
    FROM (
        SELECT r2.id, row_number() OVER (
            PARTITION BY r2.pollrun_id, r2.contact_id ORDER BY r2.created_on DESC, r2.run_uuid DESC
        ) = 1 AS is_active
        FROM relocated x JOIN polls_response r1 ON r1.id = x.id
        JOIN polls_response r2 ON r2.pollrun_id = r1.pollrun_id AND r2.contact_id = r1.contact_id
    ) latest
    WHERE r.id = latest.id AND r.is_active <> latest.is_active
    """,
    """
    UPDATE polls_answer a SET local_date = (a.submitted_on AT TIME ZONE %(tz)s)::date
    FROM polls_response r
    WHERE r.id = a.response_id AND r.org_id = %(org)s
      AND a.local_date <> (a.submitted_on AT TIME ZONE %(tz)s)::date
    """,
]


def relocate_local_dates(org) -> None:
    """After the org's time zone changed: local days, poll dates without a flow start,
    the same-day rule and the rollups, all again (inside a transaction)."""
    writer = RunWriter(org)
    with connection.cursor() as cursor:
        lock_org(cursor, org.pk)
        # rebuilt below; they would hold on to poll dates that go
        delete_all(cursor, org.pk)
    analyze(*MIRROR_TABLES)
    columns, values, params = column_defaults(PollRun, POLLRUN_FIELDS)
    for statement in RELOCATE:
        writer.run(statement.replace("{columns}", columns).replace("{values}", values), params)
    numeric = Question.objects.filter(poll__org=org, question_type=QuestionType.NUMERIC)
    finish_bulk(org, list(numeric.values_list("pk", flat=True)))
