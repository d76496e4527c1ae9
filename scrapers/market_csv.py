"""Parser for curated market-size tables (CSV uploads; the seed article's ``market_segments.csv`` layout).

One row per segment and span: the size in a base year, optionally the size in
a target year, and the CAGR the source states for that span. Columns are in
:data:`COLUMNS`; CSV quirks (BOM, ``;``, ``1,200``, ``$``, ``65%``, blank
lines) are handled by :mod:`scrapers.csvtools`.

Choices made here:

* Sizes are USD billions and must be positive (a CAGR needs a positive start).
* ``stated_cagr_pct`` is in percent: ``65`` and ``65%`` are both 65 %; it
  needs a target year (a rate is stated for a span).
* Years are four digits, 1900-2200; ``20O7`` (letter O) rejects the row.
  ``target_year`` must come after ``base_year``.
* Whether a size is an actual or a projection is decided when it is stored,
  from the year the file was observed (a year before it is an actual).
* The same segment, source and span twice: the later row is quarantined. Two
  rows that give one segment different sizes for the same year (from the same
  source) contradict each other: the later row is quarantined too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from scrapers.csvtools import Column, Row, decimal_cell, parse_table, text_cell, year_cell
from scrapers.records import ParseResult, Reject, normalize

COLUMNS = (
    Column("segment", True, "market segment, e.g. AI Inference Infrastructure"),
    Column("base_year", True, "year of the first size, e.g. 2023"),
    Column("base_value_usd_bn", True, "market size in the base year, USD billions"),
    Column("target_year", False, "year of the second size, e.g. 2027"),
    Column("target_value_usd_bn", False, "market size in the target year, USD billions"),
    Column("stated_cagr_pct", False, "compound annual growth rate the source states for the span, percent"),
    Column("primary_driver", False, "what the source says drives the growth"),
    Column("source", False, "who published the figures, e.g. seed-article"),
)
ALIASES = {
    "year": "base_year",
    "value_usd_bn": "base_value_usd_bn",
    "size_usd_bn": "base_value_usd_bn",
    "cagr_pct": "stated_cagr_pct",
    "cagr": "stated_cagr_pct",
    "stated_cagr": "stated_cagr_pct",
    "driver": "primary_driver",
}
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketSizeRecord:
    """One row: a segment's size in a base year and, optionally, a target year and the stated CAGR."""

    segment: str
    base_year: int
    base_value_usd_bn: Decimal
    target_year: int | None = None
    target_value_usd_bn: Decimal | None = None
    stated_cagr_pct: Decimal | None = None
    driver: str = ""
    source_label: str = ""
    line: int = 0

    def natural_key(self) -> tuple[object, ...]:
        return (self.segment.casefold(), self.source_label.casefold(), self.base_year, self.target_year)

    def sizes(self) -> list[tuple[int, Decimal]]:
        """(year, USD bn) pairs the row states."""
        pairs = [(self.base_year, self.base_value_usd_bn)]
        if self.target_year is not None and self.target_value_usd_bn is not None:
            pairs.append((self.target_year, self.target_value_usd_bn))
        return pairs


def parse(data: bytes) -> ParseResult:
    """Parse a market CSV into size records; bad, duplicate or contradicting rows become rejects."""
    result = parse_table(data, COLUMNS, _row, aliases=ALIASES, key=MarketSizeRecord.natural_key,
                         key_label="segment, source, base year and target year")
    # Contradictions between rows (a market file has tens of rows, so this pass may hold them).
    records: list[MarketSizeRecord] = []
    sizes: dict[tuple[str, str, int], tuple[Decimal, int]] = {}
    for record in result.records:
        conflict = ""
        for year, value in record.sizes():
            key = (record.segment.casefold(), record.source_label.casefold(), year)
            earlier = sizes.get(key)
            if earlier is not None and earlier[0] != value:
                conflict = (f"{record.segment} in {year} is {value} USD bn here but {earlier[0]} on line "
                            f"{earlier[1]}; the first one is kept")
                break
        if conflict:
            result.rejects.append(Reject(f"line {record.line}", conflict))
            continue
        for year, value in record.sizes():
            sizes.setdefault((record.segment.casefold(), record.source_label.casefold(), year), (value, record.line))
        records.append(record)
    result.records = records
    result.rejects.sort(key=lambda r: int(r.locator.split()[-1]) if r.locator.startswith("line ") else 0)
    return result


def _row(row: Row) -> MarketSizeRecord:
    segment = text_cell(row, "segment", required=True, max_length=200)
    base_year = year_cell(row, "base_year", required=True)
    target_year = year_cell(row, "target_year")
    base_value = _size(row, "base_value_usd_bn", required=True)
    target_value = _size(row, "target_value_usd_bn")
    if (target_year is None) != (target_value is None):
        raise ValueError("target_year and target_value_usd_bn go together: give both or neither")
    assert base_year is not None and base_value is not None
    if target_year is not None and target_year <= base_year:
        raise ValueError(f"target_year {target_year} is not after base_year {base_year}")
    cagr = decimal_cell(row, "stated_cagr_pct")
    if cagr is not None:
        if target_year is None:
            raise ValueError("stated_cagr_pct needs a target_year (a growth rate is stated for a span)")
        if cagr <= -100:
            raise ValueError(f"stated_cagr_pct {row.get('stated_cagr_pct')!r} is -100% or less")
        cagr = normalize(cagr)
    return MarketSizeRecord(
        segment=segment,
        base_year=base_year,
        base_value_usd_bn=base_value,
        target_year=target_year,
        target_value_usd_bn=target_value,
        stated_cagr_pct=cagr,
        driver=text_cell(row, "primary_driver", max_length=300),
        source_label=text_cell(row, "source", max_length=200),
        line=row.line,
    )


def _size(row: Row, name: str, *, required: bool = False) -> Decimal | None:
    value = decimal_cell(row, name, required=required, minimum=ZERO)
    if value is not None and value == 0:
        raise ValueError(f"{name} is zero (a market size must be positive)")
    return None if value is None else normalize(value)
