"""CSV and XLSX of the table on screen: units in headers, as-of column, formula-safe text, typed numbers."""

import csv
import io
from datetime import date
from decimal import Decimal

import pandas as pd
from openpyxl import load_workbook

from apps.dashboard.exports import csv_response, csv_rows, xlsx_bytes
from apps.dashboard.tables import Column, Table

COLUMNS = [Column("provider", "Provider"), Column("usd", "Input", unit="USD / 1M tokens", kind="money"),
           Column("pct", "Change", unit="%", kind="pct"), Column("observed_at", "Snapshot", kind="date")]


def _table() -> Table:
    frame = pd.DataFrame({
        "provider": ['=HYPERLINK("http://evil","click")', "+cmd", "Groq"],
        "usd": [Decimal("2.5000000000"), Decimal("0.59"), None],
        "pct": [Decimal("-7.81"), None, Decimal("12.5")],
        "observed_at": [pd.Timestamp("2024-09-22T18:43:44Z")] * 3,
    })
    return Table("offerings", "Every offering", COLUMNS, frame, stem="compare-llama-3-70b", as_of=date(2026, 11, 26))


def test_csv_has_units_in_headers_and_an_as_of_column():
    rows = csv_rows(_table())
    assert rows[0] == ["Provider", "Input (USD / 1M tokens)", "Change (%)", "Snapshot", "As of (UTC date)"]
    assert all(row[-1] == "2026-11-26" for row in rows[1:])


def test_csv_escapes_text_that_would_run_as_a_formula_but_not_negative_numbers():
    rows = csv_rows(_table())
    assert rows[1][0] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert rows[2][0] == "'+cmd"
    assert rows[3][0] == "Groq"
    assert rows[1][1:3] == ["2.5", "-7.8"]  # numbers stay numbers, minus sign and all


def test_csv_response_names_the_file_and_is_utf8_with_a_bom():
    response = csv_response(_table())
    assert response["Content-Disposition"] == 'attachment; filename="tokenwatch-compare-llama-3-70b-2026-11-26.csv"'
    text = response.content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[3] == ["Groq", "", "12.5", "2024-09-22", "2026-11-26"]


def test_xlsx_holds_numbers_as_numbers_dates_as_dates_and_text_never_as_a_formula():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(_table()))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Provider", "Input (USD / 1M tokens)", "Change (%)", "Snapshot", "As of (UTC date)")
    assert rows[1][0] == "'=HYPERLINK(\"http://evil\",\"click\")"
    assert sheet["A2"].data_type == "s"
    assert rows[1][1] == 2.5 and rows[1][2] == -7.8
    assert rows[1][3].date() == date(2024, 9, 22) and rows[1][4].date() == date(2026, 11, 26)
    assert rows[3][1] is None
