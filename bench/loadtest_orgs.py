"""`make loadtest ORGS=50`: many orgs on a small host.

The simulator serves N workspaces (`--orgs N`, each with its own token and a
small data set, nothing changing: `--no-live`); `seed_demo` gives each an org
configured like the demo's and mirrors it once. Then the production stack
(bench/stack.py) runs on its own with beat's production schedule, and for
--quiet-seconds (ten minutes) this measures:

- the CPU the worker, beat, web (gunicorn) and Postgres use together, from
  /proc/<pid>/stat of each process tree (children's time included): target under
  15 % of one core on average;
- for each fan-out beat sent, the sync each org ran for it (their SyncState, read
  every few seconds: a sync is the fan-out's if it finished after it and before
  the next one of its kind) and the requests that sync made (its own count, which
  the sync tests hold equal to the simulator's): target exactly one sync per org
  per fan-out, and one request per sync (contacts two). The simulator's own count
  per org and kind is printed beside it; counted between two instants, it also
  holds the requests of syncs sent just before the window or finishing after it.

Then for --live-seconds the simulator's live activity runs in every org (a tick
every 5 s, as `make run`'s) and, for each sync beat scheduled, the time until
every org had finished it: target no sync behind its interval (each finishes
before the next one is due).
"""

import argparse
import json
import os
import re
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import bench_dashboard as seeding
from loadtest import RUN_DIR, load_average, redis_url, seed_demo

DATABASE = "tracpro_loadtest_orgs"
CPU_TARGET = 0.15  # of one core
WARM_UP = 30  # seconds between starting the stack and measuring
GRACE = 30  # seconds to wait after a window for the syncs of its last fan-outs
TICK_EVERY = 5.0
# Which sync asks which endpoint.
KIND_OF_ENDPOINT = {
    "runs": "runs",
    "messages": "inbox",
    "contacts": "contacts",
    "flows": "flows",
    "definitions": "flows",
    "fields": "fields",
    "groups": "groups",
    "boundaries": "boundaries",
}
# Requests one sync of a kind needs when nothing changed: one query per kind, but
# contacts need two, as RapidPro lists deleted contacts only apart (deleted=true).
QUERIES = {"contacts": 2}
TICKS = os.sysconf("SC_CLK_TCK")
# A line of beat's log (settings.LOGGING's format, in local time).
BEAT_SENT = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ INFO celery\.beat: "
    r"Scheduler: Sending due task sync-(\w+)"
)


# CPU ---------------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children[int(fields[1])].append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """User and system time of a process tree, its reaped children's included."""
    total = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile: its parent's children's time has it
        # utime, stime, cutime, cstime (fields 14-17 of stat, counted after the name)
        total += sum(int(value) for value in fields[11:15])
    return total / TICKS


def postgres_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data = cursor.fetchone()[0]
    return int(Path(data, "postmaster.pid").read_text().split()[0])


def cpu_snapshot(roots: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in roots.items()}


# Syncs ---------------------------------------------------------------------------------------


class SyncWatch(threading.Thread):
    """Reads every org's SyncStates every few seconds and keeps each finished sync."""

    def __init__(self, every: float = 3.0) -> None:
        super().__init__(daemon=True)
        self.every = every
        # (org, kind) -> {when each sync finished: the requests it made}
        self.finished: dict[tuple[str, str], dict[datetime, int]] = defaultdict(dict)
        self.failed: Counter = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from tracpro.orgs.models import SyncState, SyncStatus

        while not self.stopping.wait(self.every):
            rows = SyncState.objects.values_list(
                "org__subdomain", "kind", "status", "finished_on", "last_error", "counts"
            )
            for subdomain, kind, status, finished_on, error, counts in rows:
                if status == SyncStatus.SUCCEEDED and finished_on:
                    self.finished[(subdomain, kind)][finished_on] = counts.get("requests", 0)
                elif status == SyncStatus.FAILED and finished_on:
                    self.failed[(subdomain, kind, error[:120])] += 1
        connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join()

    def syncs_for(self, sent: list[tuple[datetime, str]], until: datetime) -> dict:
        """(org, kind) -> the requests of each sync that answered one of the fan-outs
        `sent`: finished after the first fan-out of its kind and before `until`."""
        first: dict[str, datetime] = {}
        for at, kind in sent:
            first[kind] = min(at, first.get(kind, at))
        return {
            (slug, kind): [n for stamp, n in stamps.items() if first[kind] <= stamp <= until]
            for (slug, kind), stamps in self.finished.items()
            if kind in first
        }


