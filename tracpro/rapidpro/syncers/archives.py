"""Runs from RapidPro's archives: the history its runs endpoint no longer serves.

rp-archiver moves runs older than about 90 days into daily and monthly archives and,
on most hosted servers, deletes them from the database. `archives.json` lists the
archives (`type`, `start_date`, `period`, `record_count`, `size`, `hash`: the MD5 of
the file, `download_url`: a temporary link that needs no token); a file is gzipped
JSON lines, one run per line, in the runs endpoint's shape without `start` (see
tracpro/simulator/archives.py for what was read of the server).

A newly selected poll reads them once its backfill through the API is done
(RunsSyncer.backfill), `fetchruns --days N` for the window it fetches again. Each
archive is downloaded once, checked against its hash, and written through the same
`RunWriter` as the API's pages: the lines go to Postgres (COPY; without each run's
`path`, which TracPro never reads), where one statement turns them into the writer's
staged runs and answers, deciding status and timeouts as `RunsSyncer.rows_for` does.
A run both archived and still served by the API is written once: the writer skips a
run the mirror holds in that version.
Archived runs carry no flow start, so those the API no longer has are dated by day
(like runs started by a keyword). `RunArchive` remembers which archives were read
for which flows, so a poll selected later reads them again for its own runs only.
"""

import gzip
import hashlib
import io
import json
import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import requests
from temba_client.exceptions import TembaConnectionError
from temba_client.v2.types import Archive

from django.conf import settings
from django.db import DataError, connection, transaction

from tracpro.polls.models import Poll, Question, QuestionType
from tracpro.polls.rules import NUMBER_PATTERN
from tracpro.rapidpro.definitions import NO_RESPONSE
from tracpro.rapidpro.models import RunArchive
from tracpro.rapidpro.paging import SyncError
from tracpro.rapidpro.sql import create_staging_table, execute
from tracpro.rapidpro.syncers.base import Counts, tune_batch_transaction
from tracpro.rapidpro.syncers.run_writer import RunWriter, finish_bulk

logger = logging.getLogger(__name__)

LINES = "sync_archive_lines"
# Decompressed bytes per transaction (about 50,000 runs of the usual shape): fewer,
# larger transactions write faster, as long as the batch's lines and staging tables
# stay within the session's temp_buffers (settings.DB_TEMP_BUFFERS) and work_mem.
BYTES_PER_BATCH = 48 * 1024 * 1024
IMPORT_WORK_MEM = "128MB"  # the batch's sorts (one run per line) stay in memory
NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")  # jsonb refuses \u0000; the sync drops NULs
# A run's `path` (the nodes it visited; a third of a line) is never read: cut before
# Postgres parses the line. Only the exact shape is cut, objects of string or null
# values whose strings hold no quote or backslash, so a line either loses its path
# whole or stays as it is; inside a JSON string `,"path":[` cannot occur unescaped.
PATH_STEP = rb'\{"[^"\\]*":(?:"[^"\\]*"|null)(?:,"[^"\\]*":(?:"[^"\\]*"|null))*\}'
PATH = re.compile(rb',"path":\[(?:' + PATH_STEP + rb"(?:," + PATH_STEP + rb")*)?\]")
# Likewise each value's `input` (any JSON string, matched token by token) and `node`.
UNREAD_IN_VALUES = re.compile(rb',"(?:input|node)":(?:null|"[^"\\]*(?:\\.[^"\\]*)*")')


