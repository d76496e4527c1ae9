"""Issue 13: dashboard exports write date-times as the API does, and absent values as empty cells.

CSV: ``2025-02-06T02:56:03.000000Z`` (apps.common.timestamps), so a column mixing whole-second and
sub-second times parses with a plain ``pandas.to_datetime``; the page itself still shows minutes.
XLSX: real date-time cells (UTC), formatted in the same ISO form.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pandas as pd
from openpyxl import load_workbook

from apps.common.timestamps import TIMESTAMP_RE
from apps.dashboard.exports import XLSX_DATETIME_FORMAT, csv_response, csv_rows, xlsx_bytes
from apps.dashboard.tables import Column, Table, cell, text_value

WHOLE = datetime(2025, 2, 6, 2, 56, 3, tzinfo=UTC)
FINE = datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=UTC)
COLUMNS = [Column("source", "Source"), Column("region", "Region"),
           Column("last_fetched_at", "Last fetched", unit="UTC", kind="datetime"),
           Column("observed_on", "Observed", unit="UTC", kind="date")]


def _table() -> Table:
    frame = pd.DataFrame({
        "source": ["litellm", "openrouter", "llm-prices"],
        "region": ["", None, "eu-west-1"],
        "last_fetched_at": [pd.Timestamp(WHOLE), pd.Timestamp(FINE), pd.NaT],
        "observed_on": [pd.Timestamp(WHOLE), pd.Timestamp(FINE), pd.NaT],
    })
    return Table("sources", "Sources", COLUMNS, frame, stem="sources", as_of=date(2026, 11, 26))


def test_csv_writes_date_times_in_the_apis_one_format():
    rows = csv_rows(_table())
    assert [row[2] for row in rows[1:]] == ["2025-02-06T02:56:03.000000Z", "2026-07-24T18:23:43.215560Z", ""]
    assert all(TIMESTAMP_RE.match(row[2]) for row in rows[1:3])
    # Days stay days.
    assert [row[3] for row in rows[1:]] == ["2025-02-06", "2026-07-24", ""]


def test_a_mixed_column_parses_with_plain_pandas_and_keeps_its_microseconds():
    body = csv_response(_table()).content
    frame = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
    parsed = pd.to_datetime(frame["Last fetched (UTC)"], utc=True)
    assert list(parsed[:2]) == [pd.Timestamp(WHOLE), pd.Timestamp(FINE)]
    assert pd.isna(parsed[2])


def test_the_page_shows_minutes_and_its_cells_carry_the_exported_text():
    shown = cell(COLUMNS[2], pd.Timestamp(FINE))
    assert shown.text == "2026-07-24 18:23"
    assert shown.value == text_value(COLUMNS[2], FINE) == "2026-07-24T18:23:43.215560Z"


def test_an_absent_value_is_an_empty_cell_whether_stored_as_blank_or_null():
    rows = csv_rows(_table())
    assert [row[1] for row in rows[1:]] == ["", "", "eu-west-1"]
    frame = pd.read_csv(io.BytesIO(csv_response(_table()).content), encoding="utf-8-sig")
    assert list(frame["Region"].isna()) == [True, True, False]


def test_xlsx_holds_real_date_times_in_utc_with_the_iso_display():
    sheet = load_workbook(io.BytesIO(xlsx_bytes(_table()))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] == WHOLE.replace(tzinfo=None)
    # Excel keeps milliseconds at best; the cell is within a millisecond of the stored time.
    assert abs(rows[2][2] - FINE.replace(tzinfo=None)).total_seconds() < 0.001
    assert rows[3][2] is None
    assert sheet["C2"].number_format == XLSX_DATETIME_FORMAT
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert rows[1][1] is None and rows[2][1] is None and rows[3][1] == "eu-west-1"
    frame = pd.read_excel(io.BytesIO(xlsx_bytes(_table())))
    assert str(frame["Last fetched (UTC)"].dtype).startswith("datetime64")
