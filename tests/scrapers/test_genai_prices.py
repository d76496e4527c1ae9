"""Tests for scrapers.genai_prices against the real pydantic/genai-prices v2 snapshot and synthetic input."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from scrapers import llm_prices
from scrapers.genai_prices import OFF_PEAK, parse
from scrapers.records import (
    LABEL_FREE,
    LABEL_UNKNOWN,
    MAX_USD_PER_MTOK,
    ParseError,
    ParseResult,
    PriceRecord,
    Reject,
    UnitPrice,
)

REAL_FILE = "data_v2.json"


@pytest.fixture
def real_bytes(shared_data: Path) -> bytes:
    return (shared_data / "genai-prices" / REAL_FILE).read_bytes()


@pytest.fixture
def real(real_bytes: bytes) -> ParseResult:
    return parse(real_bytes)


@pytest.fixture
def raw(real_bytes: bytes) -> list[dict[str, Any]]:
    return json.loads(real_bytes, parse_float=Decimal)


def _records(result: ParseResult, provider: str, model_id: str) -> list[PriceRecord]:
    return [r for r in result.records if r.provider_key == provider and r.source_model_id == model_id]


def _raw_model(raw: list[dict[str, Any]], provider: str, model_id: str) -> dict[str, Any]:
    (provider_doc,) = [p for p in raw if p["id"] == provider]
    (model,) = [m for m in provider_doc["models"] if m["id"] == model_id]
    return model


def _doc(*models: Any, provider: str = "acme") -> bytes:
    return json.dumps([{"id": provider, "name": provider.title(), "models": list(models)}]).encode()


def _model(model_id: str, prices: Any) -> dict[str, Any]:
    return {"id": model_id, "name": model_id.title(), "match": {"equals": model_id}, "prices": prices}


def _only_reject(result: ParseResult) -> Reject:
    (reject,) = result.rejects
    return reject


# --- the real snapshot -------------------------------------------------------


@pytest.mark.parametrize("name", [REAL_FILE])
def test_it_parses_the_real_file_without_rejects(shared_data: Path, name: str) -> None:
    data = (shared_data / "genai-prices" / name).read_bytes()
    raw = json.loads(data, parse_float=Decimal)
    result = parse(data)

    assert result.rejects == []
    assert result.observed_at is None
    # 1466 models + 15 extra list entries = 1481 price entries, + 25 long-context tier records
    assert sum(len(p["models"]) for p in raw) == 1466
    assert len(result.records) == 1506
    assert {r.provider_key for r in result.records} == {p["id"] for p in raw}
    assert len({r.provider_key for r in result.records}) == 36
    raw_keys = {(p["id"], m["id"]) for p in raw for m in p["models"]}
    assert {(r.provider_key, r.source_model_id) for r in result.records} == raw_keys
    for record in result.records:
        assert isinstance(record, PriceRecord)
        assert record.stated_dates is True
        assert record.service_tier in ("standard", OFF_PEAK)
        for price in (
            record.input_usd_per_mtok,
            record.output_usd_per_mtok,
            record.cached_input_usd_per_mtok,
            record.cache_write_usd_per_mtok,
            record.reasoning_usd_per_mtok,
            *(unit.usd_per_unit for unit in record.unit_prices),
        ):
            if price is not None:
                assert isinstance(price, Decimal)
                assert Decimal(0) <= price <= MAX_USD_PER_MTOK
                assert "E" not in str(price)
        if record.effective_from and record.effective_to:
            assert record.effective_from < record.effective_to


def test_it_counts_the_real_labels_and_tiers(real: ParseResult) -> None:
    labels = [r.price_label for r in real.records]
    assert labels.count(LABEL_UNKNOWN) == 157  # "prices": {} (mostly ":free" ids)
    assert labels.count(LABEL_FREE) == 0  # genai-prices forbids 0 prices
    tiers = sorted(r.min_prompt_tokens for r in real.records if r.min_prompt_tokens)
    assert tiers == [128_000] * 6 + [200_000] * 8 + [272_000] * 10 + [512_000]
    assert sorted(r.source_model_id for r in real.records if r.service_tier == OFF_PEAK) == [
        "deepseek-chat",
        "deepseek-reasoner",
    ]


def test_it_yields_no_overlapping_intervals_per_offering(real: ParseResult) -> None:
    by_offering: dict[tuple[str, str, str, int], list[PriceRecord]] = {}
    for r in real.records:
        key = (r.provider_key, r.source_model_id, r.service_tier, r.min_prompt_tokens)
        by_offering.setdefault(key, []).append(r)
    for records in by_offering.values():
        ordered = sorted(records, key=lambda r: (r.effective_from is not None, r.effective_from or date.min))
        for earlier, later in pairwise(ordered):
            assert earlier.effective_to is not None
            assert later.effective_from is not None
            assert earlier.effective_to <= later.effective_from


def test_it_reads_a_dated_price_history(real: ParseResult, raw: list[dict[str, Any]]) -> None:
    raw_o3 = _raw_model(raw, "openai", "o3")["prices"]
    assert raw_o3[1]["constraint"] == {"start_date": "2025-06-10"}

    before, after = _records(real, "openai", "o3")
    assert (before.effective_from, before.effective_to) == (None, date(2025, 6, 10))
    assert (before.input_usd_per_mtok, before.output_usd_per_mtok) == (Decimal(10), Decimal(40))
    assert (after.effective_from, after.effective_to) == (date(2025, 6, 10), None)
    assert (after.input_usd_per_mtok, after.output_usd_per_mtok) == (Decimal(2), Decimal(8))
    assert before.cached_input_usd_per_mtok == after.cached_input_usd_per_mtok == Decimal("0.5")


def test_it_agrees_with_llm_prices_on_claude_sonnet_5_future_change(real: ParseResult, shared_data: Path) -> None:
    before, after = _records(real, "anthropic", "claude-sonnet-5")
    assert before.effective_to == after.effective_from == date(2026, 9, 1)
    assert (before.input_usd_per_mtok, after.input_usd_per_mtok) == (Decimal(2), Decimal(3))
    assert (before.cache_write_usd_per_mtok, after.cache_write_usd_per_mtok) == (
        Decimal("2.5"),
        Decimal("3.75"),
    )

    other = llm_prices.parse((shared_data / "llm-prices" / "anthropic.json").read_bytes())
    simonw = [r for r in other.records if r.source_model_id == "claude-sonnet-5"]
    assert [(r.effective_from, r.effective_to, r.input_usd_per_mtok, r.output_usd_per_mtok) for r in simonw] == [
        (r.effective_from, r.effective_to, r.input_usd_per_mtok, r.output_usd_per_mtok) for r in (before, after)
    ]


def test_it_splits_the_tiered_claude_price_above_200k(real: ParseResult, raw: list[dict[str, Any]]) -> None:
    raw_opus = _raw_model(raw, "anthropic", "claude-opus-4-6")["prices"]
    assert raw_opus[0]["prices"]["input_mtok"] == {"base": 5, "tiers": [{"start": 200000, "price": 10}]}

    base, above, later = _records(real, "anthropic", "claude-opus-4-6")
    assert (base.min_prompt_tokens, above.min_prompt_tokens, later.min_prompt_tokens) == (0, 200_000, 0)
    assert (base.input_usd_per_mtok, base.output_usd_per_mtok) == (Decimal(5), Decimal(25))
    assert (above.input_usd_per_mtok, above.output_usd_per_mtok) == (Decimal(10), Decimal("37.5"))
    assert (above.cached_input_usd_per_mtok, above.cache_write_usd_per_mtok) == (Decimal(1), Decimal("12.5"))
    # the tiered 1-hour cache write follows its tier; the flat web-search price is repeated
    assert above.unit_prices == (
        UnitPrice("cache_write_1h_mtok", "mtok_text", Decimal(20)),
        UnitPrice("web_searches_kcount", "1k_web_searches", Decimal(10)),
    )
    assert base.unit_prices == (
        UnitPrice("cache_write_1h_mtok", "mtok_text", Decimal(10)),
        UnitPrice("web_searches_kcount", "1k_web_searches", Decimal(10)),
    )
    # the long-context premium ends when the flat 2026-03-13 price starts
    assert base.effective_to == above.effective_to == later.effective_from == date(2026, 3, 13)
    assert (later.input_usd_per_mtok, later.effective_to) == (Decimal(5), None)


def test_it_splits_a_tier_that_starts_with_a_dated_price(real: ParseResult) -> None:
    flat, base, above = _records(real, "aws", "openai.gpt-5.6-luna")
    assert (flat.min_prompt_tokens, flat.effective_to, flat.input_usd_per_mtok) == (
        0,
        date(2026, 7, 30),
        Decimal("1.1"),
    )
    assert (base.min_prompt_tokens, base.effective_from, base.input_usd_per_mtok) == (
        0,
        date(2026, 7, 30),
        Decimal("0.22"),
    )
    assert (above.min_prompt_tokens, above.effective_from, above.input_usd_per_mtok) == (
        272_000,
        date(2026, 7, 30),
        Decimal("0.44"),
    )
    assert above.output_usd_per_mtok == Decimal("1.98")


def test_it_marks_the_cheaper_side_of_the_deepseek_time_window_off_peak(
    real: ParseResult, raw: list[dict[str, Any]], shared_data: Path
) -> None:
    raw_prices = _raw_model(raw, "deepseek", "deepseek-chat")["prices"]
    assert raw_prices[1]["constraint"] == {"start_time": "00:30:00Z", "end_time": "16:30:00Z"}

    by_tier = {r.service_tier: r for r in _records(real, "deepseek", "deepseek-chat")}
    assert set(by_tier) == {"standard", OFF_PEAK}
    # the windowed (00:30-16:30 UTC) entry is the dearer list price ...
    standard = by_tier["standard"]
    assert (standard.input_usd_per_mtok, standard.output_usd_per_mtok, standard.cached_input_usd_per_mtok) == (
        Decimal("0.27"),
        Decimal("1.1"),
        Decimal("0.07"),
    )
    # ... and the unconstrained entry is the half-price night rate
    off_peak = by_tier[OFF_PEAK]
    assert (off_peak.input_usd_per_mtok, off_peak.output_usd_per_mtok, off_peak.cached_input_usd_per_mtok) == (
        Decimal("0.135"),
        Decimal("0.55"),
        Decimal("0.035"),
    )
    assert (off_peak.effective_from, off_peak.effective_to) == (None, None)
    assert (standard.effective_from, standard.effective_to) == (None, None)

    # simonw/llm-prices' current deepseek-chat price is the standard one
    other = llm_prices.parse((shared_data / "llm-prices" / "deepseek.json").read_bytes())
    (current,) = [r for r in other.records if r.source_model_id == "deepseek-chat" and r.effective_to is None]
    assert (current.input_usd_per_mtok, current.output_usd_per_mtok) == (
        standard.input_usd_per_mtok,
        standard.output_usd_per_mtok,
    )


def test_it_maps_requests_kcount_to_a_unit_price(real: ParseResult) -> None:
    (sonar,) = _records(real, "perplexity", "sonar")
    assert sonar.unit_prices == (UnitPrice("requests_kcount", "1k_requests", Decimal(12)),)
    assert (sonar.input_usd_per_mtok, sonar.output_usd_per_mtok) == (Decimal(1), Decimal(1))

    (deep,) = _records(real, "perplexity", "sonar-deep-research")
    assert deep.reasoning_usd_per_mtok == Decimal(3)
    assert deep.unit_prices == (
        UnitPrice("output_citation_mtok", "mtok_text", Decimal(2)),
        UnitPrice("web_searches_kcount", "1k_web_searches", Decimal(5)),
    )


def test_it_keeps_other_modalities_out_of_the_text_columns(real: ParseResult) -> None:
    (live,) = _records(real, "google", "gemini-3.1-flash-live-preview")
    assert (live.input_usd_per_mtok, live.output_usd_per_mtok) == (Decimal("0.75"), Decimal("4.5"))
    assert live.cached_input_usd_per_mtok is None
    assert live.unit_prices == (
        UnitPrice("input_audio_mtok", "mtok_audio", Decimal(3)),  # JSON int 3
        UnitPrice("input_image_mtok", "mtok_image", Decimal(1)),
        UnitPrice("input_video_mtok", "mtok_video", Decimal(1)),
        UnitPrice("output_audio_mtok", "mtok_audio", Decimal(12)),
    )


def test_it_keeps_ints_and_floats_exact(real: ParseResult) -> None:
    (embedding,) = _records(real, "google", "gemini-embedding-2")
    assert str(embedding.input_usd_per_mtok) == "0.2"
    assert [(u.name, str(u.usd_per_unit)) for u in embedding.unit_prices] == [
        ("input_audio_mtok", "6.5"),
        ("input_image_mtok", "0.45"),
        ("input_video_mtok", "12"),
    ]
    (terra_flat, *_) = _records(real, "aws", "openai.gpt-5.6-terra")
    assert str(terra_flat.cache_write_usd_per_mtok) == "3.4375"


def test_it_labels_empty_prices_unknown(real: ParseResult, raw: list[dict[str, Any]]) -> None:
    assert _raw_model(raw, "openai", "moderation")["prices"] == {}
    (moderation,) = _records(real, "openai", "moderation")
    assert moderation.price_label == LABEL_UNKNOWN
    assert (moderation.input_usd_per_mtok, moderation.output_usd_per_mtok, moderation.unit_prices) == (
        None,
        None,
        (),
    )


# --- synthetic bad files -----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'[{"id": "openai", "models": [{"id": "gpt-4o", "prices": {"input_mtok": 2.5', "not valid JSON"),
        (b"<html><head><title>404 Not Found</title></head></html>", "the file is HTML"),
        (b'{"providers": []}', "expected a JSON array at the top level, got dict"),
        (b"42", "expected a JSON array at the top level, got int"),
        (b'[{"id": "\xc3\x28"}]', "not UTF-8"),
    ],
)
def test_it_raises_one_clear_parse_error_for_an_unreadable_file(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(data)
    assert message in str(info.value)


# --- synthetic rows ----------------------------------------------------------


def test_it_rejects_bad_rows_and_keeps_the_good_ones() -> None:
    result = parse(
        _doc(
            _model("good", {"input_mtok": 2.5, "output_mtok": 10}),
            _model("negative", {"input_mtok": -1, "output_mtok": 10}),
            _model("absurd", {"input_mtok": 1, "output_mtok": 10001}),
            _model("stringly", {"input_mtok": "2.5"}),
            _model("unknown-key", {"input_mtok": 1, "input_smell_mtok": 3}),
            _model("tiered-requests", {"requests_kcount": {"base": 1, "tiers": [{"start": 5, "price": 2}]}}),
            _model("bad-tier", {"input_mtok": {"base": 1, "tiers": [{"start": 0, "price": 2}]}}),
            _model("tier-string", {"input_mtok": {"base": 1, "tiers": [{"start": 10, "price": "2"}]}}),
            _model("negative-requests", {"requests_kcount": -5}),
            _model("no-prices", None),
            {"name": "no id", "prices": {}},
            "not a model",
            _model("also-good", {"input_mtok": 1, "output_mtok": 2}),
        )
    )
    assert [r.source_model_id for r in result.records] == ["good", "also-good"]
    assert result.records[0].input_usd_per_mtok == Decimal("2.5")
    assert {r.locator: r.reason for r in result.rejects} == {
        "acme/negative prices": "input_mtok is negative (-1 USD per 1M tokens)",
        "acme/absurd prices": "output_mtok is absurd (10001 USD per 1M tokens, above 10000)",
        "acme/stringly prices": "input_mtok is not a number ('2.5')",
        "acme/unknown-key prices": "unknown price key 'input_smell_mtok' (its unit is not known)",
        "acme/tiered-requests prices": "requests_kcount cannot be tiered",
        "acme/bad-tier prices": "input_mtok tiers[0] start is not a positive whole number of tokens (0)",
        "acme/tier-string prices": "input_mtok tiers[0] price is not a number ('2')",
        "acme/negative-requests prices": "requests_kcount is negative (-5 USD per 1,000 requests)",
        "acme/no-prices": "prices is missing, empty, or neither an object nor a list",
        "acme models[10]": "the model has no id string",
        "acme models[11]": "the model is not a JSON object",
    }
    negative = next(r for r in result.rejects if r.locator == "acme/negative prices")
    assert json.loads(negative.raw_excerpt) == {"prices": {"input_mtok": -1, "output_mtok": 10}}


def test_it_rejects_a_bad_list_entry_by_index_and_keeps_the_rest() -> None:
    result = parse(
        _doc(
            _model(
                "m",
                [
                    {"prices": {"input_mtok": 1}},
                    {"constraint": {"start_date": "2025-13-01"}, "prices": {"input_mtok": 2}},
                    {"constraint": {"start_date": "2025-05-01"}, "prices": {"input_mtok": -2}},
                    {"constraint": {"start_date": "2025-06-01"}, "prices": {"input_mtok": 3}},
                    {"constraint": {"start_date": "2025-06-01"}, "prices": {"input_mtok": 4}},
                    {"prices": {"input_mtok": 5}},
                    {"constraint": {"region": "eu"}, "prices": {"input_mtok": 6}},
                    "junk",
                ],
            )
        )
    )
    assert [(r.input_usd_per_mtok, r.effective_from, r.effective_to) for r in result.records] == [
        (Decimal(1), None, date(2025, 6, 1)),
        (Decimal(3), date(2025, 6, 1), None),
    ]
    assert [(r.locator, r.reason) for r in result.rejects] == [
        ("acme/m prices[1]", "start_date is not a valid date ('2025-13-01')"),
        ("acme/m prices[2]", "input_mtok is negative (-2 USD per 1M tokens)"),
        ("acme/m prices[6]", "the constraint has unknown keys ['region']"),
        ("acme/m prices[7]", 'the entry is not an object with a "prices" object'),
        ("acme/m prices[4]", "start_date 2025-06-01 repeats prices[3]"),
        ("acme/m prices[5]", "a second entry without a constraint (prices[0] already has none)"),
    ]


def test_it_sorts_dated_entries_and_chains_their_intervals() -> None:
    result = parse(
        _doc(
            _model(
                "m",
                [
                    {"prices": {"input_mtok": 1, "output_mtok": 2}},
                    {"constraint": {"start_date": "2026-01-01"}, "prices": {"input_mtok": 3, "output_mtok": 4}},
                    {"constraint": {"start_date": "2025-01-01"}, "prices": {"input_mtok": 2, "output_mtok": 3}},
                ],
            )
        )
    )
    assert result.rejects == []
    assert [(r.effective_from, r.effective_to, r.input_usd_per_mtok) for r in result.records] == [
        (None, date(2025, 1, 1), Decimal(1)),
        (date(2025, 1, 1), date(2026, 1, 1), Decimal(2)),
        (date(2026, 1, 1), None, Decimal(3)),
    ]


def test_it_gives_each_tier_start_its_own_record_with_flat_parts_kept() -> None:
    prices = {
        "input_mtok": {"base": 1, "tiers": [{"start": 200_000, "price": 3}, {"start": 128_000, "price": 2}]},
        "output_mtok": {"base": 10, "tiers": [{"start": 200_000, "price": 15}]},
        "cache_read_mtok": 0.1,
        "requests_kcount": 5,
    }
    result = parse(_doc(_model("m", prices)))
    assert result.rejects == []
    rows = [
        (
            r.min_prompt_tokens,
            r.input_usd_per_mtok,
            r.output_usd_per_mtok,
            r.cached_input_usd_per_mtok,
            r.unit_prices,
        )
        for r in result.records
    ]
    requests = (UnitPrice("requests_kcount", "1k_requests", Decimal(5)),)
    assert rows == [
        (0, Decimal(1), Decimal(10), Decimal("0.1"), requests),
        (128_000, Decimal(2), Decimal(10), Decimal("0.1"), requests),
        (200_000, Decimal(3), Decimal(15), Decimal("0.1"), requests),
    ]


def test_it_marks_a_cheaper_time_window_off_peak() -> None:
    prices = [
        {"prices": {"input_mtok": 1, "output_mtok": 4}},
        {"constraint": {"start_time": "16:30:00Z", "end_time": "23:59:59Z"}, "prices": {"input_mtok": 0.5}},
    ]
    result = parse(_doc(_model("m", prices)))
    assert [(r.service_tier, r.input_usd_per_mtok, r.output_usd_per_mtok) for r in result.records] == [
        ("standard", Decimal(1), Decimal(4)),
        (OFF_PEAK, Decimal("0.5"), None),
    ]


def test_it_rejects_a_time_window_it_cannot_classify() -> None:
    prices = [
        {"prices": {"input_mtok": 1, "output_mtok": 4}},
        {
            "constraint": {"start_time": "00:30:00Z", "end_time": "16:30:00Z"},
            "prices": {"input_mtok": 2, "output_mtok": 3},
        },
        {"constraint": {"start_time": "25:00", "end_time": "16:30:00Z"}, "prices": {"input_mtok": 2}},
    ]
    result = parse(_doc(_model("m", prices)))
    assert [(r.service_tier, r.input_usd_per_mtok) for r in result.records] == [("standard", Decimal(1))]
    assert [(r.locator, r.reason) for r in result.rejects] == [
        ("acme/m prices[2]", "start_time is not a time of day with a time zone ('25:00')"),
        (
            "acme/m prices[1]",
            "cannot tell the off-peak side: the time-of-day prices are neither all lower nor all higher "
            "than the unconstrained prices[0]",
        ),
    ]


def test_it_labels_all_zero_prices_free_and_empty_prices_unknown() -> None:
    result = parse(
        _doc(
            _model("gratis", {"input_mtok": 0, "output_mtok": 0}),
            _model("blank", {}),
            _model("cheap", {"input_mtok": 0, "output_mtok": 0, "requests_kcount": 1}),
        )
    )
    assert [(r.source_model_id, r.price_label) for r in result.records] == [
        ("gratis", LABEL_FREE),
        ("blank", LABEL_UNKNOWN),
        ("cheap", ""),
    ]


def test_it_collapses_an_identical_duplicate_and_rejects_a_conflicting_one() -> None:
    result = parse(
        _doc(
            _model("m", {"input_mtok": 1}),
            _model("m", {"input_mtok": 1}),
            _model("m", {"input_mtok": 2}),
            _model("h", [{"prices": {"input_mtok": 1}}]),
            _model("h", [{"prices": {"input_mtok": 1}}, {"constraint": {"start_date": "2026-01-01"}, "prices": {}}]),
        )
    )
    assert [(r.source_model_id, r.input_usd_per_mtok) for r in result.records] == [
        ("m", Decimal(1)),
        ("h", Decimal(1)),
    ]
    assert [(r.locator, r.reason) for r in result.rejects] == [
        ("acme models[2] m", "duplicate of models[0] with different prices; the first one is kept"),
        ("acme models[4] h", "duplicate of models[3] with different prices; the first one is kept"),
    ]


def test_it_rejects_a_provider_without_models_and_keeps_the_others() -> None:
    data = json.dumps(
        [
            {"id": "broken", "models": "nope"},
            {"name": "no id", "models": []},
            ["not", "a", "provider"],
            {"id": "ok", "models": [_model("m", {"input_mtok": 1})]},
        ]
    ).encode()
    result = parse(data)
    assert [(r.provider_key, r.source_model_id) for r in result.records] == [("ok", "m")]
    assert [(r.locator, r.reason) for r in result.rejects] == [
        ("[0] broken", "the provider has no models list"),
        ("[1]", "the provider has no id string"),
        ("[2]", "the provider is not a JSON object"),
    ]
