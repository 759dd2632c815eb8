"""How fast is the RapidPro sync? (`make bench`, sync part)

    .venv/bin/python bench/bench_sync.py            # BENCH_RUNS=200000 by default
    BENCH_RUNS=1000000 .venv/bin/python bench/bench_sync.py

Starts the simulator (its own process) with BENCH_RUNS runs and BENCH_RUNS / 10
contacts, mirrors its edu workspace into a database of its own (BENCH_DATABASE_URL,
default postgres://tracpro@127.0.0.1:5433/tracpro_bench, created if missing) and
measures, as medians of BENCH_REPEAT (3) rounds:

1. page:    the same TembaClient (`get_client(org)`) merely paging the runs of the
            four selected polls;
   sync:    the runs sync, end to end (backfill of the four polls, from empty);
   target:  sync / page <= 1.25.
2. ingest:  writing the pre-fetched pages through the sync's ingest (rollups included);
   copy:    COPY of the same rows (one per run, one per answer, the columns the mirror
            keeps) into unlogged staging tables;
   floor:   COPY of the same rows, as responses and answers with their ids, into
            logged copies of the mirror's two tables (same columns, unique keys and
            indexes), committed: what writing them at all costs, before deciding
            anything. The ingest is measured against it (ingest / floor, printed);
            the old target ingest / copy <= 2.0 is retired: no ingest into these
            tables can beat the floor, which alone costs several times the copy.
3. the runs sync after BENCH_NEW (10,000) new runs, and a sync of every kind when
   nothing changed (requests per kind; rows written, from pg_stat_user_tables).
4. archive: importing RapidPro's run archives (the simulator archives every finished
   run older than its midnight, rp-archiver's files), downloaded beforehand, through
   the sync's ArchiveImporter into an empty mirror;
   target:  archive / floor <= 3.0, per run (the archives hold the selected polls'
            finished runs, the floor all of their runs).

Prints a table and exits with status 1 when a target is missed.
"""

import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = int(os.environ.get("BENCH_RUNS", 200_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 3))
NEW_RUNS = int(os.environ.get("BENCH_NEW", 10_000))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    f"postgres://tracpro@127.0.0.1:{os.environ.get('TRACPRO_PG_PORT', '5433')}/tracpro_bench",
)
NOW = "2025-06-02T09:30:00Z"
TARGETS = {"sync / page": 1.25, "archive / floor": 3.0}
# The tables a sync writes besides the rollups (`rows_written` adds those).
MIRROR_TABLES = (
    "polls_poll",
    "polls_question",
    "polls_pollrun",
    "polls_response",
    "polls_answer",
    "contacts_contact",
    "contacts_contact_reporter_groups",
    "groups_remotegroup",
    "groups_boundary",
    "contacts_datafield",
    "msgs_inboxmessage",
)

