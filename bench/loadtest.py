"""`make loadtest`: the production stack under 50 users, at 1,000,000 answers and at 10,000.

    .venv/bin/python bench/loadtest.py [--users 50] [--duration 120] [--max-requests 20000]
                                       [--answers 1000000] [--small 10000] [--reseed]
    .venv/bin/python bench/loadtest.py --orgs 50      # many orgs on a small host (loadtest_orgs.py)

On the private Postgres and Redis (scripts/services.sh), in a database of its own
(`tracpro_loadtest`, kept between runs while its sizes and dates still fit), it
builds two orgs of the same shape with bench/bench_dashboard.py's set-based seeding:
`big` with --answers answers and `small` with --small, their poll's 13 weekly dates
ending this week, region boundaries for the maps, and --users users (half admins,
half supervisors of Central) in both. It starts the RapidPro simulator (live) with
the demo orgs configured against it by `seed_demo`, then the production stack
(bench/stack.py: gunicorn with conf/gunicorn.py behind nginx with conf/, a Celery
worker and beat, everything on loopback), logs every user in once through nginx
and keeps their session cookies.

Then locust (bench/locustfile.py) drives --users concurrent users over the
dashboards of `big`, then of `small`, for --duration seconds each (or until
--max-requests), while beat syncs the demo orgs against the live simulator. It
prints requests per second, p50/p95/p99 per page and the errors of each phase,
and p95 at `big` over p95 at `small`. Targets: no failed request, no 5xx, and
p95(big) <= 1.5 x p95(small) for every page. Exit status 1 when one is missed.
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
import bench_dashboard as seeding  # noqa: E402

RUN_DIR = Path(os.environ.get("RUN_DIR", ROOT / ".run")) / "loadtest"
DATABASE = "tracpro_loadtest"
# Database numbers of the private Redis no other part of the project uses.
REDIS_DB = 4
RATIO_TARGET = 1.5
KAMPALA = ZoneInfo("Africa/Kampala")
PASSWORD = "loadtest-password-7"  # noqa: S105 - a throwaway user on loopback only
SUPERVISED = "Central"
# The demo orgs sync more often than in production, so syncs run during every phase.
SYNC_EVERY = {"SYNC_RUNS_EVERY": "30", "SYNC_INBOX_EVERY": "60", "SYNC_CONTACTS_EVERY": "120"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=0, help="many-orgs mode (loadtest_orgs.py)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=120, help="seconds per phase")
    parser.add_argument("--max-requests", type=int, default=20_000, help="per phase")
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--no-exports", dest="exports", action="store_false", help="leave the CSV exports out"
    )
    parser.add_argument("--quiet-seconds", type=int, default=600, help="many-orgs mode")
    parser.add_argument("--live-seconds", type=int, default=600, help="many-orgs mode")
    return parser.parse_args()


def redis_url() -> str:
    port = os.environ.get("TRACPRO_REDIS_PORT", "6380")
    return f"redis://127.0.0.1:{port}/{REDIS_DB}"


def load_average() -> str:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return f"load average {one}, {five}, {fifteen} on {os.cpu_count()} cores"


# The database -----------------------------------------------------------------------------


def first_monday(weeks_back: int = 12) -> datetime:
    """09:00 in Kampala on the Monday `weeks_back` weeks before this week's."""
    today = datetime.now(KAMPALA).date()
    monday = today - timedelta(days=today.weekday(), weeks=weeks_back)
    return datetime(monday.year, monday.month, monday.day, 9, tzinfo=KAMPALA)


def prepare_database(args: argparse.Namespace) -> None:
    created = seeding.ensure_database(args.reseed, DATABASE)
    seeding.setup_django(DATABASE)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not created and seeded(args):
        # Kept from an earlier run: bring its rollups up to this code's.
        for subdomain in ("big", "small"):
            call_command("rebuild_rollups", subdomain, verbosity=0)
        return
    if not created:
        connection.close()
        seeding.ensure_database(True, DATABASE)
        call_command("migrate", verbosity=0)
    began = time.perf_counter()
    sizes = {"big": args.answers, "small": args.small}
    for subdomain, answers in sizes.items():
        org, _, _ = seeding.seed_org(subdomain, answers, first_monday())
        add_boundaries(org)
    add_users(args.users, list(sizes))
    print(f"seeded {DATABASE} in {time.perf_counter() - began:.0f} s", flush=True)


