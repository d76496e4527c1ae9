"""Tests for scrapers.market_csv against the seed table and CSV as people really send it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import market_csv
from scrapers.records import ParseError, ParseResult

HEADER = "segment,base_year,base_value_usd_bn,target_year,target_value_usd_bn,stated_cagr_pct,primary_driver,source"
INFERENCE = "AI Inference Infrastructure,2023,30,2027,180,65,Application Scaling & Token Consumption,seed-article"


def _parse(text: str | bytes) -> ParseResult:
    return market_csv.parse(text.encode() if isinstance(text, str) else text)


def test_it_reads_the_seed_table(shared_data: Path) -> None:
    result = market_csv.parse((shared_data / "seed-article" / "market_segments.csv").read_bytes())
    assert result.rejects == []
    rows = [(r.segment, r.base_year, r.base_value_usd_bn, r.target_year, r.target_value_usd_bn, r.stated_cagr_pct)
            for r in result.records]
    assert rows == [
        ("General Purpose Cloud Compute", 2023, Decimal(220), 2027, Decimal(450), Decimal(20)),
        ("AI Training Infrastructure", 2023, Decimal(45), 2027, Decimal(110), Decimal(25)),
        ("AI Inference Infrastructure", 2023, Decimal(30), 2027, Decimal(180), Decimal(65)),
        ("AI-as-a-Service (Endpoint APIs)", 2023, Decimal(15), 2027, Decimal(75), Decimal(50)),
    ]
    assert result.records[2].driver == "Application Scaling & Token Consumption"


def test_it_reads_a_bom_semicolons_currency_thousands_and_percent_signs() -> None:
    text = ("\ufeffSegment;Base Year;Base Value (USD bn);Target Year;Target Value (USD bn);Stated CAGR (%);"
            "Primary Driver;Source\n"
            "General Purpose Cloud Compute;2023;$1.220,5;2027;\"$2,450\";20%;\"Digital, Transformation\";x\n\n\n")
    record = market_csv.parse(text.encode("utf-8")).records[0]
    assert (record.base_value_usd_bn, record.target_value_usd_bn, record.stated_cagr_pct) == (
        Decimal("1220.5"), Decimal(2450), Decimal(20))
    assert record.driver == "Digital, Transformation"


def test_it_reads_a_row_with_one_size_only() -> None:
    record = _parse(f"{HEADER}\nEdge AI,2024,12.5,,,,,\n").records[0]
    assert record.sizes() == [(2024, Decimal("12.5"))]


@pytest.mark.parametrize(("row", "reason"), [
    ("AI Inference Infrastructure,20O7,30,2027,180,65,,x", "base_year '20O7' is not a four-digit year"),
    ("AI Inference Infrastructure,2023,-30,2027,180,65,,x", "base_value_usd_bn is negative ('-30')"),
    ("AI Inference Infrastructure,2023,0,2027,180,65,,x", "base_value_usd_bn is zero"),
    ("AI Inference Infrastructure,2023,30,2021,180,65,,x", "target_year 2021 is not after base_year 2023"),
    ("AI Inference Infrastructure,2023,30,2027,,65,,x", "give both or neither"),
    ("AI Inference Infrastructure,2023,30,,,65,,x", "stated_cagr_pct needs a target_year"),
    ("AI Inference Infrastructure,2023,lots,2027,180,65,,x", "base_value_usd_bn is not a number"),
])
def test_it_quarantines_a_bad_row_and_reads_the_rest(row: str, reason: str) -> None:
    result = _parse(f"{HEADER}\nAI Training Infrastructure,2023,45,2027,110,25,,x\n{row}\n")
    assert len(result.records) == 1
    assert [r.locator for r in result.rejects] == ["line 3"]
    assert reason in result.rejects[0].reason


def test_it_quarantines_a_duplicate_row_with_its_line() -> None:
    result = _parse(f"{HEADER}\n{INFERENCE}\n{INFERENCE}\n")
    assert len(result.records) == 1
    assert result.rejects[0].locator == "line 3"
    assert result.rejects[0].reason.startswith("duplicate of line 2")


def test_it_quarantines_a_row_contradicting_an_earlier_size() -> None:
    result = _parse(f"{HEADER}\n{INFERENCE}\nAI Inference Infrastructure,2023,31,2030,400,,,seed-article\n")
    assert len(result.records) == 1
    assert result.rejects[0].locator == "line 3"
    assert "in 2023 is 31 USD bn here but 30 on line 2" in result.rejects[0].reason


def test_it_fails_the_whole_file_naming_the_missing_columns() -> None:
    with pytest.raises(ParseError, match=r"missing required column\(s\): base_year, base_value_usd_bn"):
        _parse("segment,target_year\nx,2027\n")
