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
the incremental updates are tested against.
"""

from django.db import connection, transaction

from tracpro.orgs.models import Org

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
        for statement in (
            DELETE_ANSWER_ROLLUPS,
            INSERT_ANSWER_ROLLUPS,
            DELETE_RESPONSE_ROLLUPS,
            INSERT_RESPONSE_ROLLUPS,
        ):
            cursor.execute(statement, params)
