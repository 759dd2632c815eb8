"""Exports as files that a spreadsheet opens safely, streamed with bounded memory.

Every export view calls one function, whatever the format the user chose:

    return table_response(fmt, filename, header, rows)

- `fmt` is "csv" or "xlsx" (`export_format(request.GET)` reads `_format`);
- `filename` has no extension (`export_filename(...)` builds it), the format adds it;
- `rows` is an iterable of sequences, typically from a server-side cursor
  (`QuerySet.iterator`), so memory does not grow with the export. Give cells
  their own types: numbers as int/float, days as `date`, moments as naive
  `datetime` in the org's time zone, text as str, None for empty.

CSV: UTF-8 with a byte-order mark (Excel then reads non-Latin text correctly),
rows leave as chunks of a `StreamingHttpResponse`; numbers are written without
a needless ".0", days as YYYY-MM-DD, moments as YYYY-MM-DD HH:MM.

XLSX: openpyxl's write-only mode appends each row to a temporary file, so
memory stays flat; the finished file is then streamed in chunks. Numbers are
number cells, days and moments date cells, text is text.

In both, a text cell starting with =, +, -, @, a tab, a carriage return or a
NUL gets a leading apostrophe, so a contact named "=HYPERLINK(...)" stays text
(CSV injection, OWASP ASVS 1.2.10).
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r\0")
ROWS_PER_CHUNK = 1000
XLSX_CHUNK_BYTES = 64 * 1024
DAY_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm"


def export_format(params: Mapping[str, str]) -> str | None:
    """The format a query string asks for (`_format=csv|xlsx`), None when none or unknown."""
    value = params.get("_format")
    return value if value in FORMATS else None


def safe_text(text: str) -> str:
    """Text that a spreadsheet will not run as a formula."""
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


def safe_cell(value: object) -> str:
    """The value as CSV text that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


class _Line:
    """A file-like object whose write() hands the line back to csv.writer's caller."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
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


def xlsx_value(value: object) -> object:
    """What openpyxl stores for one cell: numbers and dates as they are, text made safe
    (and without the control characters XML cannot hold)."""
    if value is None or isinstance(value, bool | int | float | date):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return ILLEGAL_CHARACTERS_RE.sub("", safe_text(str(value)))


def _xlsx_cell(sheet, value: object) -> object:
    value = xlsx_value(value)
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))
        cell.number_format = MOMENT_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DAY_FORMAT
        return cell
    return value


def xlsx_chunks(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """A one-sheet workbook, written row by row to a temporary file, then read out in chunks."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([_xlsx_cell(sheet, cell) for cell in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(XLSX_CHUNK_BYTES):
            yield chunk


def export_filename(*parts: object) -> str:
    """ "enrolment-2024-05-01": the parts slugified (letters of any script kept)."""
    words = [slugify(str(part), allow_unicode=True) for part in parts if part]
    return "-".join(word for word in words if word)


def csv_filename(*parts: object) -> str:
    return export_filename(*parts) + ".csv"


def table_response(
    fmt: str, filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """The table as a download in `fmt` ("csv" or "xlsx"); `filename` without extension."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    content = csv_lines(header, rows) if fmt == CSV else xlsx_chunks(header, rows)
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.{fmt}")
    response["Cache-Control"] = "private, no-store"
    return response


def csv_response(
    filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A CSV download; `filename` ends in .csv (kept for callers that only write CSV)."""
    return table_response(CSV, filename.removesuffix(".csv"), header, rows)
