"""Rollups: pre-aggregated answers and responses, so charts never scan raw answers.

What they hold (the contract between the sync, which keeps them current, and
the charts, which read them):

- `AnswerRollup` per (question, pollrun, region, answer local_date, category):
  count of answers, and count / sum / sum of squares of `value_to_use` (set for
  numeric questions only), over answers of *active* responses of *active*
  contacts; region is the contact's current region (NULL when none).
- `ResponseRollup` per (pollrun, region, status): count of active responses of
  active contacts.
- `AnswerGroupRollup` and `ResponseGroupRollup`: the same split by the contact's
  reporter groups instead of the answer's day (a contact in two groups counts in
  both; group NULL when it is in none), for charts filtered by a reporter group.
- `NumberRollup` per (question, pollrun, region, number): answers with that
  `value_to_use`, for a poll date's histograms.
- `WordRollup` per (question, pollrun, region, word): answers containing the word
  (each answer counts a word once; one-letter words left out), for word clouds,
  of the answers that are not numbers of a numeric question (`value_to_use` NULL):
  word clouds are drawn for open-ended questions only, and the numbers of numeric
  ones were four answers in five and four word rows in five at 1,000,000 runs.
  A question that becomes numeric, or stops being, changes its answers'
  `value_to_use` through a RollupTracker (`recompute_values`), which moves their
  words in or out.

The sync updates them by delta in the same transaction as the rows they
summarise; `rebuild(org)` recomputes them from scratch and is the reference
the incremental updates are tested against (`manage.py rebuild_rollups`).

Keeping them current when you change raw rows yourself
-----------------------------------------------------
Any code that changes what the rollups summarise (a contact's region, reporter
groups or is_active, a response's status or is_active, an answer) does it through a
`RollupTracker` in one transaction: name the rows the change may touch, take
the "before" picture, change the rows, take the "after" picture. The tracker
adds (after - before) to the rollups. For contact edits there is a shortcut:

    with transaction.atomic(), tracking_contacts(org, [contact.pk]):
        contact.region = new_region
        contact.save()
"""

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

from tracpro.orgs.models import Org

# First key of pg_advisory_xact_lock(namespace, org id); any constant unlikely to be
# used by another advisory lock works.
INGEST_LOCK_NAMESPACE = 0x7472_6163  # "trac"

