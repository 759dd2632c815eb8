"""When a call to RapidPro is worth trying again, and how long to wait first.

`RetryPolicy` is the only place retry delays are computed. The sync's requests
wait in process (`paging.Fetcher`, `RetryPolicy.from_settings()`); contact pushes
and actions (starts, messages, replies) wait in the broker, as their Celery
countdown (`RetryPolicy.for_pushes()`, `RetryPolicy.for_actions()`).
Either way a 429's Retry-After wins, and anything else backs off exponentially
with jitter up to a cap.
"""

import math
import random
from dataclasses import dataclass

from temba_client.exceptions import (
    TembaConnectionError,
    TembaHttpError,
    TembaRateExceededError,
    TembaSerializationException,
)

from django.conf import settings


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int  # attempts in all, the first included, before giving up
    backoff_base: float  # seconds before the first retry; doubles with each retry
    backoff_cap: float  # the longest backoff
    # A longer Retry-After ends a sync's run instead: a worker should not idle for
    # an hour; the sync is queued again for when the wait is over and resumes from
    # its cursor (paging.RateLimited). Pushes wait in the broker, not in a worker,
    # so they have no such limit.
    max_wait: float = math.inf

    @classmethod
    def from_settings(cls) -> "RetryPolicy":
        """The sync's policy (RAPIDPRO_* settings, see docs/operations.md)."""
        return cls(
            max_attempts=settings.RAPIDPRO_MAX_ATTEMPTS,
            backoff_base=settings.RAPIDPRO_BACKOFF_BASE,
            backoff_cap=settings.RAPIDPRO_BACKOFF_CAP,
            max_wait=settings.RAPIDPRO_MAX_WAIT,
        )

    @classmethod
    def for_pushes(cls) -> "RetryPolicy":
        """Contact pushes: slower and longer than the sync, since an edit can wait
        for RapidPro to come back, but it should not be given up within minutes."""
        return cls(max_attempts=9, backoff_base=15, backoff_cap=30 * 60)

    @classmethod
    def for_actions(cls) -> "RetryPolicy":
        """Starts, messages and replies: a supervisor waits for them, so the first
        retries come quickly; they wait in the broker, like pushes."""
        return cls(max_attempts=8, backoff_base=5, backoff_cap=10 * 60)

    def delay(self, attempt: int, retry_after: float = 0) -> float:
        """Seconds before retry number `attempt` (1 is the first retry).

        A 429's Retry-After, when it gave one; otherwise exponential backoff, capped,
        with "equal jitter" (half fixed, half random) so that callers that failed
        together do not retry together.
        """
        if retry_after > 0:
            return float(retry_after)
        backoff = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return backoff / 2 + random.uniform(0, backoff / 2)


def retry_after(error: BaseException) -> int:
    """The seconds a 429 asked to wait (0 for any other error, or a 429 without them)."""
    if isinstance(error, TembaRateExceededError):
        return error.retry_after or 0
    return 0


def http_status(error: TembaHttpError) -> int | None:
    response = getattr(error.caused_by, "response", None)
    return getattr(response, "status_code", None)


def is_retryable(error: BaseException) -> bool:
    """A rate limit, a 5xx, a timeout, a dropped connection or a garbled body."""
    if isinstance(error, TembaHttpError):
        status = http_status(error)
        return status is None or status >= 500
    return isinstance(
        error,
        TembaRateExceededError
        | TembaConnectionError
        | TembaSerializationException
        | ValueError
        | KeyError
        | TypeError,
    )


def describe(error: BaseException) -> str:
    if isinstance(error, TembaRateExceededError):
        return f"RapidPro rate limit reached (retry after {error.retry_after}s)"
    if isinstance(error, TembaHttpError):
        return f"RapidPro error: {error}"
    if isinstance(error, TembaConnectionError):
        return str(error)
    if isinstance(error, ValueError):
        return f"RapidPro sent a response that could not be read ({error})"
    return f"{type(error).__name__}: {error}"