def seeded(args: argparse.Namespace) -> bool:
    """Whether the database holds the orgs, users and recent dates asked for."""
    from tracpro.orgs.models import Membership, Org
    from tracpro.polls.models import PollRun

    orgs = {org.subdomain: org for org in Org.objects.filter(subdomain__in=["big", "small"])}
    if set(orgs) != {"big", "small"}:
        return False
    weekly = PollRun.objects.filter(poll__org=orgs["big"], poll__flow_uuid=seeding.WEEKLY_FLOW)
    newest = weekly.order_by("-local_date").first()
    if newest is None or newest.local_date < first_monday(0).date():
        return False  # the dates have aged out of the dashboards' default range
    if Membership.objects.filter(org=orgs["big"]).count() != args.users + 1:
        return False
    wanted = {"big": args.answers, "small": args.small}
    slack = seeding.QUESTIONS * seeding.DATES
    return all(
        abs(seeding.weekly_answers(orgs[name]).count() - size) <= slack
        for name, size in wanted.items()
    )


def add_boundaries(org) -> None:
    """A rectangle per region, so the pages draw their maps."""
    from tracpro.groups.models import Boundary, Region

    for index, region in enumerate(Region.objects.for_org(org).order_by("pk")):
        west, south = 29.5 + index * 0.5, -1.0 + (index % 4)
        ring = [[west, south], [west + 0.5, south], [west + 0.5, south + 1], [west, south + 1]]
        region.boundary = Boundary.objects.create(
            org=org,
            osm_id=f"R{index}",
            name=region.name,
            level=Boundary.Level.STATE if region.parent_id is None else Boundary.Level.DISTRICT,
            simplified_geometry={"type": "MultiPolygon", "coordinates": [[[*ring, ring[0]]]]},
        )
        region.save(update_fields=["boundary"])


def add_users(count: int, subdomains: list[str]) -> None:
    """Users 1..count in every org: odd ones admins, even ones supervisors of Central."""
    from django.contrib.auth.hashers import make_password

    from tracpro.accounts.models import User
    from tracpro.groups.models import Region
    from tracpro.orgs.models import Membership, Org, Role

    password = make_password(PASSWORD)  # hashed once: the hash is slow on purpose
    users = User.objects.bulk_create(
        User(email=user_email(number), full_name=f"Load {number:02d}", password=password)
        for number in range(1, count + 1)
    )
    for org in Org.objects.filter(subdomain__in=subdomains):
        central = Region.objects.get(org=org, name=SUPERVISED)
        for number, user in enumerate(users, start=1):
            role = Role.ADMIN if number % 2 else Role.SUPERVISOR
            membership = Membership.objects.create(user=user, org=org, role=role)
            if role == Role.SUPERVISOR:
                membership.regions.set([central])


def user_email(number: int) -> str:
    return f"load{number:02d}@loadtest.example.com"


def seed_demo(simulator_url: str) -> None:
    """The demo orgs against the simulator, in development mode (seed_demo's rule)."""
    from tracpro.tests.production import development_env, manage

    env = development_env(SIMULATOR_URL=simulator_url, REDIS_URL=redis_url())
    result = manage("seed_demo", env=env, timeout=1800)
    if result.returncode:
        raise RuntimeError(f"seed_demo failed:\n{result.stdout}\n{result.stderr}")


# Logging in and the plan -------------------------------------------------------------------


