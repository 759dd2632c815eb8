"""Checks of the services TracPro depends on, for /healthz."""

import threading
import time
from collections.abc import Callable

from kombu import Connection
from redis import Redis

from django.conf import settings
from django.db import connection

CheckResult = dict[str, object]


def check_db() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()


def check_broker() -> None:
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=1,
        transport_options={"socket_timeout": 1, "socket_connect_timeout": 1},
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "db": check_db,
    "redis": check_redis,
    "broker": check_broker,
}


def run_checks() -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:
            # The error's type only: this endpoint is public.
            results[name] = {"state": "down", "error": type(error).__name__}
        else:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            results[name] = {"state": "up", "ms": elapsed}
    return results


# /healthz is public: a flood of requests must not become a flood of connections
# to Postgres and Redis. The result is reused for HEALTHZ_CACHE_SECONDS, in this
# process (not in Redis, whose outage it must report).
_cached: tuple[float, dict[str, CheckResult]] | None = None
_cache_lock = threading.Lock()


def recent_checks() -> dict[str, CheckResult]:
    """`run_checks()`, at most once per HEALTHZ_CACHE_SECONDS in this process."""
    global _cached
    with _cache_lock:
        now = time.monotonic()
        if _cached is None or now - _cached[0] >= settings.HEALTHZ_CACHE_SECONDS:
            _cached = (now, run_checks())
        return _cached[1]


def forget_recent_checks() -> None:
    global _cached
    with _cache_lock:
        _cached = None
