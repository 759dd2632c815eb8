"""Rollups: pre-aggregated answers and responses, so charts never scan raw answers.

What they hold (the contract between the sync, which keeps them current, and
the charts, which read them):

- `AnswerRollup` per (question, pollrun, region, answer local_date, category):
  count of answers, and count / sum / sum of squares of `value_to_use` (set for
  numeric questions only), over answers of *active* responses of *active*
  contacts; region is the contact's current region (NULL when none).
- `ResponseRollup` per (pollrun, region, status): count of active responses of
  active contacts.

The sync updates them by delta in the same transaction as the rows they
summarise; `rebuild(org)` recomputes them from scratch and is the reference
the incremental updates are tested against (`manage.py rebuild_rollups`).

Keeping them current when you change raw rows yourself
-----------------------------------------------------
Any code that changes what the rollups summarise (a contact's region or
is_active, a response's status or is_active, an answer) does it through a
`RollupTracker` in one transaction: name the rows the change may touch, take
the "before" picture, change the rows, take the "after" picture. The tracker
adds (after - before) to the rollups. For contact edits there is a shortcut:

    with transaction.atomic(), tracking_contacts(org, [contact.pk]):
        contact.region = new_region
        contact.save()
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from tracpro.orgs.models import Org

# First key of pg_advisory_xact_lock(namespace, org id); any constant unlikely to be
# used by another advisory lock works.
INGEST_LOCK_NAMESPACE = 0x7472_6163  # "trac"

DELETE_ANSWER_ROLLUPS = """
    DELETE FROM polls_answerrollup ar
    USING polls_pollrun pr, polls_poll p
    WHERE ar.pollrun_id = pr.id AND pr.poll_id = p.id AND p.org_id = %(org)s
"""
INSERT_ANSWER_ROLLUPS = """
    INSERT INTO polls_answerrollup
        (question_id, pollrun_id, region_id, local_date, category,
         count, number_count, number_sum, number_sum_sq)
    SELECT a.question_id, r.pollrun_id, c.region_id, a.local_date, a.category,
           count(*), count(a.value_to_use),
           coalesce(sum(a.value_to_use), 0), coalesce(sum(a.value_to_use * a.value_to_use), 0)
    FROM polls_answer a
    JOIN polls_response r ON r.id = a.response_id
    JOIN contacts_contact c ON c.id = r.contact_id
    WHERE r.org_id = %(org)s AND r.is_active AND c.is_active
    GROUP BY a.question_id, r.pollrun_id, c.region_id, a.local_date, a.category
"""
DELETE_RESPONSE_ROLLUPS = """
    DELETE FROM polls_responserollup rr
    USING polls_pollrun pr, polls_poll p
    WHERE rr.pollrun_id = pr.id AND pr.poll_id = p.id AND p.org_id = %(org)s
"""
INSERT_RESPONSE_ROLLUPS = """
    INSERT INTO polls_responserollup (pollrun_id, region_id, status, count)
    SELECT r.pollrun_id, c.region_id, r.status, count(*)
    FROM polls_response r
    JOIN contacts_contact c ON c.id = r.contact_id
    WHERE r.org_id = %(org)s AND r.is_active AND c.is_active
    GROUP BY r.pollrun_id, c.region_id, r.status
"""


def rebuild(org: Org) -> None:
    """Recompute every rollup row of an org from the raw responses and answers."""
    params = {"org": org.pk}
    with transaction.atomic(), connection.cursor() as cursor:
        lock_org(cursor, org.pk)
        # Aggregating whole tables needs plans that fit their size.
        cursor.execute("ANALYZE polls_response, polls_answer, contacts_contact")
        for statement in (
            DELETE_ANSWER_ROLLUPS,
            INSERT_ANSWER_ROLLUPS,
            DELETE_RESPONSE_ROLLUPS,
            INSERT_RESPONSE_ROLLUPS,
        ):
            cursor.execute(statement, params)


def lock_org(cursor, org_id: int) -> None:
    """Hold the org's ingest lock until the transaction ends. Every transaction that
    changes what the rollups summarise takes it, so deltas never interleave."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [INGEST_LOCK_NAMESPACE, org_id])


# Incremental maintenance ----------------------------------------------------------