def log_in(stack, count: int) -> list[dict]:
    """Each user logs in once through nginx, as a browser does; the session cookies are
    kept for the whole run, so no login happens under load (and none trips a lockout)."""
    from tracpro.orgs.models import Role

    sessions = []
    host = f"big.{stack.parent_host}"
    for number in range(1, count + 1):
        form = stack.get("/users/login/", host)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if form.status_code != 200 or token is None:
            raise RuntimeError(f"the login page answered {form.status_code}")
        response = requests.post(
            f"{stack.https_url}/users/login/",
            headers={"Host": host, "Origin": f"https://{host}"},
            cookies={"csrftoken": form.cookies["csrftoken"]},
            data={
                "username": user_email(number),
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
            },
            verify=str(stack.certificate),
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code != 302 or "sessionid" not in response.cookies:
            raise RuntimeError(f"{user_email(number)} could not log in: {response.status_code}")
        role = Role.ADMIN if number % 2 else Role.SUPERVISOR
        sessions.append({"sessionid": response.cookies["sessionid"], "role": str(role)})
    return sessions


def plan(
    subdomain: str, stack, sessions: list[dict], max_requests: int, exports: bool = True
) -> dict:
    """What the locust users of one phase need: the org's host and the pages' ids."""
    from tracpro.groups.models import Region, ReporterGroup
    from tracpro.orgs.models import Org
    from tracpro.polls.models import Poll, PollRun

    org = Org.objects.get(subdomain=subdomain)
    poll = Poll.objects.get(org=org, flow_uuid=seeding.WEEKLY_FLOW)
    central = Region.objects.get(org=org, name=SUPERVISED)
    regions = list(Region.objects.for_org(org).values_list("pk", flat=True))
    return {
        "host": f"{subdomain}.{stack.parent_host}",
        "certificate": str(stack.certificate),
        "sessions": sessions,
        "poll": poll.pk,
        "pollruns": list(PollRun.objects.filter(poll=poll).values_list("pk", flat=True)),
        "regions": {
            "admin": regions,
            "supervisor": [*central.children.values_list("pk", flat=True), central.pk],
        },
        "groups": list(ReporterGroup.objects.for_org(org).values_list("pk", flat=True)),
        "max_requests": max_requests,
        "exports": exports,
    }


# A phase ----------------------------------------------------------------------------------


def run_phase(name: str, stack, phase_plan: dict, args: argparse.Namespace) -> dict:
    """locust headless against one org; returns its statistics per page."""
    directory = RUN_DIR / name
    directory.mkdir(parents=True, exist_ok=True)
    plan_file = directory / "plan.json"
    plan_file.write_text(json.dumps(phase_plan))
    access_before = count_lines(stack.log("access"))
    syncs_before = sync_successes()
    print(f"phase {name}: {args.users} users for {args.duration} s ({load_average()})", flush=True)
    result = subprocess.run(  # noqa: S603 - locust on our own locustfile
        [
            Path(sys.executable).parent / "locust",
            "--locustfile", ROOT / "bench" / "locustfile.py",
            "--headless", "--only-summary", "--reset-stats",
            "--users", str(args.users), "--spawn-rate", "10",
            "--run-time", f"{args.duration}s", "--stop-timeout", "30",
            "--host", stack.https_url,
            "--csv", directory / "locust",
        ],
        cwd=ROOT,
        env={**os.environ, "LOADTEST_PLAN": str(plan_file)},
        capture_output=True,
        text=True,
        timeout=args.duration + 300,
    )  # fmt: skip
    (directory / "locust.log").write_text(result.stdout + result.stderr)
    stats = read_stats(directory / "locust_stats.csv")
    return {
        "pages": stats,
        "failures": read_failures(directory / "locust_failures.csv"),
        "server_errors": server_errors(stack.log("access"), access_before),
        "syncs": {kind: n - syncs_before.get(kind, 0) for kind, n in sync_successes().items()},
        "load": load_average(),
    }


def read_stats(path: Path) -> dict[str, dict]:
    pages = {}
    with path.open() as handle:
        for row in csv.DictReader(handle):
            pages[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    return pages


def read_failures(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open() as handle:
        return [
            f"{row['Occurrences']} x {row['Name']}: {row['Error']}"
            for row in csv.DictReader(handle)
        ]


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def server_errors(access_log: Path, skip: int) -> int:
    """5xx answers gunicorn logged after line `skip`."""
    with access_log.open() as handle:
        lines = list(handle)[skip:]
    return sum(1 for line in lines if re.search(r'" 5\d\d ', line))


def sync_successes() -> dict[str, int]:
    """Successful syncs of the demo orgs so far, per kind, from the worker's log."""
    log = RUN_DIR / "worker.log"
    counts: dict[str, int] = {}
    if not log.exists():
        return counts
    for kind in re.findall(
        r"Task tracpro\.org_task\.(\w+)\[[^\]]+\] succeeded in [\d.]+s: 'succeeded'",
        log.read_text(),
    ):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


# The report ------------------------------------------------------------------------------


def report(big: dict, small: dict, args: argparse.Namespace) -> list[str]:
    """Print the table; return the targets missed."""
    missed = []
    names = [name for name in big["pages"] if name != "Aggregated"] + ["Aggregated"]
    print()
    print(f"{args.users} users, {args.duration} s per phase; answers: big {args.answers:,}, "
          f"small {args.small:,}")  # fmt: skip
    header = (
        f"{'page':28} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'err':>4} |"
        f" {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'err':>4} | {'p95 ratio':>9}"
    )
    print(f"{'':28} {'--- 1M answers (ms) ---':^33} | {'--- 10k answers (ms) ---':^33} |")
    print(header)
    for name in names:
        one, other = big["pages"].get(name), small["pages"].get(name)
        if one is None or other is None:
            continue
        ratio = one["p95"] / other["p95"] if other["p95"] else float("inf")
        timed = name not in ("Aggregated", "CSV export, whole file")
        flag = "" if not timed or ratio <= RATIO_TARGET else "  MISSED"
        if flag:
            missed.append(f"p95 ratio of {name} {ratio:.2f}")
        print(
            f"{name:28} {one['rps']:6.1f} {one['p50']:6.0f} {one['p95']:6.0f} {one['p99']:6.0f}"
            f" {one['failures']:4d} | {other['rps']:6.1f} {other['p50']:6.0f} {other['p95']:6.0f}"
            f" {other['p99']:6.0f} {other['failures']:4d} | {ratio:9.2f}{flag}"
        )
    print(f"(target: p95 ratio <= {RATIO_TARGET} for every page; the whole CSV file grows with "
          "its rows and is shown for information)")  # fmt: skip
    for label, phase in (("1M", big), ("10k", small)):
        syncs = ", ".join(f"{n} {kind}" for kind, n in sorted(phase["syncs"].items())) or "none"
        print(f"{label}: {phase['load']}; 5xx: {phase['server_errors']}; "
              f"demo syncs finished meanwhile: {syncs}")  # fmt: skip
        for failure in phase["failures"]:
            print(f"  failed: {failure}")
        failed = phase["pages"].get("Aggregated", {}).get("failures", 0)
        if failed:
            missed.append(f"{failed} failed requests at {label}")
        if phase["server_errors"]:
            missed.append(f"{phase['server_errors']} 5xx at {label}")
        if not phase["syncs"].get("runs"):
            missed.append(f"no runs sync finished during the {label} phase")
    return missed


def main() -> int:
    args = parse_args()
    if args.orgs:
        import loadtest_orgs

        return loadtest_orgs.main(args)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    prepare_database(args)
    from stack import Stack

    stack = Stack(RUN_DIR, os.environ["DATABASE_URL"], redis_url(), SYNC_EVERY)
    try:
        stack.start_simulator("--state", str(RUN_DIR / "simulator-state.json"))
        seed_demo(stack.simulator_url)
        stack.start_web()
        stack.start_celery()
        sessions = log_in(stack, args.users)
        big, small = (
            run_phase(
                name, stack, plan(name, stack, sessions, args.max_requests, args.exports), args
            )
            for name in ("big", "small")
        )
    finally:
        stack.stop()
    missed = report(big, small, args)
    if missed:
        print("MISSED: " + "; ".join(missed))
        return 1
    print("all load targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
