"""Tests for scrapers.hardware_csv: curated hourly price sheets, as people really send them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from scrapers import hardware_csv
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