class ArchiveImporter:
    """Imports run archives for some polls through the sync's RunWriter."""

    def __init__(self, syncer) -> None:  # a RunsSyncer
        self.syncer = syncer
        self.org = syncer.org

    def import_for(self, polls: list[Poll], since: date | None = None) -> Counts:
        """Every run archive not yet read for these polls' flows (with `since`: every
        archive that ends after it, read again)."""
        counts = Counts()
        written: list[Poll] = []
        done: list[tuple[Archive, list[str]]] = []
        listed = self.syncer.fetch_all(
            lambda: self.syncer.client.get_archives(type="run"), "archive"
        )
        for archive in sorted(listed, key=lambda a: (a.start_date, a.period or "")):
            if not archive.download_url or not archive.record_count or not archive.hash:
                continue
            if since is not None and archive_end(archive) <= since:
                continue
            known = RunArchive.objects.filter(org=self.org, hash=archive.hash).first()
            read = set(known.flow_uuids) if known and since is None else set()
            wanted = [poll for poll in polls if poll.flow_uuid not in read]
            if not wanted:
                continue
            self.syncer.context.report(label=f"Archive of {archive_label(archive)}")
            counts.add(self.ingest(self.download(archive), wanted))
            written.extend(poll for poll in wanted if poll not in written)
            done.append((archive, sorted(read | {poll.flow_uuid for poll in polls})))
        if counts.created or counts.updated:
            self.finish(written)
        # Only now: an import killed before the rollups were recomputed is done again.
        for archive, flow_uuids in done:
            RunArchive.objects.update_or_create(
                org=self.org,
                hash=archive.hash,
                defaults={
                    "start_date": archive.start_date.date(),
                    "period": archive.period or "",
                    "record_count": archive.record_count,
                    "flow_uuids": flow_uuids,
                },
            )
        return counts

    def download(self, archive: Archive) -> bytes:
        """The archive's file, checked against its MD5 (under the retry policy)."""
        content = self.syncer.fetcher.call(fetch_file, archive.download_url)
        if hashlib.md5(content).hexdigest() != archive.hash:  # noqa: S324 - S3's checksum
            raise SyncError(
                f"RapidPro's archive of {archive_label(archive)} does not match its hash; "
                "it is downloaded again by the next sync."
            )
        return content

    def ingest(self, content: bytes, polls: list[Poll], first_history: bool = True) -> Counts:
        """An archive's runs of these polls, in batches written without the rollups and
        the same-day rule, which `finish` recomputes once every archive is written:
        archives hold months of runs, and recomputing once is cheaper than a delta
        per batch. Until then (and if the import is killed, until the next sync
        imports the archives again) the charts lack the runs written so far.
        No statistics pass per batch (the API path's `keep_statistics_fresh`): the
        writer looks each run up through an index, which the planner picks from the
        tables' current size; `finish` refreshes the statistics once.
        The runs of poll dates the mirror holds nothing of yet (the usual case: the
        archives are older than what the API served) take the writer's first-history
        path; `first_history=False` sends every run the general way (a check of
        one against the other)."""
        counts = Counts()
        for chunk in read_ahead(batches_of_lines(content, BYTES_PER_BATCH)):
            with transaction.atomic():
                tune_batch_transaction()
                execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")  # not for the API's pages
                writer = RunWriter(self.org)
                writer.stage()
                staged, failed = self.stage_lines(chunk, polls)
                written = writer.write_staged(staged, bulk=True, first_history=first_history)
                written.failed += failed
                counts.add(written)
        self.syncer.counts.add(counts)
        return counts

    def finish(self, polls: list[Poll]) -> None:
        """The same-day rule and the rollups, after `ingest` wrote archives' runs."""
        numeric = Question.objects.filter(poll__in=polls, question_type=QuestionType.NUMERIC)
        with transaction.atomic():
            finish_bulk(self.org, list(numeric.values_list("pk", flat=True)))

    def stage_lines(self, chunk: bytes, polls: list[Poll]) -> tuple[int, int]:
        """The runs of these polls in `chunk` (JSON lines) into the writer's staging
        tables; returns (staged, unreadable)."""
        create_staging_table(LINES, [("line", "jsonb")])
        failed = 0
        try:
            with transaction.atomic():
                copy_lines(chunk)
        except DataError:  # a line that is not JSON: find it, log it, keep the others
            good, failed = readable_lines(chunk)
            copy_lines(good)
        params = {
            "org": self.org.pk,
            "polls": [poll.pk for poll in polls],
            "number": NUMBER_PATTERN,
            "no_response": NO_RESPONSE,
        }
        failed += execute(UNREADABLE, params)
        execute(STAGE_VALUES, params)
        staged = execute(STAGE_RUNS, params)
        execute(STAGE_ANSWERS, params)
        execute(f"DROP TABLE {LINES}, sync_archive_values")
        return staged, failed


