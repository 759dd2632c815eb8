"""Exports as files that a spreadsheet opens safely, streamed with bounded memory.

CSV:

- UTF-8 with a byte-order mark, so Excel reads non-Latin text correctly;
- a cell starting with =, +, -, @, a tab, a carriage return or a NUL gets a
  leading apostrophe, so a contact named "=HYPERLINK(...)" stays text
  (CSV injection, OWASP ASVS 1.2.10);
- rows (from a server-side cursor, `QuerySet.iterator`, in the callers) leave
  as chunks of a `StreamingHttpResponse`: memory does not grow with the export.

Every export goes through `csv_response(filename, header, rows)`.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r\0")
ROWS_PER_CHUNK = 1000


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