SCOPE_TABLES = """
    DROP TABLE IF EXISTS rollup_scope_responses, rollup_scope_answers,
        rollup_answer_delta, rollup_response_delta;
    CREATE TEMP TABLE rollup_scope_responses (id bigint PRIMARY KEY) ON COMMIT DROP;
    CREATE TEMP TABLE rollup_scope_answers (id bigint PRIMARY KEY) ON COMMIT DROP;
    CREATE TEMP TABLE rollup_answer_delta (
        question_id bigint, pollrun_id bigint, region_id bigint, local_date date,
        category varchar(255), count integer, number_count integer,
        number_sum double precision, number_sum_sq double precision
    ) ON COMMIT DROP;
    CREATE TEMP TABLE rollup_response_delta (
        pollrun_id bigint, region_id bigint, status varchar(16), count integer
    ) ON COMMIT DROP;
"""
CAPTURE_ANSWERS = """
    INSERT INTO rollup_answer_delta
    SELECT a.question_id, r.pollrun_id, c.region_id, a.local_date, a.category,
           %(sign)s * count(*), %(sign)s * count(a.value_to_use),
           %(sign)s * coalesce(sum(a.value_to_use), 0),
           %(sign)s * coalesce(sum(a.value_to_use * a.value_to_use), 0)
    FROM (
        SELECT a.id FROM rollup_scope_responses s JOIN polls_answer a ON a.response_id = s.id
        UNION
        SELECT id FROM rollup_scope_answers
    ) scope
    JOIN polls_answer a ON a.id = scope.id
    JOIN polls_response r ON r.id = a.response_id AND r.is_active
    JOIN contacts_contact c ON c.id = r.contact_id AND c.is_active
    GROUP BY a.question_id, r.pollrun_id, c.region_id, a.local_date, a.category
"""
CAPTURE_RESPONSES = """
    INSERT INTO rollup_response_delta
    SELECT r.pollrun_id, c.region_id, r.status, %(sign)s * count(*)
    FROM rollup_scope_responses s
    JOIN polls_response r ON r.id = s.id AND r.is_active
    JOIN contacts_contact c ON c.id = r.contact_id AND c.is_active
    GROUP BY r.pollrun_id, c.region_id, r.status
"""
MERGE_ANSWERS = """
    INSERT INTO polls_answerrollup AS ar
        (question_id, pollrun_id, region_id, local_date, category,
         count, number_count, number_sum, number_sum_sq)
    SELECT question_id, pollrun_id, region_id, local_date, category,
           sum(count), sum(number_count), sum(number_sum), sum(number_sum_sq)
    FROM rollup_answer_delta
    GROUP BY question_id, pollrun_id, region_id, local_date, category
    HAVING sum(count) <> 0 OR sum(number_count) <> 0 OR sum(number_sum) <> 0
        OR sum(number_sum_sq) <> 0
    ON CONFLICT (question_id, pollrun_id, region_id, local_date, category) DO UPDATE SET
        count = ar.count + EXCLUDED.count,
        number_count = ar.number_count + EXCLUDED.number_count,
        number_sum = ar.number_sum + EXCLUDED.number_sum,
        number_sum_sq = ar.number_sum_sq + EXCLUDED.number_sum_sq
    RETURNING id, count
"""
MERGE_RESPONSES = """
    INSERT INTO polls_responserollup AS rr (pollrun_id, region_id, status, count)
    SELECT pollrun_id, region_id, status, sum(count)
    FROM rollup_response_delta
    GROUP BY pollrun_id, region_id, status
    HAVING sum(count) <> 0
    ON CONFLICT (pollrun_id, region_id, status) DO UPDATE SET count = rr.count + EXCLUDED.count
    RETURNING id, count
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
            for merge, rollup in (
                (MERGE_ANSWERS, "polls_answerrollup"),
                (MERGE_RESPONSES, "polls_responserollup"),
            ):
                cursor.execute(merge)
                emptied = [pk for pk, count in cursor.fetchall() if count == 0]
                if emptied:
                    delete = f"DELETE FROM {rollup} WHERE id = ANY(%s)"  # noqa: S608 - our tables
                    cursor.execute(delete, [emptied])
            cursor.execute(
                "DROP TABLE rollup_scope_responses, rollup_scope_answers, "
                "rollup_answer_delta, rollup_response_delta"
            )

    @staticmethod
    def _capture(sign: int) -> None:
        with joining_by_index(), connection.cursor() as cursor:
            cursor.execute(CAPTURE_ANSWERS, {"sign": sign})
            cursor.execute(CAPTURE_RESPONSES, {"sign": sign})


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
    """Keep the rollups current while the body changes these contacts' region or
    is_active (e.g. a contact edited or deleted in TracPro)."""
    with transaction.atomic():
        tracker = RollupTracker(org)
        tracker.add_responses(
            "SELECT id FROM polls_response WHERE org_id = %(org)s AND contact_id = ANY(%(ids)s)",
            {"org": org.pk, "ids": list(contact_ids)},
        )
        tracker.before()
        yield tracker
        tracker.after()
