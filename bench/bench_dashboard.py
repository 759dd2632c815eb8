"""How do the dashboards hold up at a million answers?

    .venv/bin/python bench/bench_dashboard.py [--answers 1000000] [--small 10000] [--reseed]

Seeds its own database (`tracpro_bench_dash` on the DATABASE_URL server, kept
between runs unless --reseed or the sizes change) with two orgs of the same
shape, one with `--answers` answers and one with `--small`, using set-based
SQL. Then it measures, as medians:

- the poll page's chart data (numeric, categorical, maps) at the big org
  divided by the same at the small org; target <= 1.5 (it reads the rollups);
- an indicator page's data (a one-date baseline poll against the poll's
  numeric question, split by region) at the big org divided by the same at
  the small org; target <= 1.5 (rollups, then pandas on the aggregated rows);
- the CSV export of every answer of the big org's poll, streamed by the real
  view, divided by Postgres' own `COPY (same query) TO STDOUT`; target <= 2.0,
  with the process's memory growing by at most 50 MB while streaming;
- the same export as XLSX through the same view: its time, and the process's
  memory growing by at most 50 MB while it is written and streamed;
- the pages that used to read raw answers (a poll date's summary, responses and
  participation, participation, contacts, word clouds, a reporter group filter),
  served by the real views through Django's test client, at the big org divided
  by the same at the small org; target <= 1.5 each (they read rollups and indexes).

Prints a table and exits non-zero when a target is missed.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "tracpro_bench_dash"
CHART_RATIO_TARGET = 1.5
INDICATOR_RATIO_TARGET = 1.5
EXPORT_RATIO_TARGET = 2.0
RSS_TARGET_MB = 50
PAGE_RATIO_TARGET = 1.5
REPEATS = 7

# One poll, the same shape in both orgs: 3 questions x 13 weekly dates, 9
# districts under 4 regions, 3 reporter groups. Only the number of contacts
# differs, so the answers scale and everything else stays put.
QUESTIONS = 3
DATES = 13
WEEKLY_FLOW = "flow-1"  # the weekly poll the dashboards show; the baseline is another
DISTRICTS = {
    "Central": ["Kampala", "Wakiso", "Mukono"],
    "Northern": ["Gulu", "Lira"],
    "Eastern": ["Jinja", "Mbale"],
    "Western": ["Mbarara", "Kasese"],
}
GROUPS = ["Head Teachers", "Grade 5 Teachers", "SMC Members"]
COMMENTS = [
    "no books",
    "need more desks",
    "teachers absent",
    "water is short",
    "roof leaking after rain",
    "=1+1 not a formula",
]


def server_url() -> str:
    port = os.environ.get("TRACPRO_PG_PORT", "5433")  # the private server, as in settings
    return os.environ.get("DATABASE_URL", f"postgres://tracpro@127.0.0.1:{port}/tracpro")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(reseed: bool, name: str = BENCH_DB) -> bool:
    """Create the bench database if needed; True when it was (re)created."""
    admin = with_database(server_url(), "postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and not reseed:
            return False
        if exists:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return True


def setup_django(name: str = BENCH_DB) -> None:
    os.environ["DATABASE_URL"] = with_database(server_url(), name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracpro.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# Seeding ---------------------------------------------------------------------------


def seed_org(subdomain: str, answers: int, first=None):
    """An org whose poll has about `answers` answers, built with set-based SQL; its
    weekly dates start on `first` (default 5 February 2024, 09:00 in Kampala)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from tracpro.accounts.models import User
    from tracpro.groups.models import Region, ReporterGroup
    from tracpro.orgs.models import Membership, Org, Role
    from tracpro.polls import rollups
    from tracpro.polls.models import Poll, PollRun, Question, QuestionType

    contacts = max(1, round(answers / (QUESTIONS * DATES)))
    tz = ZoneInfo("Africa/Kampala")
    with transaction.atomic():
        org = Org.objects.create(name=subdomain.title(), subdomain=subdomain, timezone=str(tz))
        user = User.objects.create_user(f"admin@{subdomain}.example.com", "bench-password-1")
        Membership.objects.create(user=user, org=org, role=Role.ADMIN)
        districts = []
        for index, (name, children) in enumerate(DISTRICTS.items()):
            parent = Region.objects.create(org=org, uuid=f"r-{index}", name=name)
            districts += [
                Region.objects.create(org=org, uuid=f"d-{child}", name=child, parent=parent)
                for child in children
            ]
        groups = [
            ReporterGroup.objects.create(org=org, uuid=f"g-{i}", name=name)
            for i, name in enumerate(GROUPS)
        ]
        poll = Poll.objects.create(
            org=org, flow_uuid=WEEKLY_FLOW, rapidpro_name="Enrolment", is_active=True
        )
        questions = [
            Question.objects.create(
                poll=poll,
                result_key="boys",
                rapidpro_name="Boys",
                order=1,
                question_type=QuestionType.NUMERIC,
                categories=["1-100", "101+", "Other"],
                rules=[
                    {"category": "1-100", "test": "has_number_between", "arguments": ["0", "100"]},
                    {"category": "101+", "test": "has_number_gt", "arguments": ["100"]},
                ],
            ),
            Question.objects.create(
                poll=poll,
                result_key="books",
                rapidpro_name="Books",
                order=2,
                question_type=QuestionType.CATEGORICAL,
                categories=["Enough", "Some", "None", "Other"],
            ),
            Question.objects.create(
                poll=poll,
                result_key="comment",
                rapidpro_name="Comment",
                order=3,
                question_type=QuestionType.OPEN,
                categories=["All Responses"],
            ),
        ]
        first = first or datetime(2024, 2, 5, 9, tzinfo=tz)
        pollruns = [
            PollRun.objects.create(
                poll=poll,
                kind=PollRun.Kind.START,
                start_uuid=f"start-{week}",
                conducted_on=first + timedelta(weeks=week),
                local_date=(first + timedelta(weeks=week)).date(),
            )
            for week in range(DATES)
        ]
        params = {
            "org": org.pk,
            "contacts": contacts,
            "districts": [d.pk for d in districts],
            "groups": [g.pk for g in groups],
            "pollruns": [p.pk for p in pollruns],
            "numeric": questions[0].pk,
            "categorical": questions[1].pk,
            "open": questions[2].pk,
            "comments": COMMENTS,
        }
        run_seed_sql(params)
        seed_baseline(org, first - timedelta(days=3), (first + timedelta(weeks=DATES - 1)).date())
    rollups.rebuild(org)
    return org, user, poll


