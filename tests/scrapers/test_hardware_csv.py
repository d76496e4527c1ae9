"""Tests for scrapers.hardware_csv: curated hourly price sheets, as people really send them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from scrapers import hardware_csv
from scrapers.csvtools import CellMemo
from scrapers.records import ParseError, ParseResult

HEADER = "provider,instance_type,accelerator,accelerator_count,usd_per_hour,pricing_model,region,observed_on,source"
ROW = "Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,31.92,on-demand,,2025-06-01,lambda.ai/pricing"


def _parse(text: str) -> ParseResult:
    return hardware_csv.parse(text.encode())


def test_it_reads_a_row() -> None:
    result = _parse(f"{HEADER}\n{ROW}\n")
    assert result.rejects == []
    record = result.records[0]
    assert (record.provider_key, record.instance_type, record.accelerator, record.accelerator_count,
            record.form_factor, record.usd_per_hour, record.pricing_model, record.region, record.observed_on) == (
        "Lambda", "gpu_8x_h100_sxm5", "H100", 8, "SXM5", Decimal("31.92"), "on-demand", "", date(2025, 6, 1))
    assert result.observed_at == datetime(2025, 6, 1, tzinfo=UTC)


def test_it_accepts_the_short_column_names_and_spreadsheet_spellings() -> None:
    text = ("\ufeffProvider;Instance Type;GPU;Count;Price USD per hour;Pricing;Region;Date\n"
            "CoreWeave;HGX H100;H100 80GB;8;$49,24;On Demand;us-east;2025-01-15\n"
            "CoreWeave;HGX H100;H100 80GB;8;$1.234,50;Reserved-1y;us-east;2025-01-15\n"
            "Vast;h100x1;H100;1;1,99;Preemptible;;2025-01-15\n\n\n")
    result = hardware_csv.parse(text.encode("utf-8"))
    assert result.rejects == []
    got = [(r.usd_per_hour, r.pricing_model, r.accelerator_memory_gib) for r in result.records]
    assert got == [(Decimal("49.24"), "on-demand", 80), (Decimal("1234.50"), "reserved", 80),
                   (Decimal("1.99"), "spot", None)]


def test_it_leaves_the_date_to_the_ingest_when_a_row_has_none() -> None:
    result = _parse(f"{HEADER}\n{ROW}\nLambda,gpu_1x_a10,A10,1,1.29,,,,\n")
    assert result.observed_at is None
    assert result.records[1].observed_on is None


@pytest.mark.parametrize(("row", "reason"), [
    ("Lambda,gpu_1x_a10,A10,1,0,,,2025-06-01,", "usd_per_hour must be positive"),
    ("Lambda,gpu_1x_a10,A10,1,-1.29,,,2025-06-01,", "usd_per_hour is negative"),
    ("Lambda,gpu_1x_a10,A10,1,cheap,,,2025-06-01,", "usd_per_hour is not a number"),
    ("Lambda,gpu_1x_a10,A10,one,1.29,,,2025-06-01,", "accelerator_count is not a number"),
    ("Lambda,gpu_1x_a10,A10,1,1.29,weekly,,2025-06-01,", "pricing_model 'weekly' is not one of"),
    ("Lambda,gpu_1x_a10,A10,1,1.29,,,20O5-06-01,", "not a YYYY-MM-DD date"),
])
def test_it_quarantines_a_bad_row_and_reads_the_rest(row: str, reason: str) -> None:
    result = _parse(f"{HEADER}\n{ROW}\n{row}\n")
    assert len(result.records) == 1
    assert result.rejects[0].locator == "line 3"
    assert reason in result.rejects[0].reason


def test_it_quarantines_the_same_instance_on_the_same_date_twice() -> None:
    result = _parse(f"{HEADER}\n{ROW}\n{ROW.replace('31.92', '29.00')}\n{ROW.replace('2025-06-01', '2025-07-01')}\n")
    assert len(result.records) == 2
    assert result.rejects[0].locator == "line 3"
    assert "duplicate of line 2" in result.rejects[0].reason


def test_it_fails_the_whole_file_naming_the_missing_columns() -> None:
    with pytest.raises(ParseError, match=r"missing required column\(s\): accelerator_count, usd_per_hour"):
        _parse("provider,instance_type,accelerator\nLambda,x,H100\n")


def test_converting_each_distinct_cell_once_gives_the_records_and_reasons_of_converting_every_cell(monkeypatch):
    """The per-column memos (a sheet repeats its cells on thousands of rows) change nothing: the same records and
    the same reasons, a refused cell's reason on every row that repeats it, the first refused cell in row order
    naming a row with several."""
    header = HEADER + ",accelerator_memory_gib,vcpus,memory_gib"
    good = ["Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,31.92,on-demand,us-east-1,2025-06-01,lambda.ai,,208,1800",
            "CoreWeave,hgx,A100-80GB,8,17.60,spot,,2025-06-02,,80,,",
            "Vast,h100x1,H100,1,1.99,Preemptible,eu,2025-06-03,vast.ai,,16,64"]
    bad = ["Lambda,gpu_1x_a10,A10,1,cheap,,,2025-06-01,,,,",            # the price
           "Lambda,gpu_1x_a10,A10,one,cheap,,,2025-06-01,,,,",          # the price before the count
           "Lambda,gpu_1x_a10,A10,one,1.29,weekly,,2025-06-01,,,,",     # the count before the pricing model
           "Lambda,gpu_1x_a10,A10,1,1.29,weekly,,20O5-06-01,,,,",       # the pricing model before the date
           "Lambda,=cmd(),A10,1,1.29,,,2025-06-01,,,,",                 # a formula
           ",gpu_1x_a10,A10,1,1.29,,,2025-06-01,,,,",                   # no provider
           "Lambda,gpu_1x_a10,A10,1,1.29,,,2025-06-01,,0,,",            # no memory
           "Lambda,gpu_1x_a10,A10,1,1.29,,,2025-06-01,,,1e308,"]        # absurd vCPUs
    lines = [header]
    for i in range(60):  # every cell many times, refused ones among good ones of the same column
        row = (good + bad)[i % (len(good) + len(bad))]
        # A date of its own for each good row (else the repeats are duplicates); a few dates shared by bad rows.
        when = f"2025-{i % 12 + 1:02d}-{i // 12 + 1:02d}" if row in good else f"2025-01-0{i % 3 + 1}"
        lines.append(row.replace(row.split(",")[7], when) if "20O5" not in row else row)
    data = ("\n".join(lines) + "\n").encode()
    cached = hardware_csv.parse(data)
    cached_records, cached_rejects = list(cached.records), [(r.locator, r.reason) for r in cached.rejects]

    class EveryCell(CellMemo):
        """Converts every cell, keeping nothing: the conversions as they were before the memos."""

        def __getitem__(self, cell: str) -> object:
            return self.__missing__(cell)

    monkeypatch.setattr(hardware_csv, "CellMemo", EveryCell)
    plain = hardware_csv.parse(data)
    assert list(plain.records) == cached_records and len(cached_records) > 10
    assert [(r.locator, r.reason) for r in plain.rejects] == cached_rejects and len(cached_rejects) > 20
    assert len({reason for _, reason in cached_rejects}) >= 7
