"""Runs from RapidPro's archives: the history its runs endpoint no longer serves.

rp-archiver moves runs older than about 90 days into daily and monthly archives and,
on most hosted servers, deletes them from the database. `archives.json` lists the
archives (`type`, `start_date`, `period`, `record_count`, `size`, `hash`: the MD5 of
the file, `download_url`: a temporary link that needs no token); a file is gzipped
JSON lines, one run per line, in the runs endpoint's shape without `start` (see
tracpro/simulator/archives.py for what was read of the server).

A newly selected poll reads them once its backfill through the API is done
(RunsSyncer.backfill), `fetchruns --days N` for the window it fetches again. Each
archive is downloaded once, checked against its hash, read line by line into the
rows the API's pages become (`RunsSyncer.staged_rows`: status and timeouts decided
alike) and written through the same `RunWriter`, in batches that end where a day
ends, so that most runs take the writer's first-history path (a COPY straight into
the mirror's tables). A run both archived and still served by the API is written
once: the writer skips a run the mirror holds in that version.
Archived runs carry no flow start, so those the API no longer has are dated by day
(like runs started by a keyword). `RunArchive` remembers which archives were read
for which flows, so a poll selected later reads them again for its own runs only.
"""

import gc
import gzip
import hashlib
import io
import logging
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import IO, NamedTuple
from zoneinfo import ZoneInfo

import orjson
import requests
from temba_client.exceptions import TembaConnectionError
from temba_client.v2.types import Archive

from django.conf import settings
from django.db import transaction

from tracpro.polls.models import Poll, Question, QuestionType
from tracpro.rapidpro.models import RunArchive
from tracpro.rapidpro.paging import SyncError
from tracpro.rapidpro.sql import execute
from tracpro.rapidpro.syncers.base import Counts, tune_batch_transaction
from tracpro.rapidpro.syncers.run_writer import BulkBatch, RunWriter, bulk_batch, finish_bulk

logger = logging.getLogger(__name__)

# Runs per transaction, about: fewer, larger transactions write faster. A batch ends
# where a day ends (see `ArchiveImporter.batches`), so it may hold a day's runs more.
RUNS_PER_BATCH = 50_000
MAX_BATCH = 4 * RUNS_PER_BATCH  # a day that holds more is cut (the rest goes the general way)
# The file goes by modified_on, and a run often ends the local day after it started
# (in the bench's archives 66 % the same day, 34 % the next, 0.1 % later), so the runs
# of the last two days read wait for the next batch.
HELD_BACK_DAYS = 2
BYTES_PER_BLOCK = 8 * 1024 * 1024  # decompressed at a time
IMPORT_WORK_MEM = "128MB"  # the general path's sorts (one per run) stay in memory