def fetch_file(url: str) -> bytes:
    """An archive's download link (S3's: no token, not decompressed on the way)."""
    try:
        response = requests.get(url, timeout=settings.RAPIDPRO_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as error:
        raise TembaConnectionError() from error
    return response.content


def archive_end(archive: Archive) -> date:
    start = archive.start_date.date()
    if archive.period == "monthly":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return date.fromordinal(start.toordinal() + 1)


def archive_label(archive: Archive) -> str:
    start = archive.start_date.date()
    return start.strftime("%Y-%m") if archive.period == "monthly" else start.isoformat()


def batches_of_lines(content: bytes, size: int) -> Iterator[bytes]:
    """The decompressed file in chunks of whole lines, about `size` bytes each
    (read in blocks: splitting lines in Python cost more than the decompression)."""
    rest = b""
    with gzip.GzipFile(fileobj=io.BytesIO(content)) as file:
        while block := file.read(size):
            block = rest + block
            end = block.rfind(b"\n") + 1
            rest = block[end:]
            if end:
                yield cleaned(block[:end])
    if rest.strip():
        yield cleaned(rest + b"\n")


def read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks, each next one decompressed and cleaned in a thread while Postgres
    writes the one before: zlib and waiting for Postgres both release the GIL, so the
    Python work (a tenth of an import) hides behind the database's."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(next, chunks, None)
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(next, chunks, None)
            yield chunk


def cleaned(chunk: bytes) -> bytes:
    """Lines without NULs (which jsonb refuses) and without what TracPro never reads."""
    if b"\\u0000" in chunk:
        chunk = NUL.sub(rb"\1", chunk)
    return UNREAD_IN_VALUES.sub(b"", PATH.sub(b"", chunk))


def copy_lines(chunk: bytes) -> None:
    """Each line as it is into a jsonb column: CSV with a quote and a delimiter that
    JSON text never holds unescaped, so nothing in a line is interpreted on the way."""
    statement = f"COPY {LINES} (line) FROM STDIN (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(chunk)


def readable_lines(chunk: bytes) -> tuple[bytes, int]:
    good, failed = [], 0
    for line in chunk.splitlines():
        try:
            json.loads(line)
        except ValueError as error:
            failed += 1
            logger.warning("skipped an unreadable line of a run archive: %s", error)
            continue
        good.append(line + b"\n")
    return b"".join(good), failed


# Lines that are not a run TracPro can keep are counted and dropped, as rows_for does.
UNREADABLE = f"""
    WITH dropped AS (
        DELETE FROM {LINES} l
        WHERE jsonb_typeof(l.line) <> 'object'
           OR coalesce(l.line->>'uuid', '') = '' OR coalesce(l.line->'contact'->>'uuid', '') = ''
           OR l.line->>'created_on' IS NULL OR l.line->>'modified_on' IS NULL
        RETURNING 1
    )
    SELECT count(*) FROM dropped
"""  # noqa: S608 - a constant table name

# Every value of every run of the polls, with its question and whether it is a timeout
# (QuestionInfo.timed_out: the question's timeout categories, else RapidPro's default
# name or no value in a category the question does not have). Each run once, in its
# newest version.
STAGE_VALUES = f"""
    CREATE TEMP TABLE sync_archive_values ON COMMIT DROP AS
    SELECT r.run_uuid, r.poll_id, r.contact_uuid, r.contact_name, r.responded, r.completed,
           r.created_on, r.modified_on, v.key, v.text, v.category, v.time, q.id AS question_id,
           q.question_type = 'numeric' AS is_numeric, q.categories <> '[]' AS has_categories,
           CASE WHEN q.timeout_categories <> '[]' THEN q.timeout_categories ? v.category
                ELSE v.category = %(no_response)s
                     OR (v.text = '' AND NOT coalesce(q.categories ? v.category, false))
           END AS timed_out
    FROM (
        SELECT DISTINCT ON (l.line->>'uuid')
               l.line->>'uuid' AS run_uuid, p.id AS poll_id,
               l.line->'contact'->>'uuid' AS contact_uuid,
               left(l.line->'contact'->>'name', 128) AS contact_name,
               coalesce((l.line->>'responded')::boolean, false) AS responded,
               l.line->>'exit_type' = 'completed' AS completed,
               (l.line->>'created_on')::timestamptz AS created_on,
               (l.line->>'modified_on')::timestamptz AS modified_on,
               CASE WHEN jsonb_typeof(l.line->'values') = 'object'
                    THEN l.line->'values' ELSE '{{}}' END AS run_values
        FROM {LINES} l
        JOIN polls_poll p ON p.org_id = %(org)s AND p.flow_uuid = l.line->'flow'->>'uuid'
        WHERE p.id = ANY(%(polls)s)
        ORDER BY l.line->>'uuid', (l.line->>'modified_on')::timestamptz DESC
    ) r
    LEFT JOIN LATERAL (
        SELECT e.key, coalesce(e.value->>'value', '') AS text,
               left(coalesce(e.value->>'category', ''), 255) AS category,
               coalesce((e.value->>'time')::timestamptz, r.modified_on) AS time
        FROM jsonb_each(r.run_values) e WHERE jsonb_typeof(e.value) = 'object'
    ) v ON true
    LEFT JOIN polls_question q ON q.poll_id = r.poll_id AND q.result_key = v.key
"""  # noqa: S608 - a constant table name

# ResponseStatus.of: empty if the contact never replied, complete if the run reached
# its end without a timeout, partial otherwise.
STAGE_RUNS = """
    INSERT INTO sync_raw_runs (run_uuid, poll_id, start_uuid, contact_uuid, contact_name,
                               status, created_on, updated_on, modified_on)
    SELECT run_uuid, poll_id, NULL, contact_uuid, min(contact_name),
           CASE WHEN NOT bool_or(responded) THEN 'empty'
                WHEN bool_or(completed) AND NOT coalesce(bool_or(timed_out), false)
                THEN 'complete' ELSE 'partial' END,
           min(created_on),
           coalesce(max(time) FILTER (WHERE key IS NOT NULL AND NOT timed_out), min(created_on)),
           min(modified_on)
    FROM sync_archive_values
    GROUP BY run_uuid, poll_id, contact_uuid
"""
STAGE_ANSWERS = """
    INSERT INTO sync_answers (run_uuid, question_id, value, category, number, submitted_on,
                              is_numeric)
    SELECT run_uuid, question_id, text, CASE WHEN has_categories THEN category ELSE '' END,
           CASE WHEN text ~ %(number)s THEN text::double precision END, time, is_numeric
    FROM sync_archive_values
    WHERE question_id IS NOT NULL AND NOT timed_out
"""