BASELINE_POLL = "Term start"


def seed_baseline(org, conducted_on, term_end) -> None:
    """A one-date poll every contact answered (boys enrolled at the start of term),
    and an indicator comparing it with the weekly poll's boys over the term (until
    `term_end`, the last weekly date, whichever week the dates start)."""
    from tracpro.indicators.models import Indicator
    from tracpro.polls.models import Poll, PollRun, Question, QuestionType

    poll = Poll.objects.create(
        org=org, flow_uuid="flow-2", rapidpro_name=BASELINE_POLL, is_active=True
    )
    question = Question.objects.create(
        poll=poll,
        result_key="boys",
        rapidpro_name="Boys",
        order=1,
        question_type=QuestionType.NUMERIC,
    )
    pollrun = PollRun.objects.create(
        poll=poll,
        kind=PollRun.Kind.START,
        start_uuid="start-term",
        conducted_on=conducted_on,
        local_date=conducted_on.date(),
    )
    params = {
        "org": org.pk,
        "pollruns": [pollrun.pk],
        "numeric": question.pk,
        "categorical": -1,
        "open": -1,
        "comments": COMMENTS,
    }
    # The responses and answers statements of the main seed, for this date alone.
    run_seed_sql(params, [SEED_SQL[2], BASELINE_ANSWERS])
    follow_up = Question.objects.get(poll__org=org, poll__flow_uuid=WEEKLY_FLOW, result_key="boys")
    Indicator.objects.create(
        org=org,
        name="Boys at the start of term against boys reported weekly",
        start_date=conducted_on.date(),
        end_date=term_end,
        baseline_poll=poll,
        baseline_question=question,
        follow_up_poll=follow_up.poll,
        follow_up_question=follow_up,
    )


