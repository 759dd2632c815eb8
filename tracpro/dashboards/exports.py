"""The responses export of the poll pages (CSV, one row per response).

Rows come from one query with each question's answer as a column, read
through a server-side cursor; `tracpro.exports.files` writes them.
"""

from collections.abc import Iterator, Sequence
from datetime import date

from django.db.models import CharField, F, Func, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracpro.contacts.models import Contact
from tracpro.orgs.models import Org
from tracpro.polls.models import Answer, Question, ResponseStatus

CURSOR_ROWS = 2000


STATUS_LABELS = {
    ResponseStatus.COMPLETE: gettext_lazy("Complete"),
    ResponseStatus.PARTIAL: gettext_lazy("Partial"),
    ResponseStatus.EMPTY: gettext_lazy("No response"),
}


def local_time_text(field: str, org: Org, pattern: str = "YYYY-MM-DD HH24:MI") -> Func:
    """The timestamp in the org's time zone, formatted by Postgres."""
    in_zone = Func(Value(org.timezone), F(field), function="timezone")
    return Func(in_zone, Value(pattern), function="to_char", output_field=CharField())


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
            answered_on=local_time_text("updated_on", org),
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


def response_rows(responses: QuerySet, questions: Sequence[Question], org: Org) -> Iterator[tuple]:
    """The export's rows, read through a server-side cursor."""
    labels = {status: str(label) for status, label in STATUS_LABELS.items()}
    rows = response_values(responses, questions, org)
    for row in rows.iterator(chunk_size=CURSOR_ROWS):
        yield (_iso(row[0]), *row[1:6], labels.get(row[6], row[6]), *row[7:])


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""
