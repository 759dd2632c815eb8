"""Exports that spreadsheets open safely: formula-safe cells, typed XLSX cells,
readable names, bounded chunks, one function for either format."""

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from tracpro.exports.files import (
    ROWS_PER_CHUNK,
    csv_filename,
    csv_lines,
    export_filename,
    export_format,
    safe_cell,
    table_response,
    xlsx_chunks,
)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+256700000001", "'+256700000001"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindent", "'\tindent"),
        ("\rline", "'\rline"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (12, "12"),
        (12.0, "12"),
        (-2.5, "-2.5"),
        (date(2024, 5, 1), "2024-05-01"),
        (datetime(2024, 5, 1, 9, 30, 12), "2024-05-01 09:30"),
    ],
)
def test_it_neutralises_cells_that_would_be_formulas(value, cell):
    assert safe_cell(value) == cell


def test_it_names_files_after_what_they_hold():
    assert csv_filename("Enrolment Poll", "2024-05-01") == "enrolment-poll-2024-05-01.csv"
    assert csv_filename("تسجيل", None) == "تسجيل.csv"
    assert export_filename("Enrolment", date(2024, 5, 1)) == "enrolment-2024-05-01"


def test_it_streams_rows_in_bounded_chunks():
    rows = ([str(i)] for i in range(ROWS_PER_CHUNK * 2 + 1))
    chunks = list(csv_lines(["n"], rows))
    assert len(chunks) == 4  # header, two full chunks, the rest
    assert chunks[0].startswith("\ufeff")


def read_xlsx(chunks) -> list[tuple]:
    """Values, types and number formats (the read-only reader used in tests drops the formats)."""
    sheet = load_workbook(io.BytesIO(b"".join(chunks))).active
    return [
        tuple((cell.value, cell.data_type, cell.number_format) for cell in row) for row in sheet
    ]


def test_it_writes_xlsx_cells_with_their_types():
    rows = read_xlsx(
        xlsx_chunks(
            ["Name", "Boys", "Day", "Answered on"],
            [
                ["=cmd|calc", 120, date(2024, 5, 1), datetime(2024, 5, 1, 9, 30)],
                ["Bob\x00\x07", -2.5, None, None],
            ],
        )
    )
    assert [cell[0] for cell in rows[0]] == ["Name", "Boys", "Day", "Answered on"]
    name, boys, day, moment = rows[1]
    assert name == ("'=cmd|calc", "s", "General")  # text, never a formula
    assert boys[:2] == (120, "n")
    assert day == (datetime(2024, 5, 1), "d", "yyyy-mm-dd")
    assert moment == (datetime(2024, 5, 1, 9, 30), "d", "yyyy-mm-dd hh:mm")
    assert rows[2][0][0] == "Bob"  # characters XML cannot hold are dropped
    assert rows[2][1][:2] == (-2.5, "n")


def test_xlsx_rows_leave_in_chunks_as_they_come():
    consumed = []

    def rows():
        for n in range(ROWS_PER_CHUNK * 4):
            consumed.append(n)
            yield [n, f"row {n}"]

    chunks = xlsx_chunks(["n", "text"], rows())
    first = next(chunks)
    assert first.startswith(b"PK")  # a zip, already on its way
    assert len(consumed) < ROWS_PER_CHUNK * 4
    values = read_xlsx([first, *chunks])
    assert len(values) == ROWS_PER_CHUNK * 4 + 1
    assert values[-1][0][0] == ROWS_PER_CHUNK * 4 - 1


def test_it_reads_the_format_from_the_query():
    assert export_format({"_format": "xlsx"}) == "xlsx"
    assert export_format({"_format": "csv"}) == "csv"
    assert export_format({"_format": "pdf"}) is None
    assert export_format({}) is None


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_one_function_answers_either_format(fmt, content_type):
    response = table_response(fmt, "enrolment-2024-05-01", ["n"], [[1], [2]])
    assert response.streaming
    assert response["Content-Type"] == content_type
    assert f'filename="enrolment-2024-05-01.{fmt}"' in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in response)
    if fmt == "csv":
        assert body.decode("utf-8-sig").splitlines() == ["n", "1", "2"]
    else:
        assert [row[0][0] for row in read_xlsx([body])] == ["n", 1, 2]


def test_it_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="pdf"):
        table_response("pdf", "x", ["n"], [])
