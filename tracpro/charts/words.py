"""Word clouds of open-ended answers, counted in Postgres.

Answers are lower-cased and split on white space and punctuation (apostrophes
and hyphens inside a word are kept); one-letter words and the stop words of
the org's languages are dropped; a contact counts at most once per word, so
one talkative respondent cannot fill the cloud. The top words per question
come back, most used first.
"""

from django.db import connection
from django.db.models import QuerySet

from tracpro.charts.data import compiled
from tracpro.charts.stopwords import stop_words
from tracpro.orgs.models import Org

TOP_WORDS = 50

# Separators, not word characters: this does not depend on the database's
# locale knowing which non-Latin characters are letters.
SEPARATORS = r"""[[:space:]!"#$%&()*+,./:;<=>?@\[\\\]^_`{|}~،؛؟«»“”‘’„…–—·]+"""  # noqa: RUF001

WORDS_SQL = """
    WITH answer (question_id, contact_id, value) AS ({answers}),
    word AS (
        SELECT answer.question_id, answer.contact_id, btrim(part, '''-') AS text
        FROM answer, regexp_split_to_table(lower(answer.value), %s) AS part
    ),
    counted AS (
        SELECT question_id, text, count(DISTINCT contact_id) AS contacts
        FROM word
        WHERE char_length(text) > 1 AND NOT (text = ANY(%s))
        GROUP BY question_id, text
    )
    SELECT question_id, text, contacts FROM (
        SELECT counted.*,
               row_number() OVER (PARTITION BY question_id ORDER BY contacts DESC, text) AS rank
        FROM counted
    ) ranked
    WHERE rank <= %s
    ORDER BY question_id, rank
"""


def org_languages(org: Org) -> list[str]:
    return [org.language, *org.languages]


def word_counts(answers: QuerySet, org: Org) -> dict[int, list[tuple[str, int]]]:
    """{question id: [(word, contacts), ...]} for a queryset of answers."""
    inner = answers.values_list("question_id", "response__contact_id", "value").order_by()
    query = compiled(inner)
    if query is None:
        return {}
    sql, params = query
    clouds: dict[int, list[tuple[str, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            WORDS_SQL.format(answers=sql),
            [*params, SEPARATORS, stop_words(org_languages(org)), TOP_WORDS],
        )
        for question_id, text, contacts in cursor.fetchall():
            clouds.setdefault(question_id, []).append((text, contacts))
    return clouds
