"""CSV exports that Excel opens safely, streamed with bounded memory.

- UTF-8 with a byte-order mark, so Excel reads non-Latin text correctly;
- a cell starting with =, +, -, @, a tab, a carriage return or a NUL gets a
  leading apostrophe, so a contact named "=HYPERLINK(...)" stays text
  (CSV injection, OWASP ASVS 1.2.10);
- rows come from a server-side cursor (`QuerySet.iterator`) and leave as
  chunks of a `StreamingHttpResponse`: memory does not grow with the export.

Other exports reuse `csv_response(filename, header, rows)`.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from django.db.models import (
    CharField,
    F,
    Func,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tracpro.contacts.models import Contact
from tracpro.orgs.models import Org
from tracpro.polls.models import Answer, Question, ResponseStatus

BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r\0")
ROWS_PER_CHUNK = 1000
CURSOR_ROWS = 2000


def safe_cell(value: object) -> str:
    """The value as CSV text that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


class _Line:
    """A file-like object whose write() hands the line back to csv.writer's caller."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """BOM and header first, then the rows in chunks of ROWS_PER_CHUNK lines."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([safe_cell(cell) for cell in header])
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow([safe_cell(cell) for cell in row]))
        if len(chunk) >= ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_filename(*parts: object) -> str:
    """ "enrolment-2024-05-01.csv": the parts slugified (letters of any script kept)."""
    words = [slugify(str(part), allow_unicode=True) for part in parts if part]
    return "-".join(word for word in words if word) + ".csv"


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


# Responses ------------------------------------------------------------------------

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