def other_columns(model, written: set[str], connection) -> tuple[str, str, dict]:
    """Column list, value list and parameters for the columns a seed statement
    does not write itself: each gets its model default, so the bench survives
    fields other apps add later."""
    from django.utils import timezone

    columns, values, params = "", "", {}
    for field in model._meta.concrete_fields:
        if field.column in written or field.primary_key:
            continue
        key = f"default_{field.column}"
        columns += f", {field.column}"
        values += f", %({key})s"
        stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = timezone.now() if stamped else field.get_default()
        params[key] = field.get_db_prep_save(value, connection)
    return columns, values, params


# (model label, columns written, statement with {columns}/{values} for the rest)
SEED_SQL = [
    (
        "contacts.Contact",
        {"org_id", "uuid", "name", "urn", "region_id", "fields", "is_active"},
        """
        INSERT INTO contacts_contact (org_id, uuid, name, urn, region_id, fields, is_active
            {columns})
        SELECT %(org)s, gen_random_uuid()::text,
               CASE WHEN n %% 500 = 0 THEN '=cmd|calc' ELSE 'Contact ' || n END,
               'tel:+2567' || lpad(n::text, 8, '0'),
               (%(districts)s::bigint[])[1 + n %% cardinality(%(districts)s::bigint[])],
               jsonb_build_object('facility_code', 'F-' || (n %% 97)), true {values}
        FROM generate_series(1, %(contacts)s) AS n
        """,
    ),
    (
        None,
        set(),
        """
        INSERT INTO contacts_contact_reporter_groups (contact_id, reportergroup_id)
        SELECT c.id, (%(groups)s::bigint[])[1 + c.id %% cardinality(%(groups)s::bigint[])]
        FROM contacts_contact c WHERE c.org_id = %(org)s
        """,
    ),
    (
        "polls.Response",
        {
            "org_id",
            "run_uuid",
            "pollrun_id",
            "contact_id",
            "status",
            "created_on",
            "updated_on",
            "remote_modified_on",
            "is_active",
        },
        """
        INSERT INTO polls_response (org_id, run_uuid, pollrun_id, contact_id, status,
            created_on, updated_on, remote_modified_on, is_active {columns})
        SELECT %(org)s, gen_random_uuid()::text, pr.id, c.id,
               CASE WHEN random() < 0.8 THEN 'complete' ELSE 'partial' END,
               pr.conducted_on, pr.conducted_on + interval '2 hours',
               pr.conducted_on + interval '2 hours', true {values}
        FROM contacts_contact c CROSS JOIN polls_pollrun pr
        WHERE c.org_id = %(org)s AND pr.id = ANY(%(pollruns)s)
        """,
    ),
    (
        "polls.Answer",
        {
            "response_id",
            "question_id",
            "value",
            "category",
            "number",
            "value_to_use",
            "submitted_on",
            "local_date",
        },
        """
        INSERT INTO polls_answer (response_id, question_id, value, category, number,
            value_to_use, submitted_on, local_date {columns})
        SELECT r.id, q.question_id, v.value, v.category, v.number, v.number,
               r.updated_on, (r.updated_on AT TIME ZONE 'Africa/Kampala')::date {values}
        FROM polls_response r
        CROSS JOIN (VALUES (%(numeric)s), (%(categorical)s), (%(open)s)) AS q(question_id)
        CROSS JOIN LATERAL (SELECT (r.id * 7919) %% 300 AS boys) AS n
        CROSS JOIN LATERAL (
            SELECT CASE q.question_id
                     WHEN %(numeric)s THEN n.boys::text
                     WHEN %(categorical)s THEN (ARRAY['Enough', 'Some', 'None'])[1 + r.id %% 3]
                     ELSE (%(comments)s::text[])[1 + r.id %% cardinality(%(comments)s::text[])]
                   END AS value,
                   CASE q.question_id
                     WHEN %(numeric)s THEN CASE WHEN n.boys > 100 THEN '101+' ELSE '1-100' END
                     WHEN %(categorical)s THEN (ARRAY['Enough', 'Some', 'None'])[1 + r.id %% 3]
                     ELSE 'All Responses'
                   END AS category,
                   CASE WHEN q.question_id = %(numeric)s THEN n.boys::float END AS number
        ) v
        WHERE r.org_id = %(org)s
        """,
    ),
]