class ArchiveImporter:
    """Imports run archives for some polls through the sync's RunWriter."""

    def __init__(self, syncer) -> None:  # a RunsSyncer
        self.syncer = syncer
        self.org = syncer.org
        self.contact_ids: dict[str, int] = {}  # shared by its writers, see RunWriter

    def import_for(self, polls: list[Poll], since: date | None = None) -> Counts:
        """Every run archive not yet read for these polls' flows (with `since`: every
        archive that ends after it, read again)."""
        todo: list[tuple[Archive, list[Poll], list[str]]] = []
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
            if wanted:
                todo.append((archive, wanted, sorted(read | {poll.flow_uuid for poll in polls})))
        if not todo:
            return Counts()
        with ExitStack() as stack:
            files = []
            for archive, wanted, _ in todo:
                self.syncer.context.report(label=f"Archive of {archive_label(archive)}")
                file = stack.enter_context(tempfile.TemporaryFile())
                file.write(self.download(archive))
                file.seek(0)
                files.append((file, wanted))
            self.syncer.context.report(label=f"Archives: writing {len(files)} files")
            counts = self.ingest(files)
        if counts.created or counts.updated:
            self.finish(list({poll.pk: poll for _, wanted, _ in todo for poll in wanted}.values()))
        # Only now: an import killed before the rollups were recomputed is done again.
        for archive, _, flow_uuids in todo:
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

    def ingest(
        self, files: Iterable[tuple[bytes | IO[bytes], list[Poll]]], first_history: bool = True
    ) -> Counts:
        """The runs of these archive files (gzipped JSON lines, oldest first) of their
        polls, in batches written without the rollups and the same-day rule, which
        `finish` recomputes once every archive is written: archives hold months of
        runs, and recomputing once is cheaper than a delta per batch. Until then (and
        if the import is killed, until the next sync imports the archives again) the
        charts lack the runs written so far.
        No statistics pass per batch (the API path's `keep_statistics_fresh`): the
        writer looks each run up through an index, which the planner picks from the
        tables' current size; `finish` refreshes the statistics once.
        The files are read as one stream, so a day that reaches over two archives
        (runs archived by modified_on) still lies in one batch. The runs of poll
        dates the mirror holds nothing of yet (the usual case: the archives are older
        than what the API served) take the writer's first-history path;
        `first_history=False` sends every run the general way (a check of one
        against the other)."""
        with without_cycle_collection():
            counts = self.write_batches(read_ahead(self.batches(files)), first_history)
        self.syncer.counts.add(counts)
        return counts

    def write_batches(self, batches: Iterator[BulkBatch], first_history: bool) -> Counts:
        counts = Counts()
        for batch in batches:
            with transaction.atomic():
                tune_batch_transaction()
                execute(f"SET LOCAL work_mem = '{IMPORT_WORK_MEM}'")  # not for the API's pages
                writer = RunWriter(self.org, self.contact_ids)
                written = writer.write_bulk(batch, first_history)
                written.failed += batch.failed
                counts.add(written)
        return counts

    def batches(self, files: Iterable[tuple[bytes | IO[bytes], list[Poll]]]) -> Iterator[BulkBatch]:
        """The files' runs of their polls as the writer's rows, each run once in its
        newest version, in batches of about RUNS_PER_BATCH runs that end where a local
        day ends: the runs of the last days read are held back for the next batch
        (HELD_BACK_DAYS), which holds the rest of those days. A poll date then lies
        in one batch, which finds it empty and writes it through the first-history
        path (a run modified days after it was created reaches its poll date later,
        the general way)."""
        tz = self.org.tz
        pending: dict[str, tuple[ArchivedRun, date]] = {}  # run uuid: (run, local day)
        failed, cut_at = 0, RUNS_PER_BATCH
        for line, flows in lines_of(files):
            try:
                run = parse_line(line, flows)
            except ValueError as error:
                failed += 1
                logger.warning("skipped an unreadable line of a run archive: %s", error)
                continue
            if run is None:
                continue
            known = pending.get(run.uuid)
            if known is None or known[0].modified_on < run.modified_on:
                pending[run.uuid] = (run, run.created_on.astimezone(tz).date())
            if len(pending) >= cut_at:
                if len(pending) >= MAX_BATCH:
                    ready, pending = list(pending.values()), {}
                else:
                    ready, pending = held_back_last_days(pending)
                if ready:
                    yield self.rows_of(ready, failed, tz)
                    failed = 0
                # A day of more runs than a batch: read on (up to MAX_BATCH runs).
                cut_at = max(RUNS_PER_BATCH, len(pending) + RUNS_PER_BATCH // 5)
        if pending or failed:
            yield self.rows_of(list(pending.values()), failed, tz)

    def rows_of(
        self, runs: list[tuple["ArchivedRun", date]], failed: int, tz: ZoneInfo
    ) -> BulkBatch:
        run_rows, answer_rows, days = [], [], []
        staged_rows = self.syncer.staged_rows
        for run, day in runs:
            row, answers = staged_rows(*run)
            run_rows.append(row)
            answer_rows.extend(answers)
            days.append(day)
        return bulk_batch(run_rows, answer_rows, failed, tz, days)

    def finish(self, polls: list[Poll]) -> None:
        """The same-day rule and the rollups, after `ingest` wrote archives' runs."""
        numeric = Question.objects.filter(poll__in=polls, question_type=QuestionType.NUMERIC)
        with transaction.atomic():
            finish_bulk(self.org, list(numeric.values_list("pk", flat=True)))


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


class ArchivedRun(NamedTuple):
    """What TracPro reads of an archive's line: `RunsSyncer.staged_rows`' arguments."""

    poll_id: int
    uuid: str
    start_uuid: None  # archived runs carry no flow start
    contact_uuid: str
    contact_name: object
    responded: bool
    completed: bool
    created_on: datetime
    modified_on: datetime
    values: list[tuple[str, object, object, datetime | None]]


def lines_of(
    files: Iterable[tuple[bytes | IO[bytes], list[Poll]]],
) -> Iterator[tuple[bytes, dict[str, int]]]:
    """Each file's lines, with its polls by flow uuid, decompressed a block at a time
    (reading line by line cost more than the decompression)."""
    for content, polls in files:
        flows = {poll.flow_uuid: poll.pk for poll in polls}
        file = io.BytesIO(content) if isinstance(content, bytes) else content
        rest = b""
        with gzip.GzipFile(fileobj=file) as unzipped:
            while block := unzipped.read(BYTES_PER_BLOCK):
                lines = (rest + block).split(b"\n")
                rest = lines.pop()
                yield from ((line, flows) for line in lines if line.strip())
        if rest.strip():
            yield rest, flows


def parse_line(line: bytes, flows: dict[str, int]) -> ArchivedRun | None:
    """A line's run, None if it is of another flow; ValueError if it is not a run
    TracPro can keep (as `RunsSyncer.ingest` drops a run without contact or dates)."""
    record = orjson.loads(line)  # a JSONDecodeError is a ValueError
    try:
        uuid, contact, flow = record["uuid"], record["contact"], record["flow"]
        contact_uuid, poll_id = contact["uuid"], flows.get(flow["uuid"])
        created_on, modified_on = record["created_on"], record["modified_on"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"a line that is not a run: {error!r}") from None
    if not (uuid and contact_uuid and isinstance(uuid, str) and isinstance(contact_uuid, str)):
        raise ValueError(f"run {uuid!r} without a uuid or a contact")
    if poll_id is None:
        return None
    created_on, modified_on = parse_time(created_on), parse_time(modified_on)
    if created_on is None or modified_on is None:
        raise ValueError(f"run {uuid} without its dates")
    values = record.get("values")
    return ArchivedRun(
        poll_id,
        uuid,
        None,
        contact_uuid,
        contact.get("name"),
        bool(record.get("responded")),
        record.get("exit_type") == "completed",
        created_on,
        modified_on,
        [
            (key, value.get("value"), value.get("category"), parse_time(value.get("time") or None))
            for key, value in (values.items() if isinstance(values, dict) else ())
            if isinstance(value, dict)
        ],
    )


def parse_time(text: object) -> datetime | None:
    """RapidPro's ISO 8601 time (UTC when it names no offset), None for None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"not a time: {text!r}")
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def held_back_last_days(
    pending: dict[str, tuple[ArchivedRun, date]],
) -> tuple[list[tuple[ArchivedRun, date]], dict[str, tuple[ArchivedRun, date]]]:
    """The pending runs created before the last HELD_BACK_DAYS local days among them,
    and those of the last days, which lines still to come may add to (a run is
    modified, and archived, up to a day or so after it was created)."""
    since = max(day for _, day in pending.values()) - timedelta(days=HELD_BACK_DAYS - 1)
    held = {uuid: item for uuid, item in pending.items() if item[1] >= since}
    return [item for item in pending.values() if item[1] < since], held


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: reading an archive makes millions of lists,
    dicts and tuples, none of them in a cycle, and the collector's passes over the
    batches held in memory took most of the reading's time (three times the JSON
    parser's, measured); memory is still freed as each batch is dropped."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def read_ahead(batches: Iterator[BulkBatch]) -> Iterator[BulkBatch]:
    """The batches, each next one read in a thread while Postgres writes the one
    before: zlib, the JSON parser's long stretches and waiting for Postgres release
    the GIL, so part of the reading hides behind the database's writing."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(next, batches, None)
        while (batch := upcoming.result()) is not None:
            upcoming = pool.submit(next, batches, None)
            yield batch
