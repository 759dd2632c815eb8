"""The read replica: which reads the router sends where (unit tests), and the same
rules against a real pair of Postgres clusters in streaming replication."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from tracpro import replica
from tracpro.contacts.models import Contact
from tracpro.indicators.models import Indicator
from tracpro.middleware import ReplicaMiddleware
from tracpro.msgs.models import InboxMessage, Message, MessageBatch
from tracpro.orgs.models import Org
from tracpro.polls.models import (
    Answer,
    AnswerGroupRollup,
    AnswerRollup,
    NumberRollup,
    Poll,
    ResponseGroupRollup,
    WordRollup,
)
from tracpro.rapidpro.models import RunArchive
from tracpro.tests.production import ROOT, free_port

router = replica.ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(replica, "has_replica", lambda: True)


def through_middleware(request: HttpRequest, view) -> HttpResponse:
    def get_response(request: HttpRequest) -> HttpResponse:
        return view() or HttpResponse()

    return ReplicaMiddleware(get_response)(request)


def read_dbs(*models) -> list[str]:
    return [router.db_for_read(model) for model in models]


def test_a_read_request_reads_mirror_data_from_the_replica_and_the_rest_from_the_primary(
    with_replica,
):
    seen = []
    through_middleware(
        RequestFactory().get("/"), lambda: seen.extend(read_dbs(Contact, Answer, Org, Poll))
    )
    assert seen == ["replica", "replica", "default", "default"]


def test_what_tracpro_writes_itself_and_the_syncs_progress_are_read_from_the_primary(
    with_replica,
):
    seen = []
    written_here = [Message, MessageBatch, InboxMessage, Indicator, RunArchive]
    rollups = [AnswerGroupRollup, ResponseGroupRollup, NumberRollup, WordRollup]
    through_middleware(
        RequestFactory().get("/"), lambda: seen.extend(read_dbs(*written_here, *rollups))
    )
    assert seen == ["default"] * len(written_here) + ["replica"] * len(rollups)


def test_once_a_request_wrote_it_reads_everything_from_the_primary(with_replica):
    seen = []

    def view():
        seen.append(router.db_for_read(AnswerRollup))
        assert router.db_for_write(Org) == "default"
        seen.append(router.db_for_read(AnswerRollup))

    response = through_middleware(RequestFactory().get("/"), view)
    assert seen == ["replica", "default"]
    # The user's next requests stay on the primary for a while.
    cookie = response.cookies[replica.STICKY_COOKIE]
    assert cookie["max-age"] == 10 and cookie["httponly"]
    request = RequestFactory().get("/", HTTP_COOKIE=f"{replica.STICKY_COOKIE}=1")
    through_middleware(request, lambda: seen.append(router.db_for_read(Contact)))
    assert seen[-1] == "default"


def test_posts_tasks_and_a_site_without_replica_read_the_primary(with_replica, monkeypatch):
    seen = []
    through_middleware(RequestFactory().post("/"), lambda: seen.append(read_dbs(Contact)[0]))
    seen.append(read_dbs(Contact)[0])  # outside any request: a task, a command
    monkeypatch.setattr(replica, "has_replica", lambda: False)
    response = through_middleware(
        RequestFactory().get("/"),
        lambda: seen.extend([read_dbs(Contact)[0], router.db_for_write(Contact)]),
    )
    assert seen == ["default"] * 4
    assert replica.STICKY_COOKIE not in response.cookies


def test_only_the_primary_is_migrated_and_relations_cross_the_two():
    assert router.allow_migrate("default", "polls")
    assert not router.allow_migrate("replica", "polls")
    assert router.allow_relation(Org(), Contact())


# A real primary and its streaming replica ------------------------------------------------


def pg_bin() -> Path:
    for directory in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (directory / "pg_basebackup").exists():
            return directory
    raise AssertionError("PostgreSQL's server programs are missing; run scripts/setup.sh")


def as_postgres(*command: str | int | Path) -> subprocess.CompletedProcess:
    """Postgres refuses to run as root: as root, run its programs as the postgres user
    (as scripts/services.sh does)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [*prefix, *(str(part) for part in command)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def replication() -> Iterator[dict[str, str]]:
    """A primary and a hot standby fed by streaming replication, on free loopback ports,
    in a temporary directory the postgres user can reach."""
    binaries = pg_bin()
    directory = Path(tempfile.mkdtemp(prefix="tracpro-replica-", dir="/var/tmp"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    primary, standby = directory / "primary", directory / "standby"
    ports = {primary: free_port(), standby: free_port()}
    started = []
    try:
        as_postgres(binaries / "initdb", "-D", primary, "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {ports[primary]}\n"
                f"unix_socket_directories = '{directory}'\nwal_level = replica\n"
                "max_wal_senders = 4\nhot_standby = on\nfsync = off\n"
            )
        as_postgres(binaries / "pg_ctl", "-D", primary, "-l", directory / "primary.log",
                    "-w", "start")  # fmt: skip
        started.append(primary)
        # -R writes standby.signal and the connection to the primary.
        as_postgres(binaries / "pg_basebackup", "-h", "127.0.0.1", "-p", ports[primary],
                    "-U", "postgres", "-D", standby, "-R", "-X", "stream")  # fmt: skip
        with (standby / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {ports[standby]}\n")
        as_postgres(binaries / "pg_ctl", "-D", standby, "-l", directory / "standby.log",
                    "-w", "start")  # fmt: skip
        started.append(standby)
        as_postgres(binaries / "psql", "-h", "127.0.0.1", "-p", ports[primary], "-U", "postgres",
                    "-c", "CREATE DATABASE tracpro")  # fmt: skip
        yield {
            "primary": f"postgres://postgres@127.0.0.1:{ports[primary]}/tracpro",
            "replica": f"postgres://postgres@127.0.0.1:{ports[standby]}/tracpro",
        }
    finally:
        for cluster in reversed(started):
            as_postgres(binaries / "pg_ctl", "-D", cluster, "-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def run_probe(urls: dict[str, str]) -> dict:
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": urls["primary"],
        "DATABASE_REPLICA_URL": urls["replica"],
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr
    probe = subprocess.run(
        [sys.executable, Path(__file__).with_name("replica_probe.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stdout + probe.stderr
    return json.loads(probe.stdout.splitlines()[-1])


@pytest.mark.slow
def test_against_a_streaming_replica_the_dashboards_read_it_and_writers_read_the_primary(
    replication,
):
    began = time.monotonic()
    seen = run_probe(replication)
    assert time.monotonic() - began < 600
    # Replay paused on the standby, then the contact renamed on the primary:
    assert seen["replica_is_in_recovery"] is True
    assert seen["contacts_page"] == "Old Name"  # a GET reads mirror data from the replica
    assert seen["org_in_get"] == "Renamed Org"  # ...and configuration from the primary
    assert seen["after_a_write"] == ["Old Name", "New Name"]  # a request that wrote
    assert seen["sticky_page"] == "New Name"  # the next request of that user
    assert seen["post"] == "New Name"
    assert seen["task"] == "New Name"  # no request: a task or a command
    assert seen["replica_after_resume"] == "New Name"  # the standby caught up
