"""What every syncer shares: the run's context, its counts and the stream runner.

A syncer pulls one kind of RapidPro object for one org. Small kinds (flows,
fields, groups, boundaries) are read whole and compared with the mirror. Large
kinds (contacts, runs, inbox messages) are pulled through `SyncStream`s: paged
queries whose cursor and watermark are saved with every page they follow, so a
sync killed at any point resumes where it stopped.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from temba_client.base import CursorQuery
from temba_client.v2 import TembaClient

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tracpro.orgs import tasks as org_tasks
from tracpro.orgs.models import Org, SyncState, SyncStatus
from tracpro.rapidpro.models import SyncStream
from tracpro.rapidpro.paging import (
    Fetcher,
    InvalidCursor,
    Malformed,
    Page,
    Prefetcher,
    RetryNotice,
)

logger = logging.getLogger(__name__)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # unchanged, older than the mirror, or not followed
    failed: int = 0  # malformed items, logged and left out

    def add(self, other: "Counts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.skipped += other.skipped
        self.failed += other.failed

    def minus(self, other: "Counts") -> "Counts":
        return Counts(
            self.created - other.created,
            self.updated - other.updated,
            self.skipped - other.skipped,
            self.failed - other.failed,
        )


@dataclass
class SyncResult:
    counts: Counts = field(default_factory=Counts)
    requests: int = 0  # to RapidPro, retries included
    retries: int = 0
    pages: int = 0  # of items (contacts, runs...) read
    complete: bool = True  # False when the time budget ran out; the next run goes on
    extra: dict[str, Any] = field(default_factory=dict)  # a kind's own report

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self.counts),
            "requests": self.requests,
            "retries": self.retries,
            "pages": self.pages,
            "complete": self.complete,
            **self.extra,
        }


@dataclass
class SyncContext:
    org: Org
    state: SyncState
    client: TembaClient
    fetcher: Fetcher
    deadline: float | None = None  # time.monotonic() after which no new batch starts
    result: SyncResult = field(default_factory=SyncResult)
    # Called with (done, total, label) after every batch, e.g. by a command's progress bar.
    on_progress: Callable[[int, int | None, str], None] | None = None
    on_retry: Callable[[RetryNotice], None] | None = None

    @property
    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def report(
        self, done: int | None = None, total: int | None = None, label: str | None = None
    ) -> None:
        """Save progress and counts on the SyncState (in the caller's transaction),
        and tell the task's lock that this worker is alive."""
        org_tasks.heartbeat()
        state = self.state
        if self.on_progress is not None:
            self.on_progress(
                state.progress_done if done is None else done,
                total if done is not None else state.progress_total,
                label or state.progress_label,
            )
        if state.pk is None:  # a one-off run (fetchruns) keeps no state
            return
        self.result.requests, self.result.retries = self.fetcher.requests, self.fetcher.retries
        fields: dict[str, Any] = {
            "counts": self.result.as_dict(),
            "status": SyncStatus.RUNNING,
        }
        if label is not None:
            fields["progress_label"] = label[:255]
        state.save_progress(
            state.progress_done if done is None else done,
            total if done is not None else state.progress_total,
            **fields,
        )

    def notice_retry(self, notice: RetryNotice) -> None:
        """Shown on the status page while the sync waits to retry."""
        if self.on_retry is not None:
            self.on_retry(notice)
        state = self.state
        if state.pk is None:
            return
        state.status = SyncStatus.RETRYING
        state.last_error = (
            f"{notice.error} (attempt {notice.attempt}, retrying in {notice.wait:.0f}s)"
        )
        state.save(update_fields=["status", "last_error"])


class Syncer:
    """One remote kind. Subclasses set `kind` and implement `sync()`."""

    kind: ClassVar[str]

    def __init__(self, context: SyncContext) -> None:
        self.context = context
        self.org = context.org
        self.client = context.client
        self.fetcher = context.fetcher

    @property
    def counts(self) -> Counts:
        return self.context.result.counts

    def sync(self) -> None:
        raise NotImplementedError

    def log_malformed(self, malformed: Sequence[Malformed], what: str) -> None:
        for item in malformed:
            logger.warning(
                "org %s: skipped malformed %s %s: %s",
                self.org.subdomain,
                what,
                item.ident,
                item.error,
            )
        self.counts.failed += len(malformed)

    def fetch_all(
        self,
        make_query: Callable[[], CursorQuery],
        what: str,
        trim: Callable[[dict], dict] | None = None,
    ) -> list:
        """Every item of a small query (a few pages at most); `trim` as for `pull`."""
        items: list = []
        for page in self.fetcher.pages(make_query(), trim=trim):
            self.context.result.pages += 1
            self.log_malformed(page.malformed, what)
            items.extend(page.items)
        return items

    # Streams -----------------------------------------------------------------------

    def stream(self, name: str = "", **initial: Any) -> SyncStream:
        stream, _ = SyncStream.objects.get_or_create(
            org=self.org, kind=self.kind, name=name, defaults=initial
        )
        return stream

    def stream_from_newest(
        self,
        name: str,
        newest: Callable[[], CursorQuery],
        stamp: Callable[[Any], datetime | None],
        lookback: timedelta = timedelta(0),
    ) -> SyncStream:
        """A stream over what changes from now on. Its first watermark is the stamp of
        RapidPro's newest item (minus `lookback`), so TracPro's clock never matters;
        what came before is fetched by backfills."""
        stream = self.stream(name)
        if stream.after is None and stream.finished_on is None and not stream.cursor:
            page = next(self.fetcher.pages(newest()), None)
            self.context.result.pages += 1
            stamps = [stamp(item) for item in page.items] if page else []
            start = max((s for s in stamps if s is not None), default=None)
            stream.after = start - lookback if start is not None else None
            # With nothing in RapidPro yet, passes start from the beginning.
            stream.finished_on = timezone.now()
            stream.save()
        return stream

    def incremental_after(self, stream: SyncStream) -> datetime | None:
        """Where a pass of an incremental stream starts: `RAPIDPRO_OVERLAP` before its
        watermark, while writes stamped before the watermark may still become visible.

        RapidPro stamps `modified_on` in many writers and serves lists from a read
        replica, so a row stamped before the newest one read can show up later; the
        cursor's ties can skip rows too. Every pass re-reads the window (upserts make
        that safe) until one has started more than the overlap after the watermark
        last moved: everything before it is settled then, and passes start from the
        watermark itself until it moves again (a quiet workspace is not re-read)."""
        overlap = timedelta(seconds=settings.RAPIDPRO_OVERLAP)
        track = stream.params.get("overlap") or {}
        if stream.cursor and "from" in track:  # a pass resumes with the query it began
            return parse_datetime(track["from"]) if track["from"] else None
        after = stream.after
        watermark = after.isoformat() if after else None
        if after is None or not overlap or track.get("settled") == watermark:
            start = after
        else:
            start = after - overlap
        moved = parse_datetime(track["moved"]) if track.get("moved") else None
        last = moved is not None and timezone.now() - moved > overlap
        stream.params = {
            **stream.params,
            "overlap": {
                **track,
                "from": start.isoformat() if start else None,
                "final": watermark if last else track.get("final"),
            },
        }
        if stream.pk is not None:
            stream.save(update_fields=["params", "updated_on"])
        return start

    def pull(
        self,
        stream: SyncStream,
        query: Callable[[SyncStream], CursorQuery],
        ingest: Callable[[list], Counts],
        modified_on: Callable[[Any], datetime | None],
        *,
        label: str,
        total: int | None = None,
        what: str = "item",
        prepare: Callable[[list], None] | None = None,
        trim: Callable[[dict], dict] | None = None,
    ) -> bool:
        """Run (or resume) one pass of a stream: fetch pages a few ahead, ingest them
        in batches, and save the cursor with each batch. `prepare(items)` runs before
        each batch's transaction (for requests a batch needs first). Returns False if
        the time budget ran out before the pass ended."""
        puller = StreamPuller(
            self, stream, query, ingest, modified_on, label, total, what, prepare, trim
        )
        try:
            return puller.run()
        except InvalidCursor:
            logger.warning(
                "org %s: %s cursor expired; restarting the pass", self.org.subdomain, stream
            )
            stream.cursor = ""
            stream.high_water = None
            if stream.pk is not None:
                stream.save(update_fields=["cursor", "high_water", "updated_on"])
            return puller.run()


@dataclass
class StreamPuller:
    syncer: Syncer
    stream: SyncStream
    query: Callable[[SyncStream], CursorQuery]
    ingest: Callable[[list], Counts]
    modified_on: Callable[[Any], datetime | None]
    label: str
    total: int | None
    what: str
    prepare: Callable[[list], None] | None
    trim: Callable[[dict], dict] | None = None
    done: int = 0

    # Each transaction has a fixed cost (staging tables, statistics, about thirty
    # statements), so larger batches write faster: 40 pages instead of 20 cut a
    # backfill's write time by a fifth (bench/bench_sync.py), for about 40 MB of
    # runs held in memory.
    max_batch_pages: ClassVar[int] = 40  # prefetched pages one transaction may take
    prefetch_pages: ClassVar[int] = 40  # pages fetched ahead while a batch is written

    @property
    def context(self) -> SyncContext:
        return self.syncer.context

    def run(self) -> bool:
        self.done = 0
        self.context.report(0, self.total, self.label)
        fetcher = self.syncer.fetcher
        query = self.query(self.stream)  # here: building it may read and save the stream
        prefetcher = Prefetcher(
            lambda: fetcher.pages(query, self.stream.cursor, self.trim), self.prefetch_pages
        )

        def on_retry(notice: RetryNotice) -> None:
            if threading.current_thread() is prefetcher.thread:
                prefetcher.notify(notice)
            else:
                self.context.notice_retry(notice)

        fetcher.on_retry = on_retry
        try:
            with prefetcher:
                for batch in batches(prefetcher, self.max_batch_pages):
                    for notice in batch:
                        if isinstance(notice, RetryNotice):
                            self.context.notice_retry(notice)
                    pages = [page for page in batch if isinstance(page, Page)]
                    if not pages:
                        continue
                    self.commit(pages)
                    if pages[-1].cursor is None:
                        return True
                    if self.context.out_of_time:
                        return False
        finally:
            fetcher.on_retry = self.context.notice_retry
        # The last page came back empty: the pass is over all the same.
        with transaction.atomic():
            finish_pass(self.stream)
        return True

    def commit(self, pages: list[Page]) -> None:
        items = [item for page in pages for item in page.items]
        for page in pages:
            self.syncer.log_malformed(page.malformed, self.what)
        self.context.result.pages += len(pages)
        if self.prepare is not None and items:
            self.prepare(items)
        stream = self.stream
        with transaction.atomic():
            tune_batch_transaction()
            self.syncer.counts.add(self.ingest(items) if items else Counts())
            newest = max((m for m in map(self.modified_on, items) if m is not None), default=None)
            if newest is not None and (stream.high_water is None or newest > stream.high_water):
                stream.high_water = newest
            stream.cursor = pages[-1].cursor or ""
            if pages[-1].cursor is None:
                finish_pass(stream)
            elif stream.pk is not None:
                stream.save(update_fields=["cursor", "high_water", "updated_on"])
            self.done += len(items) + sum(len(page.malformed) for page in pages)
            self.context.report(self.done, self.total, self.label)


def tune_batch_transaction() -> None:
    """Settings for the transaction that writes a batch.

    - Its commit returns before its WAL reaches the disk. Safe here: a page and the
      cursor that follows it commit together, so a database crash can only lose
      whole recent pages, which the next sync fetches again. It saves a disk flush
      per batch.
    - No JIT compilation: the batch's statements look costly to the planner (a
      lookup per staged row) yet run in milliseconds; compiling them took longer."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off; SET LOCAL jit = off")


def finish_pass(stream: SyncStream) -> None:
    """The pass reached the end: everything up to its high water is mirrored, so the
    next pass starts just after it. (Starting at it would fetch again, every time,
    all the items sharing that timestamp: a flow start writes thousands at once.)
    An incremental stream's overlap (Syncer.incremental_after) is settled when its
    last re-read ends with the watermark where it was."""
    before = stream.after
    if stream.high_water is not None:
        following = stream.high_water + timedelta(microseconds=1)
        if stream.after is None or following > stream.after:
            stream.after = following
    track = stream.params.get("overlap")
    if track is not None:
        watermark = stream.after.isoformat() if stream.after else None
        track = {**track, "from": None}
        if stream.after != before or "moved" not in track:
            track.update(moved=timezone.now().isoformat(), final=None)
        elif track.get("final") == watermark:
            track["settled"] = watermark
        stream.params = {**stream.params, "overlap": track}
    stream.cursor = ""
    stream.high_water = None
    stream.finished_on = timezone.now()
    if stream.pk is not None:  # an unsaved stream is a one-off pass (fetchruns)
        stream.save()


def batches(prefetcher: Prefetcher, max_pages: int) -> Iterator[list]:
    """The next fetched item plus whatever else is already waiting, up to `max_pages`
    pages: when writing is slower than fetching, batches grow and each transaction
    carries more rows; otherwise every page is written as soon as it arrives."""
    for first in prefetcher:
        batch = [first]
        while not is_last(batch[-1]) and sum(isinstance(i, Page) for i in batch) < max_pages:
            more = prefetcher.next_ready()
            if more is None:
                break
            batch.append(more)
        yield batch


def is_last(item: Page | RetryNotice) -> bool:
    return isinstance(item, Page) and item.cursor is None
