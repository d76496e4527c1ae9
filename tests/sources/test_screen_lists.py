"""The record screen on a parser's list: checked a field at a time over all records when everything fits, and
record by record (same reasons) as soon as anything might not (apps/sources/screen.py)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from apps.sources.screen import SCREEN_CHUNK, _records_fit, problem, result_screen
from scrapers.csvtools import RecordStream
from scrapers.litellm import parse
from scrapers.records import ParseResult, PriceRecord, UnitPrice
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def records() -> list[PriceRecord]:
    result = parse((FIXTURES / "litellm" / "model_prices_2026-07-24_rocry-8442b93.json").read_bytes())
    assert len(result.records) > 3000
    return result.records


def test_a_list_that_fits_is_passed_as_it_is(records):
    result = ParseResult(records=list(records))
    assert _records_fit(result.records)
    assert result_screen(result) is result


BAD = {
    "a raw id too long": {"source_model_id": "x" * 501},
    "a NUL in the name": {"model_name": "gpt\x00-4o"},
    "a lone surrogate in the region": {"region": "eu-\ud800"},
    "an absurd token limit": {"max_input_tokens": 10**12},
    "a negative prompt tier": {"min_prompt_tokens": -1},
    "a price with more decimal places than the column": {"input_usd_per_mtok": Decimal("1E-41")},
    "a price beyond the column": {"output_usd_per_mtok": Decimal("1E+21")},
    "an infinite price": {"cached_input_usd_per_mtok": Decimal("Infinity")},
    "a unit price named with a control character": {
        "unit_prices": (UnitPrice("per\x07image", "image", Decimal("0.04")),)},
    "a unit price beyond the column": {"unit_prices": (UnitPrice("image", "image", Decimal("1E+25")),)},
    "a modality with a control character": {"input_modalities": ("image", "au\x1bdio")},
}


@pytest.mark.parametrize("what", list(BAD))
def test_one_bad_record_among_thousands_is_quarantined_with_its_own_reason(records, what):
    index = len(records) // 2
    bad = dataclasses.replace(records[index], **BAD[what])
    reason = problem(bad)
    assert reason, f"{what}: problem() finds nothing"
    mixed = [*records[:index], bad, *records[index + 1:]]
    assert not _records_fit(mixed)
    screened = result_screen(ParseResult(records=mixed))
    assert len(screened.records) == len(records) - 1 and bad not in screened.records
    assert [r.reason for r in screened.rejects] == [reason]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_stream_is_screened_a_chunk_at_a_time_with_the_same_reasons(records, where):
    """A lazily produced stream (a CSV's records) is screened in chunks: a chunk that fits passes whole, the chunk
    holding a bad record is screened record by record. The records, their order and the rejects are what the
    list gives."""
    index = {"first": 0, "middle": SCREEN_CHUNK + 7, "last": len(records) - 1}[where]
    assert len(records) > SCREEN_CHUNK + 7  # two chunks at least
    bad = dataclasses.replace(records[index], model_name="gpt\x00-4o")
    mixed = [*records[:index], bad, *records[index + 1:]]
    by_list = result_screen(ParseResult(records=list(mixed)))
    stream = RecordStream(lambda: iter(mixed), len(mixed))
    by_stream = result_screen(ParseResult(records=stream, rejects=[]))
    assert list(by_stream.records) == list(by_list.records)
    assert len(by_stream.records) == len(mixed) - 1
    assert [(r.locator, r.reason) for r in by_stream.rejects] == [(r.locator, r.reason) for r in by_list.rejects]
    assert list(by_stream.records) == list(by_list.records)  # a second pass finds the same, and adds no reject twice
    assert len(by_stream.rejects) == 1
