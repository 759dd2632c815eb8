"""Writes to poll dates that stay in TracPro."""

from django.db import connection, transaction

from tracpro.polls.models import PollRun
from tracpro.polls.rollups import RollupTracker

# Each contact's latest response on the date (by creation, then run uuid) is its active one.
ACTIVATE_LATEST = """
    UPDATE polls_response r SET is_active = (r.id = latest.id)
    FROM (
        SELECT DISTINCT ON (contact_id) id, contact_id FROM polls_response
        WHERE pollrun_id = %(into)s ORDER BY contact_id, created_on DESC, run_uuid DESC
    ) latest
    WHERE r.pollrun_id = %(into)s AND r.contact_id = latest.contact_id
      AND r.is_active <> (r.id = latest.id)
"""


def merge_pollrun(source: PollRun, into: PollRun) -> None:
    """Move a poll date's responses into another one and delete it, rollups included.

    For the runs of a flow start TracPro made whose answer was lost: the sync may
    have filed them under a poll date of their own before TracPro learnt the start's
    uuid."""
    params = {"source": source.pk, "into": into.pk}
    with transaction.atomic():
        tracker = RollupTracker(into.poll.org)
        tracker.add_responses(
            """
            SELECT id FROM polls_response WHERE pollrun_id = %(source)s
            UNION ALL
            SELECT id FROM polls_response WHERE pollrun_id = %(into)s AND contact_id IN (
                SELECT contact_id FROM polls_response WHERE pollrun_id = %(source)s)
            """,
            params,
        )
        tracker.before()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE polls_response SET pollrun_id = %(into)s WHERE pollrun_id = %(source)s",
                params,
            )
            cursor.execute(ACTIVATE_LATEST, params)
        tracker.after()
        source.delete()