BASELINE_ANSWERS = (
    "polls.Answer",
    SEED_SQL[3][1] | {"contact_id"},
    """
    INSERT INTO polls_answer (response_id, question_id, contact_id, value, category, number,
        value_to_use, submitted_on, local_date {columns})
    SELECT r.id, %(numeric)s, r.contact_id, n.boys::text,
           CASE WHEN n.boys > 100 THEN '101+' ELSE '1-100' END, n.boys, n.boys,
           r.updated_on, (r.updated_on AT TIME ZONE 'Africa/Kampala')::date {values}
    FROM polls_response r
    CROSS JOIN LATERAL (SELECT 50 + (r.id * 7919) %% 400 AS boys) AS n
    WHERE r.org_id = %(org)s AND r.pollrun_id = ANY(%(pollruns)s)
    """,
)


def run_seed_sql(params: dict, statements=SEED_SQL) -> None:
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        for label, written, statement in statements:
            columns, values, defaults = "", "", {}
            if label:
                columns, values, defaults = other_columns(
                    apps.get_model(label), written, connection
                )
            cursor.execute(statement.format(columns=columns, values=values), {**params, **defaults})
        cursor.execute("ANALYZE")


def seeded(answers: int, small: int) -> bool:
    """Whether the database already holds orgs of the requested sizes."""
    from tracpro.orgs.models import Org
    from tracpro.polls.models import Poll

    orgs = {org.subdomain: org for org in Org.objects.all()}
    if set(orgs) != {"big", "small"}:
        return False
    if Poll.objects.filter(rapidpro_name=BASELINE_POLL).count() != len(orgs):
        return False  # built before the indicator measure: build again
    wanted = {"big": answers, "small": small}
    return all(
        abs(weekly_answers(orgs[name]).count() - size) <= QUESTIONS * DATES
        for name, size in wanted.items()
    )


def weekly_answers(org):
    """The answers of the weekly poll (the one the sizes are about)."""
    from tracpro.polls.models import Answer

    return Answer.objects.filter(response__org=org, question__poll__flow_uuid=WEEKLY_FLOW)


