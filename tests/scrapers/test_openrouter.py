"""Tests for scrapers.openrouter against every real snapshot and synthetic bad input."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scrapers import openrouter
from scrapers.records import (
    LABEL_FREE,
    LABEL_VARIABLE,
    MAX_USD_PER_MTOK,
    TOKEN_PRICE_FIELDS,
    ParseError,
    ParseResult,
    PriceRecord,
    UnitPrice,
)

OCT = "openrouter_models_2025-10-02_ia-uyhcire.json"
LLMTRACKER = "openrouter_models_2026-01-11_llmtracker-cac6092.json"
TOKEN_TARIFF = "openrouter_models_2026-08-01_token-tariff-90407eb.json"

# file -> (models per MANIFEST, records, rejects, router ids priced "-1")
FILES = {
    OCT: (331, 331, 0, {"openrouter/auto"}),
    "openrouter_models_2025-11-08_ia-uyhcire.json": (341, 341, 0, {"openrouter/auto"}),
    "openrouter_models_2025-12-06_ia-uyhcire.json": (318, 318, 0, {"openrouter/auto"}),
    LLMTRACKER: (349, 349, 0, {"openrouter/auto", "openrouter/bodybuilder"}),
    TOKEN_TARIFF: (
        336,
        385,
        0,
        {
            "openrouter/auto",
            "openrouter/auto-beta",
            "openrouter/bodybuilder",
            "openrouter/fusion",
            "openrouter/pareto-code",
        },
    ),
}
COLUMNS = TOKEN_PRICE_FIELDS

@cache
def parsed(shared_data: Path, name: str) -> ParseResult:
    # Parsing is deterministic; share one result per file across tests.
    return openrouter.parse((shared_data / "openrouter" / name).read_bytes())


def raw_models(shared_data: Path, name: str) -> list[dict[str, Any]]:
    return json.loads((shared_data / "openrouter" / name).read_bytes())["data"]


def tiers_of(result: ParseResult, model_id: str) -> dict[int, PriceRecord]:
    found = {r.min_prompt_tokens: r for r in result.records if r.source_model_id == model_id}
    assert found, f"no record for {model_id}"
    return found


def units(record: PriceRecord) -> dict[str, UnitPrice]:
    return {u.name: u for u in record.unit_prices}


def document(*models: Any, **wrapper: Any) -> bytes:
    return json.dumps({**wrapper, "data": list(models)}).encode()


def model(model_id: Any = "acme/m", **pricing: Any) -> dict[str, Any]:
    return {"id": model_id, "name": "Acme M", "context_length": 8192, "pricing": pricing}


# --- every real file -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_turns_every_model_into_one_base_record(shared_data, name):
    models, n_records, n_rejects, _ = FILES[name]
    result = parsed(shared_data, name)
    base = [r for r in result.records if r.min_prompt_tokens == 0]
    assert len(base) == models == len(raw_models(shared_data, name))
    assert [r.source_model_id for r in base] == [m["id"] for m in raw_models(shared_data, name)]
    assert (len(result.records), len(result.rejects)) == (n_records, n_rejects)


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_keeps_every_record_typed_and_within_bounds(shared_data, name):
    offerings = set()
    for record in parsed(shared_data, name).records:
        assert record.provider_key == "openrouter"
        assert record.service_tier == "standard"
        assert record.region == ""
        assert record.model_name
        for column in COLUMNS:
            value = getattr(record, column)
            assert value is None or (isinstance(value, Decimal) and 0 <= value <= MAX_USD_PER_MTOK)
        for unit_price in record.unit_prices:
            assert unit_price.usd_per_unit > 0  # "0" placeholders are dropped
        assert type(record.max_input_tokens) is int
        offering = (record.source_model_id, record.min_prompt_tokens)
        assert offering not in offerings
        offerings.add(offering)


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_converts_every_prompt_and_completion_price_exactly(shared_data, name):
    result = parsed(shared_data, name)
    base = {r.source_model_id: r for r in result.records if r.min_prompt_tokens == 0}
    for raw in raw_models(shared_data, name):
        record = base[raw["id"]]
        for key, column in (("prompt", "input_usd_per_mtok"), ("completion", "output_usd_per_mtok")):
            text = raw["pricing"][key]
            expected = None if text == "-1" else Decimal(text) * 1_000_000
            assert getattr(record, column) == expected, (raw["id"], key)


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_labels_the_minus_one_routers_variable_with_no_token_prices(shared_data, name):
    routers = FILES[name][3]
    result = parsed(shared_data, name)
    variable = {r.source_model_id for r in result.records if r.price_label == LABEL_VARIABLE}
    assert variable == routers
    for record in result.records:
        if record.source_model_id in routers:
            assert all(getattr(record, column) is None for column in COLUMNS)


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_labels_every_free_variant_free(shared_data, name):
    result = parsed(shared_data, name)
    free_ids = [m["id"] for m in raw_models(shared_data, name) if m["id"].endswith(":free")]
    assert free_ids
    by_id = {r.source_model_id: r for r in result.records}
    for model_id in free_ids:
        record = by_id[model_id]
        assert record.price_label == LABEL_FREE
        assert record.input_usd_per_mtok == Decimal(0)
        assert record.unit_prices == ()


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_takes_max_output_tokens_from_the_top_provider(shared_data, name):
    base = {r.source_model_id: r for r in parsed(shared_data, name).records if r.min_prompt_tokens == 0}
    for raw in raw_models(shared_data, name):
        assert base[raw["id"]].max_output_tokens == raw["top_provider"]["max_completion_tokens"]
        assert base[raw["id"]].max_input_tokens == raw["context_length"]


# --- exact values ---------------------------------------------------------------


def test_it_reads_the_llmtracker_wrapper_and_its_fetched_at(shared_data):
    result = parsed(shared_data, LLMTRACKER)
    assert result.observed_at == datetime(2026, 1, 11, 18, 3, 32, 31362, tzinfo=UTC)
    assert len(result.records) == 349


def test_it_reads_the_token_tariff_wrapper_without_a_time(shared_data):
    assert parsed(shared_data, TOKEN_TARIFF).observed_at is None
    assert parsed(shared_data, OCT).observed_at is None


def test_it_gives_gpt_4o_exact_prices_and_a_per_image_price(shared_data):
    record = tiers_of(parsed(shared_data, OCT), "openai/gpt-4o")[0]
    assert record.model_name == "OpenAI: GPT-4o"
    assert record.input_usd_per_mtok == Decimal("2.5")
    assert str(record.input_usd_per_mtok) == "2.5"
    assert str(record.output_usd_per_mtok) == "10"
    assert record.cached_input_usd_per_mtok == Decimal("1.25")
    assert (record.max_input_tokens, record.max_output_tokens) == (128000, 16384)
    # "request": "0", "web_search": "0" are placeholders, not prices
    assert record.unit_prices == (UnitPrice("image", "image", Decimal("0.003613")),)
    # "internal_reasoning": "0" means "billed as completion", not "free"
    assert record.reasoning_usd_per_mtok is None
    assert record.price_label == ""


def test_it_keeps_a_separately_priced_reasoning_token(shared_data):
    record = tiers_of(parsed(shared_data, OCT), "perplexity/sonar-deep-research")[0]
    assert record.reasoning_usd_per_mtok == Decimal("3")
    assert units(record)["web_search"] == UnitPrice("web_search", "search", Decimal("0.005"))


def test_it_keeps_a_per_request_price(shared_data):
    record = tiers_of(parsed(shared_data, OCT), "perplexity/sonar")[0]
    assert record.unit_prices == (UnitPrice("request", "request", Decimal("0.005")),)
    assert record.max_output_tokens is None


def test_it_reads_the_2026_unit_price_keys_per_million_tokens(shared_data):
    result = parsed(shared_data, TOKEN_TARIFF)
    opus = tiers_of(result, "anthropic/claude-opus-5")[0]
    assert opus.cache_write_usd_per_mtok == Decimal("6.25")
    assert units(opus)["input_cache_write_1h"] == UnitPrice("input_cache_write_1h", "1m_tokens", Decimal("10"))
    audio = units(tiers_of(result, "openai/gpt-audio")[0])
    assert audio["audio"] == UnitPrice("audio", "1m_audio_tokens", Decimal("32"))
    assert audio["audio_output"] == UnitPrice("audio_output", "1m_audio_tokens", Decimal("64"))
    image = tiers_of(result, "google/gemini-2.5-flash-image")[0]
    assert units(image)["image_output"] == UnitPrice("image_output", "1m_image_tokens", Decimal("30"))
    assert units(image)["input_audio_cache"].usd_per_unit == Decimal("0.1")
    assert image.cache_write_usd_per_mtok == Decimal("0.08333333333333334")  # exact to the last digit


def test_it_emits_override_tiers_with_their_own_prices(shared_data):
    tiers = tiers_of(parsed(shared_data, TOKEN_TARIFF), "qwen/qwen3.7-flash")
    assert sorted(tiers) == [0, 32_000, 256_000]
    assert tiers[0].input_usd_per_mtok == Decimal("0.03")
    mid = tiers[32_000]
    assert (mid.input_usd_per_mtok, mid.output_usd_per_mtok) == (Decimal("0.1"), Decimal("0.4"))
    assert (mid.cached_input_usd_per_mtok, mid.cache_write_usd_per_mtok) == (Decimal("0.02"), Decimal("0.125"))
    top = tiers[256_000]
    assert (top.input_usd_per_mtok, top.output_usd_per_mtok) == (Decimal("0.2"), Decimal("0.8"))
    assert top.model_name == tiers[0].model_name
    assert top.max_input_tokens == tiers[0].max_input_tokens


def test_it_does_not_copy_base_prices_into_an_override_tier(shared_data):
    tiers = tiers_of(parsed(shared_data, TOKEN_TARIFF), "google/gemini-3.1-pro-preview")
    assert tiers[0].reasoning_usd_per_mtok == Decimal("12")
    assert tiers[0].cache_write_usd_per_mtok == Decimal("0.375")
    long = tiers[200_000]
    assert long.output_usd_per_mtok == Decimal("18")
    assert long.reasoning_usd_per_mtok is None
    assert long.cache_write_usd_per_mtok is None
    assert units(long) == {
        "audio": UnitPrice("audio", "1m_audio_tokens", Decimal("4")),
        "input_audio_cache": UnitPrice("input_audio_cache", "1m_audio_tokens", Decimal("0.4")),
    }


def test_it_counts_the_override_tiers_of_the_2026_snapshot(shared_data):
    raw_count = sum(len(m["pricing"].get("overrides", [])) for m in raw_models(shared_data, TOKEN_TARIFF))
    tiers = [r for r in parsed(shared_data, TOKEN_TARIFF).records if r.min_prompt_tokens > 0]
    assert len(tiers) == raw_count == 49


def test_it_makes_immutable_records(shared_data):
    record = tiers_of(parsed(shared_data, OCT), "openai/gpt-4o")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.price_label = LABEL_FREE  # type: ignore[misc]


# --- synthetic bad input ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"data": [{"id": "a/b", "pricing": {"prompt": "0.000001"', "not valid JSON"),
        (b"<html><head><title>429 Too Many Requests</title></head></html>", "the file is HTML"),
        (b'[{"id": "a/b"}]', "expected a JSON object at the top level, got list"),
        (b'{"data": ["\xc3\x28"]}', "not UTF-8"),
        (b'{"models": []}', 'expected a "data" list of models'),
        (b'{"data": {"id": "a/b"}}', 'expected a "data" list of models'),
    ],
)
def test_it_refuses_an_unreadable_file_with_one_clear_error(data, message):
    with pytest.raises(ParseError, match=message):
        openrouter.parse(data)


def test_it_rejects_bad_models_and_keeps_the_good_ones():
    data = document(
        model("ok/model", prompt="0.0000025", completion="0.00001"),
        {"name": "no id", "pricing": {"prompt": "0"}},
        model("bad/text", prompt="abc", completion="0.00001"),
        model("bad/negative", prompt="-0.5", completion="0.00001"),
        model("bad/absurd", prompt="5", completion="0.00001"),
        model("bad/number-type", prompt=[1], completion="0"),
        {"id": "bad/no-pricing"},
        "not a model",
        model("ok/model", prompt="0.000001", completion="0.000001"),
        model("bad/override", prompt="0.000001", overrides=[{"min_prompt_tokens": 0, "prompt": "0.000002"}]),
        model("bad/override-price", prompt="0.000001", overrides=[{"min_prompt_tokens": 1000, "prompt": "x"}]),
    )
    result = openrouter.parse(data)
    assert [(r.source_model_id, r.input_usd_per_mtok) for r in result.records] == [("ok/model", Decimal("2.5"))]
    assert {r.locator: r.reason for r in result.rejects} == {
        "data[1]": "the model has no id",
        "bad/text": "pricing.prompt is not a number ('abc')",
        "bad/negative": "pricing.prompt is negative ('-0.5')",
        "bad/absurd": "pricing.prompt is absurd (5000000 USD per 1M tokens, at or above 10000)",
        "bad/number-type": "pricing.prompt is not a number ([1])",
        "bad/no-pricing": "pricing is missing or not an object",
        "data[7]": "the model is a str, not an object",
        "ok/model": "duplicate id (again at data[8])",
        "bad/override": "pricing.overrides[0].min_prompt_tokens is not a new positive whole number (0)",
        "bad/override-price": "pricing.overrides[0].prompt is not a number ('x')",
    }
    absurd = next(r for r in result.rejects if r.locator == "bad/absurd")
    assert '"prompt": "5"' in absurd.raw_excerpt


def test_it_marks_a_single_minus_one_component_variable():
    result = openrouter.parse(document(model("r/partial", prompt="0.000001", completion="-1")))
    (record,) = result.records
    assert record.input_usd_per_mtok == Decimal("1")
    assert record.output_usd_per_mtok is None
    assert record.price_label == LABEL_VARIABLE


def test_it_accepts_a_wrapper_with_a_naive_fetched_at_as_utc_and_flags_a_bad_one():
    naive = openrouter.parse(document(model(prompt="0", completion="0"), fetched_at="2026-01-11T18:03:32"))
    assert naive.observed_at == datetime(2026, 1, 11, 18, 3, 32, tzinfo=UTC)
    assert naive.records[0].price_label == LABEL_FREE
    bad = openrouter.parse(document(model(prompt="0", completion="0"), fetched_at=12))
    assert bad.observed_at is None
    assert [(r.locator, r.reason) for r in bad.rejects] == [("fetched_at", "fetched_at is not an ISO timestamp")]


def test_it_does_not_call_a_zero_token_model_with_a_paid_request_free():
    (record,) = openrouter.parse(document(model(prompt="0", completion="0", request="0.005"))).records
    assert record.input_usd_per_mtok == Decimal(0)
    assert record.price_label == ""
    assert record.unit_prices == (UnitPrice("request", "request", Decimal("0.005")),)
