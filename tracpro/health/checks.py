"""Checks of the services TracPro depends on, for /healthz."""

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