def beat_sent(log: Path, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """(time, kind) of every sync fan-out beat sent in the window."""
    sent = []
    for stamp, kind in BEAT_SENT.findall(log.read_text()):
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").astimezone()
        if start <= at <= end:
            sent.append((at, kind))
    return sent


def simulator(stack, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the loopback simulator we started
        f"{stack.simulator_url}{path}", data=data, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.load(response)


# The measurements ------------------------------------------------------------------------------


def quiet_window(stack, roots: dict[str, int], watch: SyncWatch, seconds: int) -> dict:
    simulator(stack, "/sim/stats/reset", {})
    start, before = now(), cpu_snapshot(roots)
    time.sleep(seconds)
    end, after = now(), cpu_snapshot(roots)
    stats = simulator(stack, "/sim/stats")
    time.sleep(GRACE)  # the syncs of the window's last fan-outs finish
    sent = beat_sent(stack.log("beat"), start, end)
    requests: Counter = Counter()
    for slug, endpoints in stats["by_org"].items():
        for endpoint, count in endpoints.items():
            requests[(slug, KIND_OF_ENDPOINT.get(endpoint, f"other: {endpoint}"))] += count
    return {
        "seconds": (end - start).total_seconds(),
        "cpu": {name: after[name] - before[name] for name in roots},
        "requests": requests,
        "syncs": watch.syncs_for(sent, end + timedelta(seconds=GRACE)),
        "sent": Counter(kind for _, kind in sent),
        "load": load_average(),
    }


def live_window(stack, watch: SyncWatch, seconds: int) -> dict:
    start = now()
    deadline = time.monotonic() + seconds
    ticks = 0
    while time.monotonic() < deadline:
        began = time.monotonic()
        simulator(stack, "/sim/tick", {})
        ticks += 1
        time.sleep(max(0.0, TICK_EVERY - (time.monotonic() - began)))
    end = now()
    time.sleep(5)  # the last reads of the watch
    sent = beat_sent(stack.log("beat"), start, end)
    intervals = sync_intervals()
    orgs = {slug for slug, _ in watch.finished}
    lags: dict[str, list[float]] = defaultdict(list)
    behind: list[str] = []
    for at, kind in sent:
        interval = intervals[kind]
        if (end - at).total_seconds() < interval:
            continue  # its interval is not over yet
        for slug in sorted(orgs):
            done = [s for s in watch.finished[(slug, kind)] if s >= at]
            lag = (min(done) - at).total_seconds() if done else float("inf")
            lags[kind].append(lag)
            if lag > interval:
                behind.append(f"{slug} {kind} sent {at:%H:%M:%S}: {lag:.0f} s > {interval} s")
    return {"ticks": ticks, "lags": lags, "behind": behind, "load": load_average()}


def sync_intervals() -> dict[str, int]:
    from django.conf import settings

    return {
        name.removeprefix("sync-"): entry["schedule"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if name.startswith("sync-")
    }


def now() -> datetime:
    from django.utils import timezone

    return timezone.now()


# The report ------------------------------------------------------------------------------------


def report(quiet: dict, live: dict, orgs: int) -> list[str]:
    missed = []
    seconds = quiet["seconds"]
    total = sum(quiet["cpu"].values())
    print()
    print(f"{orgs} orgs, nothing changing in RapidPro, {seconds:.0f} s of beat's schedules "
          f"({quiet['load']})")  # fmt: skip
    print(f"{'process':12} {'CPU s':>8} {'% of a core':>12}")
    for name, used in quiet["cpu"].items():
        print(f"{name:12} {used:8.1f} {100 * used / seconds:11.1f} %")
    share = total / seconds
    print(f"{'together':12} {total:8.1f} {100 * share:11.1f} %   (target < {CPU_TARGET:.0%})")
    if share >= CPU_TARGET:
        missed.append(f"CPU {share:.1%} of a core")
    print()
    print(f"{'kind':12} {'beat sent':>9} {'syncs/org':>10} {'requests/sync':>14} "
          f"{'simulator/org':>14}")  # fmt: skip
    kinds = sorted({kind for _, kind in quiet["requests"]} | set(quiet["sent"]))
    slugs = sorted({slug for slug, _ in quiet["syncs"]} | {s for s, _ in quiet["requests"]})
    for kind in kinds:
        per_org = [quiet["syncs"].get((slug, kind), []) for slug in slugs]
        syncs = [len(requests) for requests in per_org]
        per_sync = [n for requests in per_org for n in requests]
        received = [quiet["requests"].get((slug, kind), 0) for slug in slugs]
        sent = quiet["sent"].get(kind, 0)
        print(f"{kind:12} {sent:9d} {span(syncs):>10} {span(per_sync):>14} {span(received):>14}")
        queries = QUERIES.get(kind, 1)
        if any(n != queries for n in per_sync):
            missed.append(f"{kind}: {span(per_sync)} requests per sync ({queries} expected)")
        if sent and any(s != sent for s in syncs):
            missed.append(f"{kind}: {span(syncs)} syncs per org for {sent} scheduled")
    print("(target: exactly one request per kind per scheduled sync; contacts two: active "
          "and deleted are separate listings in RapidPro)")  # fmt: skip
    print()
    print(f"live activity in every org for {live['ticks']} ticks ({live['load']})")
    print(f"{'kind':12} {'interval':>9} {'syncs':>6} {'lag p50':>8} {'lag max':>8}")
    for kind, lags in sorted(live["lags"].items()):
        ordered = sorted(lags)
        interval = sync_intervals()[kind]
        print(f"{kind:12} {interval:8d}s {len(lags):6d} {ordered[len(ordered) // 2]:7.0f}s "
              f"{ordered[-1]:7.0f}s")  # fmt: skip
    print(
        "(lag: from beat sending a sync to the org's sync finishing; target: within its interval)"
    )
    for line in live["behind"][:20]:
        print(f"  behind: {line}")
    if live["behind"]:
        missed.append(f"{len(live['behind'])} syncs fell behind their interval")
    return missed


def span(values: list, spec: str = "d") -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:{spec}}" if low == high else f"{low:{spec}}-{high:{spec}}"


def main(args: argparse.Namespace) -> int:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    seeding.ensure_database(True, DATABASE)
    seeding.setup_django(DATABASE)
    from stack import Stack

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    (RUN_DIR / "celerybeat-schedule").unlink(missing_ok=True)
    stack = Stack(RUN_DIR, os.environ["DATABASE_URL"], redis_url())
    watch = SyncWatch()
    try:
        stack.start_simulator("--orgs", str(args.orgs), "--no-live")
        began = time.perf_counter()
        seed_demo(stack.simulator_url)
        print(f"{args.orgs} orgs configured and mirrored in {time.perf_counter() - began:.0f} s")
        stack.start_web()
        stack.start_celery()
        roots = {
            "worker": stack.pid("worker"),
            "beat": stack.pid("beat"),
            "web": stack.pid("gunicorn"),
            "postgres": postgres_pid(),
        }
        watch.start()
        time.sleep(WARM_UP)
        print(f"measuring {args.quiet_seconds} s with nothing changing ({load_average()})")
        quiet = quiet_window(stack, roots, watch, args.quiet_seconds)
        print(f"measuring {args.live_seconds} s with live activity ({load_average()})")
        live = live_window(stack, watch, args.live_seconds)
    finally:
        if watch.is_alive():
            watch.stop()
        stack.stop()
    missed = report(quiet, live, args.orgs)
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("all many-orgs targets met")
    return 0
