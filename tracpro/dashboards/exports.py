"""The responses export of the poll pages (CSV or XLSX, one row per response).

Rows come from one query with each question's answer as a column, read
through a server-side cursor; `tracpro.exports.files` writes them. Cells keep
their types: the poll date is a day, the answer time a moment in the org's
time zone, a numeric question's answer a number when it is one.
"""

import re
from collections.abc import Iterator, Sequence

from django.db.models import CharField, DateTimeField, F, Func, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracpro.contacts.models import Contact
from tracpro.orgs.models import Org
from tracpro.polls.models import Answer, Question, QuestionType, ResponseStatus

CURSOR_ROWS = 2000
# A numeric answer written as a plain number ("120", "-3.5"): exported as a number.
PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?")


STATUS_LABELS = {
    ResponseStatus.COMPLETE: gettext_lazy("Complete"),
    ResponseStatus.PARTIAL: gettext_lazy("Partial"),
    ResponseStatus.EMPTY: gettext_lazy("No response"),
}


def local_time(field: str, org: Org) -> Func:
    """The timestamp as the org's wall-clock time (a naive datetime)."""
    return Func(Value(org.timezone), F(field), function="timezone", output_field=DateTimeField())


def reporter_group_names(contact_column: str) -> RawSQL:
    """The contact's active reporter groups, sorted, joined with ", "."""
    through = Contact.reporter_groups.through._meta.db_table
    # Only table and column names from code are interpolated, never input.
    return RawSQL(  # noqa: S611
        f"""(SELECT string_agg(g.name, ', ' ORDER BY g.name)
             FROM {through} cg JOIN groups_reportergroup g ON g.id = cg.reportergroup_id
             WHERE cg.contact_id = {contact_column} AND g.is_active)""",  # noqa: S608
        (),
        output_field=CharField(),
    )


def response_header(questions: Sequence[Question]) -> list[str]:
    fixed = [
        _("Poll date"),
        _("Answered on"),
        _("Contact"),
        _("URN"),
        _("Region"),
        _("Reporter groups"),
        _("Status"),
    ]
    return fixed + [question.display_name for question in questions]


def response_values(responses: QuerySet, questions: Sequence[Question], org: Org) -> QuerySet:
    """The export's query: one row per response, each question's raw answer a column."""
    answers = {
        f"q{question.pk}": Subquery(
            Answer.objects.filter(response=OuterRef("pk"), question_id=question.pk).values("value")[
                :1
            ]
        )
        for question in questions
    }
    return (
        responses.annotate(
            answered_on=local_time("updated_on", org),
            groups=reporter_group_names('"polls_response"."contact_id"'),
            **answers,
        )
        .order_by("-pollrun__conducted_on", "-updated_on", "-pk")
        .values_list(
            "pollrun__local_date",
            "answered_on",
            "contact__name",
            "contact__urn",
            "contact__region__name",
            "groups",
            "status",
            *answers,
        )
    )


def response_rows(responses: QuerySet, questions: Sequence[Question], org: Org) -> Iterator[list]:
    """The export's rows, read through a server-side cursor."""
    labels = {status: str(label) for status, label in STATUS_LABELS.items()}
    numeric = [
        7 + index
        for index, question in enumerate(questions)
        if question.question_type == QuestionType.NUMERIC
    ]
    rows = response_values(responses, questions, org)
    for row in rows.iterator(chunk_size=CURSOR_ROWS):
        row = list(row)
        row[6] = labels.get(row[6], row[6])
        for index in numeric:
            row[index] = as_number(row[index])
        yield row


def as_number(value: str | None) -> str | int | float | None:
    """A plain number's text as a number; anything else as it came."""
    if value is None or not PLAIN_NUMBER.fullmatch(value):
        return value
    number = float(value)
    return int(number) if number.is_integer() and "." not in value else number
