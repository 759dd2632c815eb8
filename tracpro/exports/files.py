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

XLSX: one sheet of SpreadsheetML written straight into a zip stream, so it
streams like the CSV (first bytes at once, memory flat). Numbers are number
cells, days and moments date cells (yyyy-mm-dd, yyyy-mm-dd hh:mm), text is
inline text, never a formula.

In both, a text cell starting with =, +, -, @, a tab, a carriage return or a
NUL gets a leading apostrophe, so a contact named "=HYPERLINK(...)" stays text
(CSV injection, OWASP ASVS 1.2.10).
"""

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

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
    if value.__class__ is str:  # most cells: the quickest test, safe_text inlined
        return "'" + value if value and value[0] in FORMULA_STARTS else value
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime):  # to the minute, as the org's clock shows it
        return value.isoformat(sep=" ", timespec="minutes")[:16]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal):  # bool included
        return str(value)
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


# XLSX ----------------------------------------------------------------------------------
# A one-sheet workbook written as SpreadsheetML straight into a zip stream: each
# chunk of rows is compressed and handed to the response as it comes, so the
# first bytes leave at once and memory stays flat (a spreadsheet library would
# build the sheet in a temporary file first, several times slower).

XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
        '<Relationship Id="rId2" Target="styles.xml" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/styles"/>'
        "</Relationships>"
    ),
    # Cell styles: 0 general, 1 a day, 2 a moment.
    "xl/styles.xml": (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="2"><numFmt numFmtId="164" formatCode="{DAY_FORMAT}"/>'
        f'<numFmt numFmtId="165" formatCode="{MOMENT_FORMAT}"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="3">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    ),
}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_START = (
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_END = "</sheetData></worksheet>"
# Characters XML 1.0 cannot hold at all.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - cells hold wall-clock times


def xlsx_cell(value: object) -> str:
    """One <c> element: numbers and dates as numbers (dates styled), text made safe."""
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal) and math.isfinite(value):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86400
        return f'<c s="2"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c s="1"><v>{(value - EXCEL_EPOCH.date()).days}</v></c>'
    text = escape(XML_ILLEGAL.sub("", safe_text(str(value))))
    return f'<c t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_row(cells: Iterable[object]) -> str:
    return "<row>" + "".join(xlsx_cell(value) for value in cells) + "</row>"


class _Pipe(io.RawIOBase):
    """A write-only, unseekable file that keeps what is written until drained."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def xlsx_chunks(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """The workbook's bytes, chunk by chunk as the rows come (ROWS_PER_CHUNK rows each)."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, xml in XLSX_PARTS.items():
            archive.writestr(name, XML_DECLARATION + xml)
        # Without zip64: a sheet holds at most Excel's 1,048,576 rows, far below 2 GiB.
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            chunk = [XML_DECLARATION, SHEET_START, xlsx_row(header)]
            for row in rows:
                chunk.append(xlsx_row(row))
                if len(chunk) >= ROWS_PER_CHUNK:
                    sheet.write("".join(chunk).encode())
                    chunk = []
                    if data := pipe.drain():
                        yield data
            chunk.append(SHEET_END)
            sheet.write("".join(chunk).encode())
    yield pipe.drain()


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
