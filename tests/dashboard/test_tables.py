"""One table definition feeds the page and the exports: formatting, sorting, file names."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from apps.dashboard.tables import Column, Table, as_decimal, cell, text_value

MONEY = Column("usd", "Input", unit="USD / 1M tokens", kind="money")


def test_money_stays_exact_and_plain():
    assert text_value(MONEY, Decimal("2.5000000000")) == "2.5"
    assert text_value(MONEY, Decimal("0E-10")) == "0"
    assert text_value(MONEY, Decimal("100.0000000000")) == "100"
    # A derived figure (a 7:3 blend) is rounded to 6 places, not printed with 28 digits.
    assert text_value(MONEY, Decimal(7) / Decimal(3)) == "2.333333"
    assert as_decimal(1e-10, 6) == Decimal("0")


def test_the_screen_adds_separators_and_a_dash_the_export_does_not():
    money = cell(Column("m", "Monthly", kind="money", places=2), Decimal("12345.678"))
    assert (money.text, money.value) == ("12,345.68", "12345.68")
    empty = cell(MONEY, None)
    assert (empty.text, empty.value) == ("—", "")
    year = cell(Column("y", "Year", kind="year"), 2027)
    assert (year.text, year.value) == ("2027", "2027")


def test_dates_are_utc_days():
    column = Column("at", "Observed", kind="date")
    assert text_value(column, datetime(2024, 4, 23, 6, 50, tzinfo=UTC)) == "2024-04-23"
    assert text_value(column, pd.NaT) == ""
    assert text_value(Column("at", "At", kind="datetime"), datetime(2024, 4, 23, 6, 50, 12, tzinfo=UTC)) == \
        "2024-04-23T06:50:12.000000Z"  # exports write the API's one date-time format (the page shows minutes)


def test_headers_carry_units():
    assert MONEY.header == "Input (USD / 1M tokens)"
    assert Column("provider", "Provider").header == "Provider"


def _table(**kwargs):
    frame = pd.DataFrame({"provider": ["b", "A", "c"], "usd": [Decimal("2"), None, Decimal("0.5")]})
    return Table("t", "T", [Column("provider", "Provider"), MONEY], frame, stem="compare-llama-3-70b",
                 as_of=date(2026, 11, 26), **kwargs)


def test_sorting_is_by_value_with_blanks_last_and_unknown_keys_ignored():
    table = _table(sortable=True)
    assert list(table.sorted_by("usd").frame["provider"]) == ["c", "b", "A"]
    assert list(table.sorted_by("-usd").frame["provider"]) == ["b", "c", "A"]
    assert list(table.sorted_by("provider").frame["provider"]) == ["A", "b", "c"]
    assert list(table.sorted_by("nope").frame["provider"]) == ["b", "A", "c"]
    assert table.sorted_by("-usd").header_sort(MONEY) == ("usd", "descending")


def test_an_unsortable_table_keeps_its_order():
    assert list(_table().sorted_by("usd").frame["provider"]) == ["b", "A", "c"]


def test_the_file_name_says_what_and_when():
    assert _table().filename == "tokenwatch-compare-llama-3-70b-2026-11-26"