# What answers are split into words on: separators, not word characters, so this
# does not depend on the database's locale knowing which non-Latin characters are
# letters.
WORD_SEPARATORS = r"""[[:space:]!"#$%&()*+,./:;<=>?@\[\\\]^_`{|}~،؛؟«»“”‘’„…–—·]+"""  # noqa: RUF001
# The words of answer `a`, each once: lower-cased, apostrophes and hyphens at their
# ends trimmed, one-letter words left out. (Stop words depend on the org's languages:
# they are left out when read.)
ANSWER_WORDS = """
    CROSS JOIN LATERAL (
        SELECT DISTINCT word FROM (
            SELECT left(btrim(part, '''-'), 100) AS word
            FROM regexp_split_to_table(lower(a.value), %(separators)s) AS part
        ) parts
        WHERE char_length(word) > 1
    ) w
"""
# Active answers or responses of active contacts: of the whole org (a rebuild), or
# of the rows a RollupTracker names (a capture).
SOURCES = {
    ("answers", "rebuild"): """
        polls_answer a
        JOIN polls_response r ON r.id = a.response_id AND r.is_active AND r.org_id = %(org)s
        JOIN contacts_contact c ON c.id = r.contact_id AND c.is_active
    """,
    ("answers", "capture"): """
        (
            SELECT a.id FROM rollup_scope_responses s JOIN polls_answer a ON a.response_id = s.id
            UNION
            SELECT id FROM rollup_scope_answers
        ) scope
        JOIN polls_answer a ON a.id = scope.id
        JOIN polls_response r ON r.id = a.response_id AND r.is_active
        JOIN contacts_contact c ON c.id = r.contact_id AND c.is_active
    """,
    ("responses", "rebuild"): """
        polls_response r
        JOIN contacts_contact c ON c.id = r.contact_id AND c.is_active
            AND r.org_id = %(org)s AND r.is_active
    """,
    ("responses", "capture"): """
        rollup_scope_responses s
        JOIN polls_response r ON r.id = s.id AND r.is_active
        JOIN contacts_contact c ON c.id = r.contact_id AND c.is_active
    """,
}
# A row per reporter group of the contact (a NULL group when it is in none).
IN_GROUPS = "LEFT JOIN contacts_contact_reporter_groups g ON g.contact_id = c.id"
ANSWER_TOTALS = {
    "count": "count(*)",
    "number_count": "count(a.value_to_use)",
    "number_sum": "coalesce(sum(a.value_to_use), 0)",
    "number_sum_sq": "coalesce(sum(a.value_to_use * a.value_to_use), 0)",
}


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its key columns with the expressions that fill them, and its
    totals, the first of which is a count (a row whose count drops to 0 goes)."""

    table: str
    rows: str  # "answers" or "responses"
    keys: dict[str, str]
    totals: dict[str, str]
    joins: str = ""
    where: str = "true"

    @property
    def delta(self) -> str:
        return f"{self.table}_delta"

    @property
    def columns(self) -> str:
        return ", ".join([*self.keys, *self.totals])

    def select(self, source: str, sign: str = "1") -> str:
        keys = ", ".join(self.keys.values())
        totals = ", ".join(f"{sign} * {total}" for total in self.totals.values())
        positions = ", ".join(str(n) for n in range(1, len(self.keys) + 1))
        return (
            f"SELECT {keys}, {totals} FROM {SOURCES[(self.rows, source)]} {self.joins} "  # noqa: S608 - our tables
            f"WHERE {self.where} GROUP BY {positions}"
        )

    def delete(self) -> str:
        """Every row of the org (`%(org)s`)."""
        return f"""DELETE FROM {self.table} t USING polls_pollrun pr, polls_poll p
            WHERE t.pollrun_id = pr.id AND pr.poll_id = p.id AND p.org_id = %(org)s"""  # noqa: S608

    def rebuild(self) -> list[str]:
        return [
            self.delete(),
            f"INSERT INTO {self.table} ({self.columns}) {self.select('rebuild')}",
        ]

    def create_delta(self) -> str:
        return (
            f"CREATE TEMP TABLE {self.delta} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {self.columns} FROM {self.table} WITH NO DATA"
        )

    def capture(self) -> str:
        return f"INSERT INTO {self.delta} ({self.columns}) {self.select('capture', '%(sign)s')}"

    def merge(self) -> str:
        """Add the captured deltas to the table; returns (id, count) of the rows touched."""
        keys = ", ".join(self.keys)
        sums = ", ".join(f"sum({total})" for total in self.totals)
        changed = " OR ".join(f"sum({total}) <> 0" for total in self.totals)
        added = ", ".join(f"{total} = t.{total} + EXCLUDED.{total}" for total in self.totals)
        return f"""
            INSERT INTO {self.table} AS t ({self.columns})
            SELECT {keys}, {sums} FROM {self.delta} GROUP BY {keys} HAVING {changed}
            ON CONFLICT ({keys}) DO UPDATE SET {added}
            RETURNING id, count
        """  # noqa: S608 - our tables


ROLLUPS = [
    Rollup(
        "polls_answerrollup",
        "answers",
        {
            "question_id": "a.question_id",
            "pollrun_id": "r.pollrun_id",
            "region_id": "c.region_id",
            "local_date": "a.local_date",
            "category": "a.category",
        },
        ANSWER_TOTALS,
    ),
    Rollup(
        "polls_responserollup",
        "responses",
        {"pollrun_id": "r.pollrun_id", "region_id": "c.region_id", "status": "r.status"},
        {"count": "count(*)"},
    ),
    Rollup(
        "polls_answergrouprollup",
        "answers",
        {
            "question_id": "a.question_id",
            "pollrun_id": "r.pollrun_id",
            "region_id": "c.region_id",
            "group_id": "g.reportergroup_id",
            "category": "a.category",
        },
        ANSWER_TOTALS,
        joins=IN_GROUPS,
    ),
    Rollup(
        "polls_responsegrouprollup",
        "responses",
        {
            "pollrun_id": "r.pollrun_id",
            "region_id": "c.region_id",
            "group_id": "g.reportergroup_id",
            "status": "r.status",
        },
        {"count": "count(*)"},
        joins=IN_GROUPS,
    ),
    Rollup(
        "polls_numberrollup",
        "answers",
        {
            "question_id": "a.question_id",
            "pollrun_id": "r.pollrun_id",
            "region_id": "c.region_id",
            "number": "a.value_to_use",
        },
        {"count": "count(*)"},
        where="a.value_to_use IS NOT NULL",
    ),
    Rollup(
        "polls_wordrollup",
        "answers",
        {
            "question_id": "a.question_id",
            "pollrun_id": "r.pollrun_id",
            "region_id": "c.region_id",
            "word": "w.word",
        },
        {"count": "count(*)"},
        joins=ANSWER_WORDS,
        where="a.value_to_use IS NULL",  # see the module's docstring
    ),
]


def statement_params(**params: object) -> dict:
    return {"separators": WORD_SEPARATORS, **params}


def rebuild(org: Org, tables: Collection[str] | None = None, analyzed: bool = False) -> None:
    """Recompute every rollup row of an org from the raw responses and answers.

    `tables` limits it to those rollup tables (a migration that runs before the
    others exist); `analyzed` says the caller has just refreshed the statistics."""
    params = statement_params(org=org.pk)
    with transaction.atomic(), connection.cursor() as cursor:
        lock_org(cursor, org.pk)
        if not analyzed:  # aggregating whole tables needs plans that fit their size
            cursor.execute("ANALYZE polls_response, polls_answer, contacts_contact")
        for rollup in ROLLUPS:
            if tables is None or rollup.table in tables:
                for statement in rollup.rebuild():
                    cursor.execute(statement, params)


def delete_all(cursor, org_id: int) -> None:
    """Delete every rollup row of an org (before its poll dates change wholesale; a
    `rebuild` follows in the same transaction)."""
    for rollup in ROLLUPS:
        cursor.execute(rollup.delete(), {"org": org_id})


def lock_org(cursor, org_id: int) -> None:
    """Hold the org's ingest lock until the transaction ends. Every transaction that
    changes what the rollups summarise takes it, so deltas never interleave."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INGEST_LOCK_NAMESPACE, org_id])


