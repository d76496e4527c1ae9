"""Tests for scrapers.csvtools: CSV as people really send it."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from scrapers.csvtools import (
    Column,
    RecordStream,
    Row,
    Table,
    columns_markdown,
    date_cell,
    int_cell,
    normalize_header,
    number,
    parse_number,
    parse_table,
    text,
    year_cell,
)
from scrapers.records import ParseError

COLUMNS = (Column("name", True, "a name"), Column("value", True, "a number"), Column("note", False, "text"))


def _make(row: Row) -> tuple[str, Decimal]:
    value, _ = parse_number(row.get("value"), "value")
    return row.get("name"), value


def _parse(text: str | bytes, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return parse_table(data, COLUMNS, _make, key=lambda r: r[0], key_label="name", **kwargs)


@pytest.mark.parametrize(("text", "expected"), [
    ("1200", Decimal(1200)),
    ("1,200", Decimal(1200)),
    ("1,234,567", Decimal(1234567)),
    ("1 200", Decimal(1200)),
    ("1\u00a0200", Decimal(1200)),
    ("1'200", Decimal(1200)),
    ("$2.70", Decimal("2.70")),
    ("USD 2.70", Decimal("2.70")),
    ("2.70 $", Decimal("2.70")),
    ("2,70", Decimal("2.70")),
    ("1.234,56", Decimal("1234.56")),
    ("1,234.56", Decimal("1234.56")),
    ("1.200.000", Decimal(1200000)),
    ("-3", Decimal(-3)),
    ("+3", Decimal(3)),
    ("1e3", Decimal(1000)),
    (".5", Decimal("0.5")),
])
def test_it_reads_numbers_as_spreadsheets_write_them(text: str, expected: Decimal) -> None:
    value, percent = parse_number(text, "x")
    assert value == expected
    assert percent is False


def test_it_reports_a_percent_sign() -> None:
    assert parse_number("65%", "x") == (Decimal(65), True)
    assert parse_number(" 56.5 % ", "x") == (Decimal("56.5"), True)


@pytest.mark.parametrize("text", ["abc", "1,2,3", "12a", "1.2.3,4", "", "$", "--1"])
def test_it_refuses_what_is_not_a_number(text: str) -> None:
    with pytest.raises(ValueError, match="x is"):
        parse_number(text, "x")


def test_it_normalizes_header_names() -> None:
    assert normalize_header("\ufeff Base Value (USD bn) ") == "base_value_usd_bn"
    assert normalize_header("Throughput_Tokens_Per_S") == "throughput_tokens_per_s"


def test_it_strips_a_utf8_bom() -> None:
    result = _parse(b"\xef\xbb\xbfname,value\na,1\n")
    assert list(result.records) == [("a", Decimal(1))]


def test_it_reads_utf16_with_a_bom() -> None:
    result = _parse("name,value\na,1\n".encode("utf-16"))
    assert list(result.records) == [("a", Decimal(1))]


def test_it_sniffs_semicolons_and_tabs() -> None:
    assert list(_parse("name;value\na;1,5\n").records) == [("a", Decimal("1.5"))]
    assert list(_parse("name\tvalue\na\t2\n").records) == [("a", Decimal(2))]


def test_it_keeps_quoted_commas_inside_a_field() -> None:
    result = _parse('name,value,note\n"Extreme, predictable",3,"a, b"\n')
    assert list(result.records) == [("Extreme, predictable", Decimal(3))]


def test_it_skips_blank_and_empty_rows_and_counts_lines_from_the_file() -> None:
    result = _parse("name,value\n\na,1\n,,\nb,x\n\n\n\n")
    assert list(result.records) == [("a", Decimal(1))]
    assert [(r.locator, r.reason) for r in result.rejects] == [("line 5", "value is not a number ('x')")]


def test_it_reports_the_line_a_multiline_row_starts_on() -> None:
    result = _parse('name,value,note\na,1,"two\nlines"\nb,bad,\n')
    assert [r.locator for r in result.rejects] == ["line 4"]


def test_it_fails_the_whole_file_naming_every_missing_column() -> None:
    with pytest.raises(ParseError, match=r"missing required column\(s\): name, value \(the header line 1 has: note\)"):
        _parse("note\nx\n")


def test_it_fails_an_empty_file_and_a_repeated_header() -> None:
    with pytest.raises(ParseError, match="empty"):
        _parse(b"\xef\xbb\xbf\n\n")
    with pytest.raises(ParseError, match="repeats column"):
        _parse("name,value,Value\n")


def test_it_fails_a_file_that_is_not_utf8() -> None:
    with pytest.raises(ParseError, match="not UTF-8"):
        _parse("name,value\ncaf\u00e9,1\n".encode("latin-1"))


def test_it_fails_html_in_place_of_csv() -> None:
    with pytest.raises(ParseError, match="not CSV"):
        _parse("<!doctype html><html>")


def test_it_quarantines_a_duplicate_with_the_line_of_the_first() -> None:
    result = _parse("name,value\na,1\nb,2\na,3\n")
    assert list(result.records) == [("a", Decimal(1)), ("b", Decimal(2))]
    assert result.rejects[0].locator == "line 4"
    assert result.rejects[0].reason == "duplicate of line 2 (same name); the first one is kept"


def test_it_rejects_a_row_with_more_cells_than_the_header() -> None:
    result = _parse("name,value\na,1,200\n")
    assert result.rejects[0].reason.startswith("the row has 3 cells but the header has 2")


def test_it_accepts_column_aliases() -> None:
    result = _parse("Name,Amount\na,1\n", aliases={"amount": "value"})
    assert list(result.records) == [("a", Decimal(1))]


def test_it_produces_records_lazily_on_each_iteration() -> None:
    result = _parse("name,value\na,1\nb,2\n")
    assert isinstance(result.records, RecordStream)
    assert len(result.records) == 2
    assert list(result.records) == list(result.records)
    assert result.records[1] == ("b", Decimal(2))


def test_it_dates_the_file_by_its_newest_row_only_when_every_row_has_a_date() -> None:
    columns = (Column("name", True, ""), Column("on", False, ""))

    def make(row: Row):
        return row.get("name"), date_cell(row, "on")

    dated = parse_table(b"name,on\na,2024-01-02\nb,2024-03-04\n", columns, make, date_of=lambda r: r[1])
    assert dated.observed_at is not None and dated.observed_at.isoformat() == "2024-03-04T00:00:00+00:00"
    partly = parse_table(b"name,on\na,2024-01-02\nb,\n", columns, make, date_of=lambda r: r[1])
    assert partly.observed_at is None


@pytest.mark.parametrize(("text", "reason"), [
    ("20O7", "'20O7' is not a four-digit year"),
    ("207", "'207' is not a four-digit year"),
    ("1850", "1850 is out of range"),
])
def test_it_refuses_a_year_that_is_not_one(text: str, reason: str) -> None:
    row = Row.of(2, {"year": text})
    with pytest.raises(ValueError, match=reason):
        year_cell(row, "year")


def test_it_reads_spreadsheet_years_and_approximate_counts() -> None:
    assert year_cell(Row.of(2, {"year": "2023.0"}), "year") == 2023
    assert int_cell(Row.of(2, {"n": "~40"}), "n") == 40
    with pytest.raises(ValueError, match="not a whole number"):
        int_cell(Row.of(2, {"n": "8.5"}), "n")


def test_it_documents_columns_as_markdown() -> None:
    text = columns_markdown(COLUMNS, {"amount": "value"})
    assert "| `value` | yes | a number (also accepted: amount) |" in text
    assert "| `note` | no | text |" in text


def test_it_exposes_the_header_and_delimiter() -> None:
    table = Table(b"name;value;note\n", COLUMNS)
    assert table.delimiter == ";"
    assert table.header == ["name", "value", "note"]


def test_it_refuses_an_unknown_column_naming_it() -> None:
    # Issue 12, finding 3: an unknown column may be a known one misspelt; ignoring it blanks what was meant.
    with pytest.raises(ParseError, match=r"unknown column\(s\): 'extra' \(the columns of this format are: name, "):
        Table(b"name;value;extra\n", COLUMNS)


@pytest.mark.parametrize("header", [b"name,value,no\x00te\n", b"name,value,no\x01te\n", b"name,value,no\x7fte\n"])
def test_it_refuses_a_control_character_in_a_header_name_naming_it(header: bytes) -> None:
    # A NUL in "note" used to drop that column silently and change an existing row.
    with pytest.raises(ParseError, match=r"the header has control characters in column\(s\): 'no\\x"):
        Table(header, COLUMNS)


def test_it_counts_duplicate_columns_in_linear_time() -> None:
    # names.count(n) per column was quadratic: 60,000 columns took a minute. Bounded and counted once now.
    header = b"name,value," + b",".join([b"note"] * 150) + b"\n"
    with pytest.raises(ParseError, match=r"repeats column\(s\): note"):
        Table(header, COLUMNS)


def test_it_refuses_a_million_column_header_before_any_per_column_work() -> None:
    header = b"name,value," + b",".join(b"c%d" % i for i in range(1_000_000)) + b"\n"
    with pytest.raises(ParseError, match=r"no line break in the first 65,536 bytes"):
        Table(header, COLUMNS)


def test_it_refuses_a_header_over_the_column_limit() -> None:
    header = b"name,value," + b",".join(b"c%d" % i for i in range(1_000)) + b"\n"
    with pytest.raises(ParseError, match=r"the header line 1 has 1,002 columns \(limit 200\)"):
        Table(header, COLUMNS)


@pytest.mark.parametrize("cell", ["=1+1", "@SUM(A1)", "+cmd", "-HYPERLINK(1)", "a\x00b", "a\x1bb"])
def test_it_refuses_a_formula_or_control_character_in_a_text_cell(cell: str) -> None:
    with pytest.raises(ValueError, match=r"note (starts like a spreadsheet formula|holds the control character)"):
        text(cell, "note")


@pytest.mark.parametrize("cell", ["-3 dB", "- see notes", "+1 555", "a=b", "Llama 3 70B (FP8)"])
def test_it_keeps_text_that_only_looks_like_a_formula_later_on(cell: str) -> None:
    assert text(cell, "note") == cell


@pytest.mark.parametrize("cell", ["1e22", "1e308", "1000000000000000", "1,000,000,000,000,000"])
def test_it_refuses_a_number_no_column_holds(cell: str) -> None:
    with pytest.raises(ValueError, match=r"amount is absurd .* at or above 1e15"):
        number(cell, "amount")


@pytest.mark.parametrize("name", ["benchmarks_csv", "market_csv", "hardware_csv", "providers_csv"])
def test_it_keeps_the_documented_column_schemas_in_step_with_the_parsers(name: str) -> None:
    import importlib
    from pathlib import Path

    module = importlib.import_module(f"scrapers.{name}")
    readme = (Path(__file__).resolve().parents[2] / "fixtures" / "README.md").read_text(encoding="utf-8")
    assert columns_markdown(module.COLUMNS, module.ALIASES) in readme


def test_it_names_the_first_line_for_every_later_copy() -> None:
    result = _parse("name,value\na,1\nb,2\na,3\na,4\nb,5\n")
    assert list(result.records) == [("a", Decimal(1)), ("b", Decimal(2))]
    assert len(result.records) == 2
    assert [(r.locator, r.reason.split(" (")[0]) for r in result.rejects] == [
        ("line 4", "duplicate of line 2"), ("line 5", "duplicate of line 2"), ("line 6", "duplicate of line 3")]


def test_it_never_quarantines_a_row_for_a_hash_collision(monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapers import csvtools

    monkeypatch.setattr(csvtools, "_hash", lambda value: 42)  # every key collides
    result = _parse("name,value\na,1\nb,2\na,3\n")
    assert list(result.records) == [("a", Decimal(1)), ("b", Decimal(2))]
    assert [r.locator for r in result.rejects] == ["line 4"]


@dataclasses.dataclass(frozen=True, slots=True)
class _Priced:
    name: str
    value: Decimal
    on: date | None
    line: int


@dataclasses.dataclass(frozen=True)
class _Checked:
    """A record whose class runs a __post_init__."""

    name: str

    def __post_init__(self) -> None:
        assert self.name


def _priced_sheet(rows: int) -> bytes:
    """name,value,on with a bad value every 97th row and a repeated name every 101st: rejects and duplicates."""
    lines = ["name,value,on"]
    for i in range(rows):
        name = f"n{i - 1}" if i % 101 == 100 else f"n{i}"
        value = "cheap" if i % 97 == 96 else f"{i}.{i % 7}0"
        lines.append(f"{name},{value},2025-01-{i % 28 + 1:02d}")
    return ("\n".join(lines) + "\n").encode()


def _priced_parse(data: bytes, made: list[int], kind: type = _Priced):
    columns = (Column("name", True, ""), Column("value", True, ""), Column("on", False, ""))

    def make(row: Row):
        made.append(row.line)
        value, _ = parse_number(row.get("value"), "value")
        if kind is _Checked:
            return _Checked(row.get("name"))
        return _Priced(row.get("name"), value, date_cell(row, "on"), row.line)

    return parse_table(data, columns, make, key=lambda r: r.name, key_label="name")


def test_the_second_pass_loads_the_validated_records_instead_of_converting_the_rows_again(monkeypatch) -> None:
    """Dataclass records are kept pickled by the validating pass (csvtools._RowStash): iterating them converts no
    row again, and gives, in order and less the rejected and duplicate rows, what converting again gives (the
    path past STASH_BYTES)."""
    data = _priced_sheet(5000)
    made: list[int] = []
    stashed = _priced_parse(data, made)
    validated = len(made)  # every row once, and the 49 duplicates' two lines again to confirm them by their keys
    assert validated == 5000 + 2 * 49
    first = list(stashed.records)
    assert list(stashed.records) == first  # every iteration, the same records
    assert len(made) == validated  # no row converted again
    assert len(first) == len(stashed.records) == 5000 - 51 - 49
    monkeypatch.setattr("scrapers.csvtools.STASH_BYTES", 0)
    again: list[int] = []
    converted = _priced_parse(data, again)
    assert list(converted.records) == first and len(again) == validated + len(first)  # converted again, the same
    assert [(r.locator, r.reason) for r in converted.rejects] == [(r.locator, r.reason) for r in stashed.rejects]


def test_records_a_stash_could_not_make_again_are_converted_again() -> None:
    """A record class with a __post_init__ (which a rebuild would run twice) or that is not a dataclass is made
    again from the rows, as before the stash."""
    data = _priced_sheet(300)
    made: list[int] = []
    result = _priced_parse(data, made, kind=_Checked)
    validated = len(made)
    records = list(result.records)
    assert len(made) > validated and len(records) == len(result.records)
    assert all(isinstance(r, _Checked) for r in records)


def test_only_classes_a_positional_call_makes_again_are_stashed() -> None:
    from scrapers.csvtools import _rebuildable

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class KeywordOnly:
        name: str

    @dataclasses.dataclass
    class NotAnArgument:
        name: str
        seen: int = dataclasses.field(default=0, init=False)

    @dataclasses.dataclass(frozen=True)
    class One:
        name: str

    assert _rebuildable(One)(One("a")) == ("a",)  # a one-field class's values are a tuple too
    assert _rebuildable(_Priced)(_Priced("a", Decimal(1), None, 2)) == ("a", Decimal(1), None, 2)
    for kind in (KeywordOnly, NotAnArgument, _Checked, tuple, dict):
        assert _rebuildable(kind) is None, kind


def test_a_record_pickle_cannot_write_is_made_again_from_its_row() -> None:
    @dataclasses.dataclass(frozen=True)
    class Odd:
        name: str
        convert: object  # a lambda: pickle refuses it

    columns = (Column("name", True, ""), Column("value", True, ""))
    made: list[int] = []

    def make(row: Row) -> Odd:
        made.append(row.line)
        return Odd(row.get("name"), lambda: None)

    result = parse_table(b"name,value\na,1\nb,2\n", columns, make)
    assert [r.name for r in result.records] == ["a", "b"] and made == [2, 3, 2, 3]


def test_a_memo_gives_one_cell_converted_or_raises_its_reason_every_time() -> None:
    from scrapers.csvtools import CellMemo

    calls: list[str] = []

    def convert(cell: str) -> int:
        calls.append(cell)
        return int(cell)

    memo = CellMemo(convert)
    assert [memo.one("3"), memo.one("3")] == [3, 3] and calls == ["3"]
    for _ in range(2):
        with pytest.raises(ValueError, match="invalid literal"):
            memo.one("x")
