"""Reading an XLSX download back in tests."""

import io

from openpyxl import load_workbook

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_rows(response) -> list[list]:
    """The cell values of a streamed XLSX response's only sheet, row by row."""
    assert response["Content-Type"] == XLSX_TYPE
    body = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]
