"""Word clouds of open-ended answers, counted in Postgres.

Answers are lower-cased and split on white space and punctuation (apostrophes
and hyphens inside a word are kept); one-letter words and the stop words of
the org's languages are dropped; a contact counts at most once per word and
poll date, so one talkative respondent cannot fill the cloud. The top words per
question come back, most used first.

Without a reporter group or contact field filter the words come from the
rollups (`WordRollup`: answers containing each word, per poll date and region),
so a cloud costs the same at a million answers as at a thousand; with one,
from the answers themselves.
"""

from collections.abc import Sequence

from django.db import connection
from django.db.models import QuerySet

from tracpro.charts.data import compiled, filtered_answers
from tracpro.charts.filters import Filters
from tracpro.charts.stopwords import stop_words
from tracpro.orgs.models import Org
from tracpro.polls.rollups import WORD_SEPARATORS

TOP_WORDS = 50

TOP_OF_COUNTED = """
    SELECT question_id, text, contacts FROM (
        SELECT counted.*,
               row_number() OVER (PARTITION BY question_id ORDER BY contacts DESC, text) AS rank
        FROM ({counted}) counted
    ) ranked
    WHERE rank <= %s
    ORDER BY question_id, rank
"""
COUNTED_ANSWERS = """
    WITH answer (question_id, contact_id, pollrun_id, value) AS ({answers}),
    word AS (
        SELECT answer.question_id, answer.contact_id, answer.pollrun_id,
               btrim(part, '''-') AS text
        FROM answer, regexp_split_to_table(lower(answer.value), %s) AS part
    )
    SELECT question_id, text, count(DISTINCT (contact_id, pollrun_id)) AS contacts
    FROM word
    WHERE char_length(text) > 1 AND NOT (text = ANY(%s))
    GROUP BY question_id, text
"""
COUNTED_ROLLUPS = """
    SELECT question_id, word AS text, sum(count) AS contacts
    FROM polls_wordrollup
    WHERE question_id = ANY(%s) AND pollrun_id = ANY(%s) AND (%s OR region_id = ANY(%s))
      AND NOT (word = ANY(%s))
    GROUP BY question_id, word
"""


def org_languages(org: Org) -> list[str]:
    return [org.language, *org.languages]


def word_clouds(
    org: Org, filters: Filters, question_ids: Sequence[int], pollrun_ids: Sequence[int]
) -> dict[int, list[tuple[str, int]]]:
    """{question id: [(word, contacts), ...]} for the questions on the poll dates."""
    if not question_ids or not pollrun_ids:
        return {}
    if filters.needs_raw_values:
        return word_counts(filtered_answers(org, filters, question_ids, pollrun_ids), org)
    regions = filters.region_ids
    params = [list(question_ids), list(pollrun_ids), regions is None, list(regions or [])]
    return _top_words(COUNTED_ROLLUPS, [*params, stop_words(org_languages(org))])


def word_counts(answers: QuerySet, org: Org) -> dict[int, list[tuple[str, int]]]:
    """{question id: [(word, contacts), ...]} for a queryset of answers."""
    inner = answers.values_list(
        "question_id", "response__contact_id", "response__pollrun_id", "value"
    ).order_by()
    query = compiled(inner)
    if query is None:
        return {}
    sql, params = query
    counted = COUNTED_ANSWERS.format(answers=sql)
    return _top_words(counted, [*params, WORD_SEPARATORS, stop_words(org_languages(org))])


def _top_words(counted: str, params: list) -> dict[int, list[tuple[str, int]]]:
    """The top words per question of a statement counting (question_id, text, contacts)."""
    clouds: dict[int, list[tuple[str, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(TOP_OF_COUNTED.format(counted=counted), [*params, TOP_WORDS])
        for question_id, text, contacts in cursor.fetchall():
            clouds.setdefault(question_id, []).append((text, contacts))
    return clouds
