"""The column-at-a-time converters (issue 14) give exactly what the per-cell converters give, cell for cell,
and the benchmarks CSV parse built on them gives the same records and rejects whatever its batch size."""

from __future__ import annotations

import csv
import io
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest

from bench.gen_csv import write
from scrapers import benchmarks_csv
from scrapers.bench_records import BenchmarkRecord
from scrapers.csvtools import (
    _NUMBER_CELL,
    _NUMBER_COLUMN,
    CellMemo,
    _each,
    count_none,
    key_digest,
    number,
    number_column,
    parse_table,
    text,
    text_column,
)

CELLS = [
    "", " ", "  x  ", "a  b", "a\tb", "a\nb", "\x01bad", "=cmd()", "+x", "-x", "@foo", "+1", "-1", "x" * 301, "x" * 60,
    "~40", "≈8", "1,200", "$2.70", "5%", "150%", "-3", "0", "0.0", "00", "1e3", "1E+3", "١٢", "²", "１２", "NaN",
    "Infinity", "1e400", "99999999999999999", "999999999999999", "1000000000000000", "0.0000001", ".5", "5.",
    "1.234,5", "1 200", "$1,234.50", "$.5", "01,234", "1,2345", "$0", "0,5", "$1,234,567.5", "$", "$,", "12.5$",
    "US$3", "1,234,567,890,123,456", "$999,999,999,999,999", "0.000", "true", "H100", "İstanbul", "x\u00a0", "1",
    "22", "4444.5", "6,666", "$7,777.77", "12", "3.5", "1200.25",
]


def _one_by_one(convert, cells: list[str]) -> tuple[list[object], set[int]]:
    """The reference: the per-cell converter on each cell, as the row-by-row parse calls it."""
    return _each(cells, convert, None)


def _kept(values: list[object], failed: set[int]) -> list[str]:
    # str() too: Decimal("1.0") == Decimal("1") but they are stored differently.
    return [str(v) for i, v in enumerate(values) if i not in failed]


@pytest.mark.parametrize("seed", range(4))
def test_it_converts_a_column_as_each_cell_converts(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2_000):
        cells = [rng.choice(CELLS) for _ in range(rng.randint(0, 12))]
        options = {"required": rng.random() < 0.3, "nonnegative": rng.random() < 0.5,
                   "positive": rng.random() < 0.3, "percent_to_fraction": rng.random() < 0.3}
        values, failed = number_column(cells, "n", **options)
        expected, refused = _one_by_one(lambda cell: number(cell, "n", **options), cells)  # noqa: B023
        assert (failed, _kept(values, failed)) == (refused, _kept(expected, refused)), (cells, options)
        limits = {"required": rng.random() < 0.3, "max_length": rng.choice([5, 50, 300])}
        values, failed = text_column(cells, "t", **limits)
        expected, refused = _one_by_one(lambda cell: text(cell, "t", **limits), cells)  # noqa: B023
        assert (failed, _kept(values, failed)) == (refused, _kept(expected, refused)), (cells, limits)


def test_a_memo_answers_as_its_converter_and_stays_bounded() -> None:
    memo = CellMemo(lambda cell: number(cell, "n", positive=True), placeholder="refused", limit=3)
    values, failed = memo.column(["1", "0", "$2", "1", "x", "5", "6", "0"])
    assert [str(v) for v in values] == ["1", "refused", "2", "1", "refused", "5", "6", "refused"]
    assert failed == {1, 4, 7}
    assert len(memo) <= 3


def _parsed(data: bytes) -> tuple[list[object], list[tuple[str, str, str]], object]:
    result = benchmarks_csv.parse(data)
    return list(result.records), [(r.locator, r.reason, r.raw_excerpt) for r in result.rejects], result.observed_at


def test_the_parse_does_not_depend_on_its_batch_size(monkeypatch, tmp_path: Path) -> None:
    data = write("benchmarks", 3_000, tmp_path / "b.csv").read_bytes()
    whole = _parsed(data)
    assert len(whole[0]) > 2_900 and len(whole[1]) > 0
    for size in (1, 7, 1000):
        monkeypatch.setattr(benchmarks_csv, "BATCH_ROWS", size)
        assert _parsed(data) == whole


def test_its_batches_hold_the_records_and_the_digest_of_their_natural_keys(tmp_path: Path) -> None:
    data = write("benchmarks", 2_500, tmp_path / "b.csv").read_bytes()
    result = benchmarks_csv.parse(data)
    from_batches = []
    for batch in result.records.batches():
        records = list(batch.records())
        assert batch.keys == [key_digest(record.natural_key()) for record in records]
        from_batches += records
    assert from_batches == list(result.records)
    assert len(from_batches) == len(result.records)


# The common-number patterns before they were made possessive (backtracking): the reference for the faster ones.
_BACKTRACKING_CELL = re.compile(r"\$?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\$?\.[0-9]+")
_BACKTRACKING_COLUMN = re.compile(rf"(?:{_BACKTRACKING_CELL.pattern})?(?:\n(?:{_BACKTRACKING_CELL.pattern})?)*")


@pytest.mark.parametrize("seed", range(3))
def test_the_possessive_number_patterns_match_what_the_backtracking_ones_matched(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["1", "12", "123", "1234", ",", ",123", ",12", ",1234", ".", ".5", ".50", "$", "0", "x", " ", "-"]
    for _ in range(20_000):
        cell = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        assert bool(_NUMBER_CELL.fullmatch(cell)) == bool(_BACKTRACKING_CELL.fullmatch(cell)), cell
        column = "\n".join([cell, *(rng.choice(CELLS[20:]).strip("\n") for _ in range(rng.randint(0, 3)))])
        assert bool(_NUMBER_COLUMN.fullmatch(column)) == bool(_BACKTRACKING_COLUMN.fullmatch(column)), column


def test_it_counts_nones_by_identity() -> None:
    values = [Decimal("1.5"), None, 0, "", Decimal(0), None, False]
    assert count_none(values) == 2 == values.count(None)
    assert count_none([]) == 0


def _row_by_row(data: bytes):
    """The reference parse: every row through _row, duplicates by the natural key (csvtools.parse_table)."""
    return parse_table(data, benchmarks_csv.COLUMNS, benchmarks_csv._row, aliases=benchmarks_csv.ALIASES,
                       key=BenchmarkRecord.natural_key, key_label=benchmarks_csv.KEY_LABEL,
                       date_of=lambda record: record.measured_at and record.measured_at.date())


@pytest.mark.parametrize(("seed", "bad_share"), [(0, 0.01), (1, 0.3), (2, 0.9)])
def test_the_column_parse_gives_what_the_row_by_row_parse_gives_on_hostile_files(tmp_path: Path, seed: int,
                                                                                  bad_share: float) -> None:
    """Generated files with hostile cells in a share of their rows (few, many, most in a batch)."""
    rng = random.Random(seed)
    lines = write("benchmarks", 2_500, tmp_path / "b.csv").read_text().splitlines()
    for i in range(1, len(lines)):
        if lines[i] and rng.random() < bad_share:
            cells = next(csv.reader([lines[i]]))
            cells[rng.randrange(len(cells))] = rng.choice(CELLS)
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(cells)
            lines[i] = out.getvalue()
    data = "\n".join(lines).encode()
    expected = _row_by_row(data)
    assert _parsed(data) == (list(expected.records), [(r.locator, r.reason, r.raw_excerpt) for r in expected.rejects],
                             expected.observed_at)