# Measuring ---------------------------------------------------------------------------


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def peak_rss_growth(every: float = 0.02):
    """Samples the process's memory in a thread while the body runs; yields a dict whose
    "mb" is, afterwards, the highest RSS seen minus the RSS at the start."""
    start = rss_mb()
    found = {"peak": start}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(every):
            found["peak"] = max(found["peak"], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = {"mb": 0.0}
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        result["mb"] = max(found["peak"], rss_mb()) - start


def median_seconds(action, repeats: int = REPEATS) -> float:
    action()  # warm up caches and connections
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def scope_for(org, user):
    from django.test import RequestFactory

    from tracpro.groups.views import get_scope
    from tracpro.orgs.access import get_membership

    request = RequestFactory().get("/", HTTP_HOST=f"{org.subdomain}.localhost")
    request.user, request.org, request.session = user, org, {}
    request.membership = get_membership(user, org)
    return get_scope(request)


def chart_data(org, user, poll) -> dict:
    """What the poll page computes for its charts and maps, for every date."""
    from django.http import QueryDict

    from tracpro.charts.poll_charts import ChartInput, poll_charts
    from tracpro.dashboards.forms import FilterForm
    from tracpro.polls.models import PollRun

    scope = scope_for(org, user)
    query = QueryDict("range=custom&start=2024-01-01&end=2024-12-31")
    filters = FilterForm(query, scope=scope).filters()
    pollruns = list(PollRun.objects.visible_to(scope).filter(poll=poll).order_by("conducted_on"))
    data = ChartInput.fetch(org, filters, scope.tree, poll.shown_questions(), pollruns)
    return poll_charts(data)


def indicator_data(org, user) -> dict:
    """What the indicator page computes: the series per region and date, the summary."""
    from tracpro.indicators.data import indicator_data as compute
    from tracpro.indicators.data import term_filters
    from tracpro.indicators.models import Indicator

    scope = scope_for(org, user)
    indicator = Indicator.objects.get(org=org)
    return compute(indicator, scope, term_filters(indicator, scope))


def export_query(org, poll):
    from tracpro.charts.data import filtered_responses
    from tracpro.charts.filters import Filters
    from tracpro.dashboards import exports
    from tracpro.polls.models import ResponseStatus

    pollrun_ids = list(poll.pollruns.values_list("pk", flat=True))
    responses = filtered_responses(org, Filters(), pollrun_ids).exclude(status=ResponseStatus.EMPTY)
    return exports.response_values(responses, poll.shown_questions(), org)


def stream_export(org, user, poll, fmt: str = "csv") -> tuple[int, float]:
    """Download the poll's export through the real view; (bytes, peak RSS growth in MB)."""
    from django.test import Client

    client = Client(HTTP_HOST=f"{org.subdomain}.localhost")
    client.force_login(user)
    query = f"range=custom&start=2024-01-01&end=2024-12-31&_format={fmt}"
    size = 0
    with peak_rss_growth() as growth:
        response = client.get(f"/poll/export/{poll.pk}/?{query}")
        assert response.status_code == 200, response.status_code
        for chunk in response.streaming_content:
            size += len(chunk)
    return size, growth["mb"]


def copy_export(org, poll) -> int:
    """Postgres writing the export's own query as CSV: the floor to compare with."""
    from django.db import connection

    sql, params = export_query(org, poll).query.sql_with_params()
    size = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for block in copy:
                size += len(block)
    return size


def pages(org, poll) -> dict[str, str]:
    """The pages whose cost must not grow with the answers, as their URLs."""
    from tracpro.groups.models import ReporterGroup

    pollrun = poll.pollruns.order_by("-local_date").first()
    group = ReporterGroup.objects.for_org(org).first()
    every_date = "range=all"
    return {
        "poll date summary": f"/pollrun/read/{pollrun.pk}/",
        "poll date responses": f"/response/by_pollrun/{pollrun.pk}/",
        "poll date participation": f"/pollrun/participation/{pollrun.pk}/?group-by=group",
        "participation": f"/participation/?poll={poll.pk}&{every_date}",
        "contacts": "/contact/",
        "poll word clouds": f"/poll/words/{poll.pk}/?{every_date}",
        "poll, reporter group filter": f"/poll/read/{poll.pk}/?{every_date}&group={group.pk}",
    }


def page_seconds(org, user, url: str) -> float:
    from django.test import Client

    client = Client(HTTP_HOST=f"{org.subdomain}.localhost")
    client.force_login(user)

    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return median_seconds(get, repeats=3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    created = ensure_database(args.reseed)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from tracpro.accounts.models import User
    from tracpro.orgs.models import Org
    from tracpro.polls.models import Poll

    if created or not seeded(args.answers, args.small):
        if not created:  # other sizes: start again from an empty database
            connection.close()
            ensure_database(reseed=True)
            call_command("migrate", verbosity=0)
        began = time.perf_counter()
        seed_org("big", args.answers)
        seed_org("small", args.small)
        print(f"seeded in {time.perf_counter() - began:.1f} s")
    else:  # kept from an earlier run: bring its rollups up to this code's
        from tracpro.polls import rollups

        for org in Org.objects.all():
            rollups.rebuild(org)
    orgs = {org.subdomain: org for org in Org.objects.all()}
    users = {s: User.objects.get(email=f"admin@{s}.example.com") for s in orgs}
    polls = {s: Poll.objects.get(org=org, flow_uuid=WEEKLY_FLOW) for s, org in orgs.items()}
    counts = {s: weekly_answers(org).count() for s, org in orgs.items()}

    chart = {s: median_seconds(lambda s=s: chart_data(orgs[s], users[s], polls[s])) for s in orgs}
    chart_ratio = chart["big"] / chart["small"]
    indicator = {s: median_seconds(lambda s=s: indicator_data(orgs[s], users[s])) for s in orgs}
    indicator_ratio = indicator["big"] / indicator["small"]

    export_times, growth, size = [], [], 0
    for _ in range(3):
        began = time.perf_counter()
        size, grown = stream_export(orgs["big"], users["big"], polls["big"])
        export_times.append(time.perf_counter() - began)
        growth.append(grown)
    export_seconds = statistics.median(export_times)
    copy_seconds = median_seconds(lambda: copy_export(orgs["big"], polls["big"]), repeats=3)
    export_ratio = export_seconds / copy_seconds
    rss_growth = max(growth)
    urls = {s: pages(orgs[s], polls[s]) for s in orgs}
    page_times = {
        name: {s: page_seconds(orgs[s], users[s], urls[s][name]) for s in orgs}
        for name in urls["big"]
    }

    began = time.perf_counter()
    xlsx_size, xlsx_growth = stream_export(orgs["big"], users["big"], polls["big"], "xlsx")
    xlsx_seconds = time.perf_counter() - began

    print(f"{'measure':48} {'value':>12} {'target':>10}")
    print(f"{'answers (big / small org)':48} {counts['big']:>12,} {counts['small']:>10,}")
    print(f"{'poll chart data, big org (median s)':48} {chart['big']:>12.4f}")
    print(f"{'poll chart data, small org (median s)':48} {chart['small']:>12.4f}")
    print(f"{'chart data ratio big / small':48} {chart_ratio:>12.2f} {'<= 1.5':>10}")
    print(f"{'indicator page data, big org (median s)':48} {indicator['big']:>12.4f}")
    print(f"{'indicator page data, small org (median s)':48} {indicator['small']:>12.4f}")
    print(f"{'indicator data ratio big / small':48} {indicator_ratio:>12.2f} {'<= 1.5':>10}")
    print(f"{'CSV export streamed by the view (median s)':48} {export_seconds:>12.2f}")
    print(f"{'COPY (same query) TO STDOUT (median s)':48} {copy_seconds:>12.2f}")
    print(f"{'export ratio view / COPY':48} {export_ratio:>12.2f} {'<= 2.0':>10}")
    print(f"{'export size (MB)':48} {size / 1e6:>12.1f}")
    print(f"{'RSS growth while streaming (MB)':48} {rss_growth:>12.1f} {'<= 50':>10}")
    print(f"{'XLSX export written and streamed by the view (s)':48} {xlsx_seconds:>12.2f}")
    print(f"{'XLSX export size (MB)':48} {xlsx_size / 1e6:>12.1f}")
    print(f"{'RSS growth while writing the XLSX (MB)':48} {xlsx_growth:>12.1f} {'<= 50':>10}")
    print()
    print(f"{'page (median of 3, ms)':32} {'big':>8} {'small':>8} {'ratio':>7} {'target':>8}")
    for name, times in page_times.items():
        ratio = times["big"] / times["small"]
        print(
            f"{name:32} {times['big'] * 1000:8.1f} {times['small'] * 1000:8.1f} "
            f"{ratio:7.2f} {'<= 1.5':>8}"
        )

    missed = [
        name
        for name, ok in (
            ("chart data ratio", chart_ratio <= CHART_RATIO_TARGET),
            ("indicator data ratio", indicator_ratio <= INDICATOR_RATIO_TARGET),
            ("export ratio", export_ratio <= EXPORT_RATIO_TARGET),
            ("export memory", rss_growth <= RSS_TARGET_MB),
            ("XLSX export memory", xlsx_growth <= RSS_TARGET_MB),
            *(
                (f"{name} ratio", times["big"] / times["small"] <= PAGE_RATIO_TARGET)
                for name, times in page_times.items()
            ),
        )
        if not ok
    ]
    if missed:
        print("MISSED: " + ", ".join(missed))
        return 1
    print("all dashboard targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