os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.setdefault(
    "REDIS_URL", f"redis://127.0.0.1:{os.environ.get('TRACPRO_REDIS_PORT', '6380')}/6"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracpro.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def create_database() -> None:
    import psycopg

    server, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


create_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from tracpro.orgs.models import Org, SyncKind, SyncState  # noqa: E402
from tracpro.polls import rollups  # noqa: E402
from tracpro.polls.models import Poll, Response  # noqa: E402
from tracpro.rapidpro import client as rapidpro_client  # noqa: E402
from tracpro.rapidpro.models import RunArchive  # noqa: E402
from tracpro.rapidpro.paging import Fetcher  # noqa: E402
from tracpro.rapidpro.sql import copy_rows  # noqa: E402
from tracpro.rapidpro.syncers import ORDER, run_sync  # noqa: E402
from tracpro.rapidpro.syncers.archives import ArchiveImporter, fetch_file  # noqa: E402
from tracpro.rapidpro.syncers.base import (  # noqa: E402
    StreamPuller,
    SyncContext,
    tune_batch_transaction,
)
from tracpro.rapidpro.syncers.run_writer import ANSWER_COLUMNS, RUN_COLUMNS  # noqa: E402
from tracpro.rapidpro.syncers.runs import RunsSyncer, without_path  # noqa: E402
from tracpro.rapidpro.tests.sync_helpers import set_up_edu  # noqa: E402


class Simulator:
    """The simulator in its own process, so it never competes with us for the GIL."""

    def __init__(self, runs: int) -> None:
        command = [
            sys.executable,
            "-m",
            "tracpro.simulator",
            "--port",
            "0",
            "--no-live",
            "--now",
            NOW,
            "--runs",
            str(runs),
            "--contacts",
            str(max(200, runs // 10)),
            "--archive-days",
            "0",  # every finished run is in an archive too (and still served)
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
        banner = self.process.stdout.readline()
        edu = self.process.stdout.readline()
        self.process.stdout.readline()
        url = re.search(r"(http://[\d.]+:\d+)/api/v2/", banner)
        token = re.search(r"token ([0-9a-f]{40})", edu)
        if not (url and token):
            self.process.kill()
            raise SystemExit(f"the simulator did not start: {banner!r}")
        self.base_url, self.tokens = url.group(1), {"edu": token.group(1)}

    def add_runs(self, count: int) -> None:
        import requests

        requests.post(f"{self.base_url}/sim/runs", json={"org": "edu", "count": count}, timeout=600)

    def requests(self) -> int:
        import requests

        return requests.get(f"{self.base_url}/sim/stats", timeout=60).json()["total"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_of(action: Callable[[], float]) -> float:
    return statistics.median(action() for _ in range(REPEAT))


def empty_runs(org: Org) -> None:
    """Back to "no run mirrored yet" (the bench database holds this one org only)."""
    with connection.cursor() as cursor:
        tables = ", ".join(rollup.table for rollup in rollups.ROLLUPS)
        cursor.execute(
            f"TRUNCATE polls_answer, polls_response, {tables}, polls_pollrun, "
            "msgs_messagebatch, msgs_message_recipients, msgs_message"
        )
    org.sync_streams.filter(kind=SyncKind.RUNS).delete()
    SyncState.objects.filter(org=org, kind=SyncKind.RUNS).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE polls_answer, polls_response")


def sync(org: Org, kind: str = SyncKind.RUNS):
    state, _ = SyncState.objects.get_or_create(org=org, kind=kind)
    return run_sync(org, kind, state)


def page_all(org: Org) -> list:
    """Every page of the selected polls' runs, as the bare client reads them."""
    client = rapidpro_client.get_client(org)
    pages = []
    for poll in Poll.objects.filter(org=org, is_active=True):
        pages.extend(client.get_runs(flow=poll.flow_uuid, reverse=True).iterfetches())
    return pages


def prefetched_pages(org: Org) -> list[list]:
    """The same pages, read as the sync reads them, kept in memory."""
    fetcher = Fetcher()
    client = rapidpro_client.get_client(org)
    pages = []
    for poll in Poll.objects.filter(org=org, is_active=True):
        query = client.get_runs(flow=poll.flow_uuid, reverse=True)
        pages.extend(page.items for page in fetcher.pages(query, trim=without_path))
    return pages


def ingest_all(org: Org, pages: list[list]) -> None:
    """The pages in batches as large as the sync's largest."""
    batch_pages = StreamPuller.max_batch_pages
    state, _ = SyncState.objects.get_or_create(org=org, kind=SyncKind.RUNS)
    syncer = RunsSyncer(SyncContext(org, state, rapidpro_client.get_client(org), Fetcher()))
    for start in range(0, len(pages), batch_pages):
        items = [run for page in pages[start : start + batch_pages] for run in page]
        syncer.prepare(items)
        with transaction.atomic():
            tune_batch_transaction()
            syncer.ingest(items)


def downloaded_archives(org: Org) -> list[bytes]:
    """Every run archive's file, downloaded once, in the order `import_for` reads them."""
    archives = rapidpro_client.get_client(org).get_archives(type="run").all()
    archives.sort(key=lambda archive: (archive.start_date, archive.period or ""))
    return [fetch_file(archive.download_url) for archive in archives if archive.download_url]


def mark_archives_read(org: Org) -> None:
    """The sync measures page through the API only: every archive counts as read (the
    bench's archives hold runs the API still serves)."""
    flows = sorted(Poll.objects.filter(org=org, is_active=True).values_list("flow_uuid", flat=True))
    for archive in rapidpro_client.get_client(org).get_archives(type="run").all():
        RunArchive.objects.update_or_create(
            org=org,
            hash=archive.hash or archive.start_date.isoformat(),
            defaults={
                "start_date": archive.start_date.date(),
                "period": archive.period,
                "flow_uuids": flows,
            },
        )


def import_archives(org: Org, files: list[bytes]) -> None:
    state, _ = SyncState.objects.get_or_create(org=org, kind=SyncKind.RUNS)
    syncer = RunsSyncer(SyncContext(org, state, rapidpro_client.get_client(org), Fetcher()))
    importer = ArchiveImporter(syncer)
    importer.ingest([(content, syncer.polls) for content in files])
    importer.finish(syncer.polls)


def mirror_rows(org: Org, pages: list[list]) -> tuple[list[tuple], list[tuple]]:
    """The rows the ingest stages: one per run and one per answer."""
    syncer = RunsSyncer(
        SyncContext(org, SyncState(org=org), rapidpro_client.get_client(org), Fetcher())
    )
    run_rows, answer_rows = [], []
    for page in pages:
        for run in page:
            run_row, answers = syncer.rows_for(syncer.by_flow[run.flow.uuid], run)
            run_rows.append(run_row)
            answer_rows.extend(answers)
    return run_rows, answer_rows


def timed_copy(tables: list[tuple[str, list[tuple[str, str]], list[tuple]]]) -> float:
    """Seconds to COPY each (table, columns, rows) with the sync's COPY, and commit."""
    started = time.perf_counter()
    with transaction.atomic():
        tune_batch_transaction()  # as the ingest does
        for name, columns, rows in tables:
            copy_rows(name, columns, rows)
    return time.perf_counter() - started


def copy_baseline(rows: tuple[list[tuple], list[tuple]]) -> float:
    """COPY one row per run and per answer (what the mirror keeps) into unlogged tables."""
    tables = [("bench_runs", RUN_COLUMNS, rows[0]), ("bench_answers", ANSWER_COLUMNS, rows[1])]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_runs, bench_answers")
        for name, columns, _ in tables:
            spec = ", ".join(f"{column} {sql_type}" for column, sql_type in columns)
            cursor.execute(f"CREATE UNLOGGED TABLE {name} ({spec})")
    seconds = timed_copy(tables)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_runs, bench_answers")
    return seconds


FLOOR_RESPONSE_COLUMNS = [
    ("id", "bigint"),
    ("org_id", "bigint"),
    ("run_uuid", "text"),
    ("pollrun_id", "bigint"),
    ("contact_id", "bigint"),
    ("status", "text"),
    ("created_on", "timestamptz"),
    ("updated_on", "timestamptz"),
    ("remote_modified_on", "timestamptz"),
    ("is_active", "boolean"),
]
FLOOR_ANSWER_COLUMNS = [
    ("response_id", "bigint"),
    ("question_id", "bigint"),
    ("contact_id", "bigint"),
    ("value", "text"),
    ("category", "text"),
    ("number", "double precision"),
    ("value_to_use", "double precision"),
    ("submitted_on", "timestamptz"),
    ("local_date", "date"),
]


def floor_rows(org: Org, rows: tuple[list[tuple], list[tuple]]) -> tuple[list, list]:
    """The staged rows turned into responses and answers with their ids, as the
    ingest would store them."""
    tz = ZoneInfo(org.timezone)
    contacts: dict[str, int] = {}
    pollruns: dict[tuple, int] = {}
    responses, by_run = [], {}
    for number, run in enumerate(rows[0], start=1):
        run_uuid, poll_id, start_uuid, contact_uuid, _, status, created, updated, modified = run
        day = None if start_uuid else created.astimezone(tz).date()
        pollrun = pollruns.setdefault((poll_id, start_uuid, day), len(pollruns) + 1)
        contact = contacts.setdefault(contact_uuid, len(contacts) + 1)
        by_run[run_uuid] = (number, contact)
        responses.append(
            (number, org.pk, run_uuid, pollrun, contact, status, created, updated, modified, True)
        )
    answers = []
    for run_uuid, question_id, value, category, number, submitted, is_numeric in rows[1]:
        response, contact = by_run[run_uuid]
        local_date = submitted.astimezone(tz).date()
        to_use = number if is_numeric else None
        answers.append(
            (response, question_id, contact, value, category, number, to_use, submitted, local_date)
        )
    return responses, answers


def write_floor(rows: tuple[list, list]) -> float:
    """COPY responses and answers (`floor_rows`) into logged tables LIKE polls_response
    and polls_answer (their unique keys and indexes)."""
    responses, answers = rows
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor_responses, bench_floor_answers")
        cursor.execute("CREATE TABLE bench_floor_responses (LIKE polls_response INCLUDING ALL)")
        cursor.execute("CREATE TABLE bench_floor_answers (LIKE polls_answer INCLUDING ALL)")
    seconds = timed_copy(
        [
            ("bench_floor_responses", FLOOR_RESPONSE_COLUMNS, responses),
            ("bench_floor_answers", FLOOR_ANSWER_COLUMNS, answers),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor_responses, bench_floor_answers")
    return seconds


def rows_written() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            [[*MIRROR_TABLES, *(rollup.table for rollup in rollups.ROLLUPS)]],
        )
        return cursor.fetchone()[0]


def wait_for_statistics() -> None:
    """pg_stat_user_tables lags up to a moment behind; let it catch up."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(1)
    connection.close()


def main() -> int:
    print(f"Sync benchmark: {RUNS:,} runs, medians of {REPEAT}.", flush=True)
    call_command("migrate", verbosity=0)
    simulator = Simulator(RUNS)
    try:
        Org.objects.filter(subdomain="bench").delete()
        org = Org.objects.create(name="Bench", subdomain="bench", timezone="Africa/Kampala")
        set_up_edu(org, simulator)
        sync(org, SyncKind.CONTACTS)
        results = measure(org, simulator)
    finally:
        simulator.stop()
    return report(results)


def measure(org: Org, simulator: Simulator) -> dict:
    results: dict = {}
    mark_archives_read(org)
    runs = sum(len(page) for page in page_all(org))  # warm the simulator's caches
    results["runs"] = runs

    results["page"] = median_of(lambda: timed(lambda: page_all(org)))

    def one_sync() -> float:
        empty_runs(org)
        return timed(lambda: sync(org))

    results["sync"] = median_of(one_sync)
    assert Response.objects.filter(org=org).count() == runs

    pages = prefetched_pages(org)

    def one_ingest() -> float:
        empty_runs(org)
        return timed(lambda: ingest_all(org, pages))

    results["ingest"] = median_of(one_ingest)
    rows = mirror_rows(org, pages)
    results["copy"] = median_of(lambda: copy_baseline(rows))
    responses_and_answers = floor_rows(org, rows)
    results["floor"] = median_of(lambda: write_floor(responses_and_answers))

    files = downloaded_archives(org)

    def one_import() -> float:
        empty_runs(org)
        return timed(lambda: import_archives(org, files))

    results["archive"] = median_of(one_import)
    results["archive_runs"] = Response.objects.filter(org=org).count()

    empty_runs(org)
    sync(org)
    simulator.add_runs(NEW_RUNS)
    before = simulator.requests()
    results["incremental"] = timed(lambda: results.__setitem__("incremental_result", sync(org)))
    results["incremental_requests"] = simulator.requests() - before

    for kind in ORDER:
        sync(org, kind)  # everything current
    wait_for_statistics()
    written = rows_written()
    per_kind = {}
    started = time.perf_counter()
    for kind in ORDER:
        before = simulator.requests()
        sync(org, kind)
        per_kind[kind] = simulator.requests() - before
    results["no_change"] = time.perf_counter() - started
    wait_for_statistics()
    results["no_change_written"] = rows_written() - written
    results["no_change_requests"] = per_kind
    return results


def report(results: dict) -> int:
    runs = results["runs"]
    archived = results["archive_runs"]
    ratios = {
        "sync / page": results["sync"] / results["page"],
        "archive / floor": (results["archive"] / archived) / (results["floor"] / runs),
    }
    print()
    print(f"{'measure':<34}{'seconds':>10}{'runs/s':>12}")
    for label, key in (
        ("page (TembaClient only)", "page"),
        ("sync, end to end", "sync"),
        ("ingest of pre-fetched pages", "ingest"),
        ("COPY into unlogged tables", "copy"),
        ("COPY into the mirror's tables", "floor"),
    ):
        print(f"{label:<34}{results[key]:>10.2f}{runs / results[key]:>12,.0f}")
    print(
        f"{'archive import (' + format(archived, ',') + ' runs)':<34}"
        f"{results['archive']:>10.2f}{archived / results['archive']:>12,.0f}"
    )
    incremental = results["incremental_result"]
    print(
        f"{'incremental (+' + format(NEW_RUNS, ',') + ' runs)':<34}{results['incremental']:>10.2f}"
        f"{'':>12}  {incremental.counts.created:,} new, {results['incremental_requests']} requests"
    )
    requests = results["no_change_requests"]
    print(
        f"{'no change, every kind':<34}{results['no_change']:>10.2f}{'':>12}  "
        f"{results['no_change_written']} rows written; requests: "
        + ", ".join(f"{kind} {count}" for kind, count in requests.items())
    )
    print()
    failed = False
    for name, value in ratios.items():
        ok = value <= TARGETS[name]
        failed |= not ok
        print(f"{name:<16}{value:>6.2f}  (target <= {TARGETS[name]})  {'ok' if ok else 'MISSED'}")
    floor = results["floor"]
    print(f"{'ingest / copy':<16}{results['ingest'] / results['copy']:>6.2f}  (retired target)")
    print(f"{'floor / copy':<16}{floor / results['copy']:>6.2f}  (the mirror's tables alone)")
    print(
        f"{'ingest / floor':<16}{results['ingest'] / floor:>6.2f}  (what the ingest adds to them)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
