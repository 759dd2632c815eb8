"""CSV files that Excel opens safely: formula-safe cells, readable names, bounded chunks."""

import pytest

from tracpro.exports.files import ROWS_PER_CHUNK, csv_filename, csv_lines, safe_cell


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
    ],
)
def test_it_neutralises_cells_that_would_be_formulas(value, cell):
    assert safe_cell(value) == cell


def test_it_names_files_after_what_they_hold():
    assert csv_filename("Enrolment Poll", "2024-05-01") == "enrolment-poll-2024-05-01.csv"
    assert csv_filename("تسجيل", None) == "تسجيل.csv"


def test_it_streams_rows_in_bounded_chunks():
    rows = ([str(i)] for i in range(ROWS_PER_CHUNK * 2 + 1))
    chunks = list(csv_lines(["n"], rows))
    assert len(chunks) == 4  # header, two full chunks, the rest
    assert chunks[0].startswith("\ufeff")
