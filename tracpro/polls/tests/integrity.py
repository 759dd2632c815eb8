"""Responses and answers reference their rows without database constraints (see
Response); tests check with this that nothing ever points nowhere."""

from django.db import connection

# (what dangles, SQL counting the rows whose key points at a missing row)
DANGLING = {
    "response.org": "SELECT count(*) FROM polls_response x "
    "WHERE NOT EXISTS (SELECT 1 FROM orgs_org o WHERE o.id = x.org_id)",
    "response.pollrun": "SELECT count(*) FROM polls_response x "
    "WHERE NOT EXISTS (SELECT 1 FROM polls_pollrun p WHERE p.id = x.pollrun_id)",
    "response.contact": "SELECT count(*) FROM polls_response x "
    "WHERE NOT EXISTS (SELECT 1 FROM contacts_contact c WHERE c.id = x.contact_id)",
    "answer.response": "SELECT count(*) FROM polls_answer x "
    "WHERE NOT EXISTS (SELECT 1 FROM polls_response r WHERE r.id = x.response_id)",
    "answer.question": "SELECT count(*) FROM polls_answer x "
    "WHERE NOT EXISTS (SELECT 1 FROM polls_question q WHERE q.id = x.question_id)",
    "answer.contact": "SELECT count(*) FROM polls_answer x JOIN polls_response r "
    "ON r.id = x.response_id WHERE x.contact_id IS DISTINCT FROM r.contact_id",
}


def dangling_rows() -> dict[str, int]:
    """How many rows of each key point at a missing row (or, for an answer's contact,
    differ from its response's); only the non-zero ones."""
    counts = {}
    with connection.cursor() as cursor:
        for name, sql in DANGLING.items():
            cursor.execute(sql)
            counts[name] = cursor.fetchone()[0]
    return {name: count for name, count in counts.items() if count}
