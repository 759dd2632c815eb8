"""Real Celery processes for the fault drills: workers and beats started as
subprocesses against the test database, Redis and broker, which a test may kill
(SIGKILL, as the OOM killer or a lost machine would) and start again.

    with celery_worker(include=["tracpro.orgs.tests.probe_tasks"]) as worker:
        ...queue tasks...
        worker.kill()              # SIGKILL: no cleanup, no acknowledgement
    with celery_worker(): ...      # a fresh worker picks up from there

A drill for another task uses the same pieces: queue the task, wait with
`wait_for` until it is in the state to interrupt (a database row, a simulator
request in flight), `kill()`, start a new worker, and check the outcome where it
is recorded (docs/development.md, "Fault drills").
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connections

QUIET = ["--loglevel", "WARNING"]


def celery_env() -> dict[str, str]:
    """The environment that points a Celery process at the test's own services."""
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }


class CeleryProcess:
    """A Celery process in its own session, so its pool children die with it."""

    def __init__(self, arguments: list[str], app: str) -> None:
        connections.close_all()  # the subprocess must not share the test's connection
        command = [sys.executable, "-m", "celery", "-A", app, *arguments, *QUIET]
        self.process = subprocess.Popen(command, env=celery_env(), start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the process group: the main process and its pool children."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def _running(arguments: list[str], app: str) -> Iterator[CeleryProcess]:
    celery = CeleryProcess(arguments, app)
    try:
        yield celery
    finally:
        celery.stop()


def celery_worker(
    include: tuple[str, ...] = (),
    pool: str = "solo",
    concurrency: int = 1,
    app: str = "tracpro.celery",
):
    # Every queue, as `make run`'s two workers together: syncs and actions.
    queues = ",".join(dict.fromkeys(["celery", settings.ACTIONS_QUEUE]))
    arguments = ["worker", "--pool", pool, "--concurrency", str(concurrency), "--queues", queues]
    arguments += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    for module in include:
        arguments += ["--include", module]
    return _running(arguments, app)


def celery_beat(app: str, schedule_file: Path):
    """A beat with its own schedule file (two beats started by mistake have two)."""
    return _running(["beat", "--schedule", str(schedule_file), "--max-interval", "1"], app)


def purge_broker() -> None:
    """Drop the tasks earlier tests left queued, so a drill's worker runs only its own."""
    from tracpro.celery import app

    with app.connection_for_write() as connection:
        for queue in ("celery", settings.ACTIONS_QUEUE):
            connection.default_channel.queue_purge(queue)


def fast_forward_lock(key: str, longest: float) -> None:
    """What a killed worker leaves behind is a lock that expires by itself: check its
    TTL is at most `longest` seconds, then let Redis's clock run out on it now."""
    from tracpro.orgs.tasks import redis_client

    client = redis_client()
    ttl = client.pttl(key)
    assert 0 < ttl <= longest * 1000, f"{key} would live {ttl} ms"
    client.pexpire(key, 1)
    time.sleep(0.01)


def wait_for(condition: Callable[[], object], timeout: float = 60, every: float = 0.2) -> object:
    """Poll `condition` until it is truthy; return it, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {condition.__doc__ or condition}")
