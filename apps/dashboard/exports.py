"""CSV and XLSX downloads of a page's table: the rows on screen, with the as-of date and units.

The export reads the same :class:`~apps.dashboard.tables.Table` the page
rendered (same filters, same sort), adds an "As of" column, and names the file
after what and when (``tokenwatch-compare-llama-3-70b-2026-11-26.csv``). Text
cells are escaped against formula injection: a provider name or a rejection
reason that starts with ``=`` must not run as a formula in Excel.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

# The API's rule for text cells a spreadsheet would run as a formula: one rule for every export.
from apps.api_common.csv import escape_formula

from .tables import Column, Table, export_value, text_value

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
AS_OF = Column("as_of", "As of", unit="UTC date", kind="date")
XLSX_DATETIME_FORMAT = 'yyyy-mm-dd"T"hh:mm:ss.000"Z"'


def headers(table: Table) -> list[str]:
    return [column.header for column in table.columns] + [AS_OF.header]


def csv_rows(table: Table) -> list[list[str]]:
    """Header and data rows as CSV text; numbers stay plain numbers, text is formula-escaped."""
    rows = [headers(table)]
    as_of = text_value(AS_OF, table.as_of)
    for record in table.records():
        row = []
        for column in table.columns:
            value = text_value(column, record.get(column.key))
            row.append(value if column.numeric else escape_formula(value))
        rows.append([*row, as_of])
    return rows


def csv_response(table: Table) -> HttpResponse:
    buffer = io.StringIO()
    # A BOM so Excel, the tool procurement opens these in, reads UTF-8 names correctly.
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(table))
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{table.filename}.csv"'
    return response


def _xlsx_value(column: Column, value: Any) -> Any:
    typed = export_value(column, value)
    if isinstance(typed, str):
        return escape_formula(typed)
    return typed


def xlsx_bytes(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.title[:31] or "tokenwatch")
    columns = [*table.columns, AS_OF]
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(len(column.header) + 2, 12), 48)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for column in columns:
        header = WriteOnlyCell(sheet, value=escape_formula(column.header))
        header.font = bold
        header_cells.append(header)
    sheet.append(header_cells)
    for record in table.records():
        row = []
        for column in columns:
            value = table.as_of if column is AS_OF else _xlsx_value(column, record.get(column.key))
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, datetime):
                # A real date-time cell (UTC), shown in the CSV's ISO form to the millisecond, Excel's finest.
                cell.number_format = XLSX_DATETIME_FORMAT
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, Decimal) and column.kind == "money":
                cell.number_format = "0.00####"
            row.append(cell)
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(table: Table) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(table), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{table.filename}.xlsx"'
    return response


def export_response(table: Table, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        return xlsx_response(table)
    return csv_response(table)
