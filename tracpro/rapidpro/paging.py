"""Talking to RapidPro without giving up: retries, paging and prefetching.

- `Fetcher.call(fn, ...)` makes one request under the retry policy
  (`tracpro.rapidpro.retry`): a 429 waits its Retry-After, a 5xx, a timeout, a
  dropped connection or a garbled body backs off exponentially with jitter up to a
  cap. After `max_attempts` consecutive failures it raises `RapidProUnavailable`; a
  refused token or a bad request fails at once. A Retry-After longer than the
  policy's `max_wait` raises `RateLimited`: the task waits in the broker, not here.
- `Fetcher.pages(query, resume_cursor)` walks a cursor query page by page and
  reports each page's resume cursor. Items are deserialized one by one, so one
  malformed item becomes a `Malformed` entry instead of losing its page.
- `Prefetcher` fetches in a thread a few pages ahead, so waiting for RapidPro and
  writing to Postgres overlap.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temba_client.base import CursorQuery
from temba_client.exceptions import (
    TembaBadRequestError,
    TembaNoSuchObjectError,
    TembaSerializationException,
    TembaTokenError,
)

from django.utils import timezone

from tracpro.orgs.tasks import Postpone
from tracpro.rapidpro.retry import RetryPolicy, describe, is_retryable, retry_after

logger = logging.getLogger(__name__)


class SyncError(Exception):
    """A sync cannot go on; the message is shown to admins as it is."""


class RapidProUnavailable(SyncError):
    pass


class InvalidCursor(SyncError):
    pass


class RateLimited(Postpone):
    """RapidPro's rate limit asks for a longer wait than a worker should idle: the
    sync stops here (its cursor saved) and continues by itself when the wait is over."""


@dataclass(frozen=True)
class RetryNotice:
    """Sent while a sync waits to retry, so the UI can say why it is slow."""

    error: str
    wait: float
    attempt: int


@dataclass(frozen=True)
class Malformed:
    """An item RapidPro sent that could not be read; it is logged and skipped."""

    ident: str
    error: str


@dataclass
class Page:
    items: list[Any]
    malformed: list[Malformed]
    cursor: str | None  # resumes after this page; None when it was the last one


@dataclass
class Fetcher:
    policy: RetryPolicy = field(default_factory=RetryPolicy.from_settings)
    sleep: Callable[[float], None] = time.sleep
    on_retry: Callable[[RetryNotice], None] | None = None
    requests: int = 0  # every attempt, failed ones included
    responses: int = 0  # attempts that brought an answer (a page, a definition...)
    retries: int = 0

    def call(self, fn: Callable[..., Any], *args, **kwargs) -> Any:
        """`fn(*args, **kwargs)` under the retry policy (StopIteration passes through)."""
        attempt = 0
        while True:
            self.requests += 1
            try:
                result = fn(*args, **kwargs)
                self.responses += 1
                return result
            except StopIteration:
                raise
            except TembaTokenError as error:
                raise SyncError(
                    "RapidPro refused the API token; check the org's settings."
                ) from error
            except TembaBadRequestError as error:
                raise SyncError(f"RapidPro refused the request: {error}") from error
            except TembaNoSuchObjectError as error:
                raise InvalidCursor("RapidPro no longer knows this cursor.") from error
            except Exception as error:
                if not is_retryable(error):
                    raise
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise RapidProUnavailable(
                        f"{describe(error)}; gave up after {attempt} attempts."
                    ) from error
                self.wait_before_retry(error, attempt)

    def wait_before_retry(self, error: BaseException, attempt: int) -> None:
        asked = retry_after(error)
        if asked > self.policy.max_wait:
            until = timezone.now() + timedelta(seconds=asked)
            raise RateLimited(
                until, f"RapidPro's rate limit asks to wait {asked}s; the sync continues then."
            ) from error
        wait = self.policy.delay(attempt, asked)
        self.retries += 1
        notice = RetryNotice(describe(error), wait, attempt)
        logger.warning("RapidPro request failed (%s); retrying in %.1fs", notice.error, wait)
        if self.on_retry is not None:
            self.on_retry(notice)
        self.sleep(wait)

    def pages(
        self,
        query: CursorQuery,
        resume_cursor: str | None = None,
        trim: Callable[[dict], dict] | None = None,
    ) -> Iterator[Page]:
        """The query's pages from `resume_cursor` on, each with the cursor after it.
        `trim(item)` may drop fields TracPro does not use before they are parsed."""
        query.clazz = ItemByItem(query.clazz, trim)
        fetches = query.iterfetches(retry_on_rate_exceed=False, resume_cursor=resume_cursor or None)
        while fetches.url:  # None once the last page has been read
            try:
                results = self.call(next, fetches)
            except StopIteration:
                return
            items = [item for item in results if not isinstance(item, Malformed)]
            malformed = [item for item in results if isinstance(item, Malformed)]
            yield Page(items, malformed, fetches.get_cursor())


@dataclass(frozen=True)
class ItemByItem:
    """Stands in for a temba type in a cursor query: deserializes each item on its
    own, so one broken item does not make the whole page unreadable."""

    clazz: type
    trim: Callable[[dict], dict] | None = None

    def deserialize_list(self, items: list[dict], transformer=None) -> list:
        if not isinstance(items, list):
            raise TembaSerializationException("results is not a list")
        return [self.deserialize(item, transformer) for item in items]

    def deserialize(self, item: dict, transformer=None):
        try:
            if transformer is not None:
                item = transformer(self.clazz, item)
            if self.trim is not None:
                item = self.trim(item)
            return self.clazz.deserialize(item)
        except Exception as error:  # any field may be broken in any way
            return Malformed(item_ident(item), str(error))


def item_ident(item: object) -> str:
    if isinstance(item, dict):
        for key in ("uuid", "osm_id", "key", "id"):
            if item.get(key):
                return str(item[key])
    return "?"


_DONE = object()


class Prefetcher:
    """Runs a page iterator in a thread, up to `depth` pages ahead of the consumer.

    Yields the pages and any `RetryNotice`s in order; an error in the thread is
    raised in the consumer after the pages fetched before it. Close it (or use it
    as a context manager) to stop the thread early.
    """

    def __init__(self, make_pages: Callable[[], Iterator[Page]], depth: int = 4) -> None:
        self.make_pages = make_pages
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stopped = threading.Event()
        self.pending: object = None
        self.thread = threading.Thread(target=self.produce, name="rapidpro-prefetch", daemon=True)

    def notify(self, notice: RetryNotice) -> None:
        self.put(notice)

    def put(self, item: object) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce(self) -> None:
        try:
            for page in self.make_pages():
                if not self.put(page):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            self.put(error)
        else:
            self.put(_DONE)

    def __enter__(self) -> "Prefetcher":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Page | RetryNotice]:
        while True:
            if self.pending is not None:
                item, self.pending = self.pending, None
            else:
                item = self.queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def next_ready(self) -> Page | RetryNotice | None:
        """The next item if the thread has already fetched it, without waiting."""
        if self.pending is not None:
            return None
        try:
            item = self.queue.get_nowait()
        except queue.Empty:
            return None
        if item is _DONE or isinstance(item, BaseException):
            self.pending = item  # the iterator sees the end (or the error) next
            return None
        return item

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