# Incremental maintenance ----------------------------------------------------------

SCOPE_TABLES = """
    DROP TABLE IF EXISTS rollup_scope_responses, rollup_scope_answers;
    CREATE TEMP TABLE rollup_scope_responses (id bigint PRIMARY KEY) ON COMMIT DROP;
    CREATE TEMP TABLE rollup_scope_answers (id bigint PRIMARY KEY) ON COMMIT DROP;
"""


class RollupTracker:
    """Keeps an org's rollups current across one change to raw rows.

    Use inside the transaction that makes the change:

        tracker = RollupTracker(org)
        tracker.add_responses("SELECT id FROM polls_response WHERE ...", params)
        tracker.add_answers(...)      # other answers whose value_to_use may change
        tracker.before()
        ...                           # change contacts, responses, answers
        tracker.add_responses(...)    # responses the change created
        tracker.after()               # rollups += after - before

    The scope must name every response whose status, is_active or contact may
    change (their answers come with them) and every other answer whose value_to_use
    may change. The org's ingest lock is taken so concurrent changes never race.
    """

    def __init__(self, org: Org) -> None:
        if not connection.in_atomic_block:
            raise RuntimeError("A RollupTracker must run inside a transaction.")
        self.org = org
        with connection.cursor() as cursor:
            lock_org(cursor, org.pk)
            cursor.execute(SCOPE_TABLES)
            for rollup in ROLLUPS:
                cursor.execute(f"DROP TABLE IF EXISTS {rollup.delta}")
                cursor.execute(rollup.create_delta())

    def add_responses(self, select_ids: str, params: dict | None = None) -> None:
        self._add("rollup_scope_responses", select_ids, params)

    def add_answers(self, select_ids: str, params: dict | None = None) -> None:
        self._add("rollup_scope_answers", select_ids, params)

    @staticmethod
    def _add(table: str, select_ids: str, params: dict | None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (id) {select_ids} ON CONFLICT DO NOTHING", params or {}
            )

    def before(self) -> None:
        with connection.cursor() as cursor:
            # Temporary tables get no statistics otherwise, and the captures join them
            # with the big tables.
            cursor.execute("ANALYZE rollup_scope_responses, rollup_scope_answers")
        self._capture(-1)

    def after(self) -> None:
        self._capture(+1)
        with connection.cursor() as cursor:
            for rollup in ROLLUPS:
                cursor.execute(rollup.merge())
                emptied = [pk for pk, count in cursor.fetchall() if count == 0]
                if emptied:
                    delete = f"DELETE FROM {rollup.table} WHERE id = ANY(%s)"  # noqa: S608 - ours
                    cursor.execute(delete, [emptied])
            deltas = ", ".join(rollup.delta for rollup in ROLLUPS)
            cursor.execute(f"DROP TABLE rollup_scope_responses, rollup_scope_answers, {deltas}")

    @staticmethod
    def _capture(sign: int) -> None:
        params = statement_params(sign=sign)
        with joining_by_index(), connection.cursor() as cursor:
            for rollup in ROLLUPS:
                cursor.execute(rollup.capture(), params)


@contextmanager
def joining_by_index() -> Iterator[None]:
    """Plan the statements inside (in a transaction) as nested loops over indexes.

    For statements that join a few thousand rows (a batch, a scope) to the big
    tables by key. Left to itself the planner hashes the whole big table while it
    is small enough (up to about a million rows), so during a backfill each batch
    costs more than the last; and it has merge-joined on a key shared by most rows,
    which took seconds. Joins between two staging tables must stay outside."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
    yield
    with connection.cursor() as cursor:  # not on error: the transaction ends with it
        cursor.execute("SET LOCAL enable_hashjoin = on; SET LOCAL enable_mergejoin = on")


@contextmanager
def tracking_contacts(org: Org, contact_ids: Iterable[int]) -> Iterator[RollupTracker]:
    """Keep the rollups current while the body changes these contacts' region,
    reporter groups or is_active (e.g. a contact edited or deleted in TracPro)."""
    with transaction.atomic():
        tracker = RollupTracker(org)
        tracker.add_responses(
            "SELECT id FROM polls_response WHERE org_id = %(org)s AND contact_id = ANY(%(ids)s)",
            {"org": org.pk, "ids": list(contact_ids)},
        )
        tracker.before()
        yield tracker
        tracker.after()
