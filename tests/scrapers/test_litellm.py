"""Tests for scrapers.litellm against every real snapshot and synthetic bad input."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scrapers import litellm
from scrapers.gcpause import collections_paused
from scrapers.records import (
    LABEL_FREE,
    LABEL_UNKNOWN,
    MAX_USD_PER_MTOK,
    SERVICE_TIERS,
    TOKEN_PRICE_FIELDS,
    ParseError,
    ParseResult,
    PriceRecord,
    UnitPrice,
)

NEWEST = "model_prices_2026-07-24_rocry-8442b93.json"
RAW_UPSTREAM = "model_prices_2025-02-06_rocry-b094ffe.json"
TOKENCOST_2024_09 = "model_prices_2024-09-23_tokencost-50ea0a0.json"

# file -> (entries per MANIFEST incl. skipped keys, skipped keys, records, rejects)
FILES = {
    "model_prices_2024-04-22_tokencost-569280a.json": (338, 0, 339, 0),
    TOKENCOST_2024_09: (598, 1, 619, 0),
    RAW_UPSTREAM: (776, 1, 824, 0),
    "model_prices_2025-05-31_rocry-9716a8b.json": (1049, 2, 1138, 0),
    "model_prices_2025-09-30_rocry-72e074a.json": (1583, 2, 1723, 14),
    "model_prices_2026-01-31_rocry-94b6c3b.json": (2472, 2, 2674, 13),
    NEWEST: (2985, 3, 3383, 13),
}
LAST_UPDATED = {
    "model_prices_2025-05-31_rocry-9716a8b.json": datetime(2025, 5, 31, 22, 6, 56, 632259, tzinfo=UTC),
    "model_prices_2025-09-30_rocry-72e074a.json": datetime(2025, 9, 30, 20, 8, 18, 593334, tzinfo=UTC),
    "model_prices_2026-01-31_rocry-94b6c3b.json": datetime(2026, 1, 31, 3, 0, 46, 628008, tzinfo=UTC),
    NEWEST: datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=UTC),
}
COLUMNS = TOKEN_PRICE_FIELDS

@cache
def parsed(shared_data: Path, name: str) -> ParseResult:
    # Parsing is deterministic; share one result per file across tests.
    return litellm.parse((shared_data / "litellm" / name).read_bytes())


def raw(shared_data: Path, name: str) -> dict[str, Any]:
    return json.loads((shared_data / "litellm" / name).read_bytes(), parse_float=Decimal)


def records_of(result: ParseResult, key: str) -> dict[tuple[str, int], PriceRecord]:
    found = {(r.service_tier, r.min_prompt_tokens): r for r in result.records if r.source_model_id == key}
    assert found, f"no record for {key}"
    return found


def standard(result: ParseResult, key: str) -> PriceRecord:
    return records_of(result, key)[("standard", 0)]


def units(record: PriceRecord) -> dict[str, UnitPrice]:
    return {u.name: u for u in record.unit_prices}


def synthetic(entries: dict[str, Any]) -> bytes:
    return json.dumps(entries).encode()


# --- every real file -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_turns_every_model_entry_into_one_standard_record_or_one_reject(shared_data, name):
    entries, skipped, n_records, n_rejects = FILES[name]
    result = parsed(shared_data, name)
    standards = [r for r in result.records if (r.service_tier, r.min_prompt_tokens) == ("standard", 0)]
    assert len(standards) + len(result.rejects) == entries - skipped
    assert len({r.source_model_id for r in standards}) == len(standards)
    assert (len(result.records), len(result.rejects)) == (n_records, n_rejects)


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_keeps_every_record_typed_and_within_bounds(shared_data, name):
    result = parsed(shared_data, name)
    offerings = set()
    for record in result.records:
        assert isinstance(record, PriceRecord)
        assert record.provider_key and isinstance(record.provider_key, str)
        assert record.service_tier in SERVICE_TIERS
        assert record.price_label in ("", LABEL_FREE, LABEL_UNKNOWN)
        for column in COLUMNS:
            value = getattr(record, column)
            assert value is None or (isinstance(value, Decimal) and 0 <= value <= MAX_USD_PER_MTOK)
        for unit_price in record.unit_prices:
            assert isinstance(unit_price.usd_per_unit, Decimal) and unit_price.usd_per_unit >= 0
            assert unit_price.unit != "unknown", unit_price
        for limit in (record.max_input_tokens, record.max_output_tokens):
            assert limit is None or type(limit) is int
        offering = (record.provider_key, record.source_model_id, record.region)
        offering += (record.service_tier, record.min_prompt_tokens)
        assert offering not in offerings
        offerings.add(offering)


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_converts_every_flat_token_price_exactly(shared_data, name):
    """Cross-check each standard record against the raw per-token numbers."""
    source = raw(shared_data, name)
    result = parsed(shared_data, name)
    rejected = {r.locator for r in result.rejects}
    checked = 0
    for record in result.records:
        if (record.service_tier, record.min_prompt_tokens) != ("standard", 0):
            continue
        entry = source[record.source_model_id]
        for field, column in (("input_cost_per_token", "input_usd_per_mtok"),
                              ("output_cost_per_token", "output_usd_per_mtok"),
                              ("cache_read_input_token_cost", "cached_input_usd_per_mtok")):
            if field in entry:
                assert getattr(record, column) == Decimal(entry[field]) * 1_000_000, (record, field)
                checked += 1
    assert checked > len(result.records) // 2
    assert not rejected & {r.source_model_id for r in result.records}


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_skips_the_documentation_keys_without_rejecting_them(shared_data, name):
    result = parsed(shared_data, name)
    seen = {r.source_model_id for r in result.records} | {r.locator for r in result.rejects}
    assert not seen & litellm.SKIP_KEYS


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_reads_last_updated_as_an_aware_observed_at(shared_data, name):
    assert parsed(shared_data, name).observed_at == LAST_UPDATED.get(name)
    if name in LAST_UPDATED:
        assert parsed(shared_data, name).observed_at.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("name", sorted(FILES))
def test_it_keeps_the_fireworks_size_buckets_with_an_empty_mode(shared_data, name):
    source = raw(shared_data, name)
    buckets = [k for k, v in source.items() if isinstance(v, dict) and k.startswith("fireworks-ai-")]
    result = parsed(shared_data, name)
    for key in buckets:
        assert "mode" not in source[key]
        record = standard(result, key)
        assert record.mode == ""
        assert record.input_usd_per_mtok == Decimal(source[key]["input_cost_per_token"]) * 1_000_000


def test_it_parses_the_newest_file_well_under_a_second(shared_data):
    data = (shared_data / "litellm" / NEWEST).read_bytes()
    assert len(data) > 1_400_000
    # The parser's own CPU time, not the wall clock: two test suites side by side on two cores stretched the wall
    # time of this ~0.07 s parse past 0.5 s, which said nothing about the parser. And with the cyclic collector
    # paused, as the ingest pipeline runs every parser (scrapers/gcpause.py): late in the suite the test process
    # holds millions of objects, and a full collection that happened to start inside the parse made it 0.578 s of
    # CPU (CI, 2026-11-30), the collector's walk over the suite's leftovers, not the parser.
    start = time.process_time()
    with collections_paused():
        result = litellm.parse(data)
    elapsed = time.process_time() - start
    assert len(result.records) == FILES[NEWEST][2]
    assert elapsed < 0.5, f"{elapsed:.3f} s of CPU"


# --- exact values from the newest file ---------------------------------------


def test_it_gives_gpt_4o_exact_prices_per_million_tokens(shared_data):
    tiers = records_of(parsed(shared_data, NEWEST), "gpt-4o")
    record = tiers[("standard", 0)]
    assert record.provider_key == "openai"
    assert record.mode == "chat"
    assert record.input_usd_per_mtok == Decimal("2.5")
    assert str(record.input_usd_per_mtok) == "2.5"  # no exponent, no trailing zeros
    assert str(record.output_usd_per_mtok) == "10"
    assert record.cached_input_usd_per_mtok == Decimal("1.25")
    assert record.cache_write_usd_per_mtok is None
    assert (record.max_input_tokens, record.max_output_tokens) == (128000, 16384)
    assert record.region == ""
    assert record.price_label == ""


def test_it_emits_batch_and_priority_tiers_without_inheriting_components(shared_data):
    tiers = records_of(parsed(shared_data, NEWEST), "gpt-4o")
    assert set(tiers) == {("standard", 0), ("batch", 0), ("priority", 0)}
    batch = tiers[("batch", 0)]
    assert (batch.input_usd_per_mtok, batch.output_usd_per_mtok) == (Decimal("1.25"), Decimal("5"))
    # The source gives no batch cache-read price; the standard one is not copied.
    assert batch.cached_input_usd_per_mtok is None
    priority = tiers[("priority", 0)]
    assert priority.input_usd_per_mtok == Decimal("4.25")
    assert priority.output_usd_per_mtok == Decimal("17")
    assert priority.cached_input_usd_per_mtok == Decimal("2.125")


def test_it_emits_a_flex_tier(shared_data):
    flex = records_of(parsed(shared_data, NEWEST), "gpt-5.6")[("flex", 0)]
    assert flex.input_usd_per_mtok == Decimal("2.5")
    assert flex.output_usd_per_mtok == Decimal("15")
    assert flex.cached_input_usd_per_mtok == Decimal("0.25")
    assert flex.cache_write_usd_per_mtok == Decimal("3.125")


def test_it_emits_an_above_200k_tokens_tier(shared_data):
    tiers = records_of(parsed(shared_data, NEWEST), "gemini-2.5-pro")
    assert set(tiers) == {("standard", 0), ("standard", 200_000)}
    long = tiers[("standard", 200_000)]
    assert long.input_usd_per_mtok == Decimal("2.5")
    assert long.output_usd_per_mtok == Decimal("15")
    assert long.cached_input_usd_per_mtok == Decimal("0.25")
    assert long.cache_write_usd_per_mtok == Decimal("0.25")
    assert tiers[("standard", 0)].input_usd_per_mtok == Decimal("1.25")
    assert tiers[("standard", 0)].cache_write_usd_per_mtok is None


def test_it_combines_a_context_tier_with_a_service_tier(shared_data):
    tiers = records_of(parsed(shared_data, NEWEST), "azure_ai/gpt-5.5")
    assert set(tiers) == {("standard", 0), ("priority", 0), ("standard", 272_000), ("priority", 272_000)}
    both = tiers[("priority", 272_000)]
    assert both.input_usd_per_mtok == Decimal("20")
    assert both.output_usd_per_mtok == Decimal("90")
    assert both.cached_input_usd_per_mtok == Decimal("2")
    assert tiers[("standard", 272_000)].input_usd_per_mtok == Decimal("10")
    assert tiers[("priority", 0)].input_usd_per_mtok == Decimal("10")


def test_it_keeps_the_one_hour_cache_write_apart_from_context_tiers(shared_data):
    key = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    tiers = records_of(parsed(shared_data, NEWEST), key)
    assert set(tiers) == {("standard", 0), ("standard", 200_000)}  # no "1hr" tier invented
    base, long = tiers[("standard", 0)], tiers[("standard", 200_000)]
    assert base.cache_write_usd_per_mtok == Decimal("3.75")  # the 5-minute write
    assert units(base)["cache_creation_input_token_cost_above_1hr"] == UnitPrice(
        "cache_creation_input_token_cost_above_1hr", "1m_tokens", Decimal("6")
    )
    assert long.cache_write_usd_per_mtok == Decimal("7.5")
    assert units(long)["cache_creation_input_token_cost_above_1hr_above_200k_tokens"].usd_per_unit == Decimal(
        "12"
    )


@pytest.mark.parametrize(
    ("key", "region", "input_price"),
    [
        ("bedrock/us-east-1/meta.llama3-70b-instruct-v1:0", "us-east-1", Decimal("2.65")),
        ("bedrock/eu-west-3/mistral.mistral-large-2402-v1:0", "eu-west-3", Decimal("10.4")),
        ("bedrock/us-gov-west-1/amazon.nova-pro-v1:0", "us-gov-west-1", Decimal("0.96")),
        ("us.anthropic.claude-opus-4-8", "us", Decimal("5.5")),
        ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu", Decimal("3.3")),
        ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "apac", Decimal("3")),
        ("us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0", "us-gov", Decimal("3.6")),
        ("azure/eu/gpt-4o-2024-08-06", "eu", Decimal("2.75")),
        ("azure/global-standard/gpt-4o-mini", "global", Decimal("0.15")),
        ("azure_ai/global/grok-3", "global", Decimal("3")),
        ("gpt-4o", "", Decimal("2.5")),
        ("vertex_ai/claude-3-5-sonnet@20240620", "", Decimal("3")),  # "@…" is a version
    ],
)
def test_it_extracts_the_region_a_key_encodes(shared_data, key, region, input_price):
    record = standard(parsed(shared_data, NEWEST), key)
    assert record.region == region
    assert record.input_usd_per_mtok == input_price
    assert record.source_model_id == key  # the key itself is not rewritten


def test_it_finds_regions_only_where_keys_encode_them(shared_data):
    regions = Counter(r.region for r in parsed(shared_data, NEWEST).records)
    assert regions["us-east-1"] == 21
    assert regions["apac"] == 12
    assert "*" not in regions  # bedrock/*/… means any region
    assert litellm.extract_region("bedrock/*/1-month-commitment/cohere.command-text-v14", "bedrock") == ""
    assert litellm.extract_region("us.some-model", "openai") == ""  # prefix counts only on Bedrock


def test_it_reads_per_second_commitment_prices_as_unit_prices_not_tokens(shared_data):
    key = "bedrock/us-west-2/1-month-commitment/anthropic.claude-v2:1"
    record = standard(parsed(shared_data, NEWEST), key)
    assert record.region == "us-west-2"
    assert all(getattr(record, column) is None for column in COLUMNS)
    assert units(record)["input_cost_per_second"] == UnitPrice("input_cost_per_second", "second", Decimal("0.0175"))
    assert record.price_label == LABEL_UNKNOWN  # a chat entry with no comparable token price


def test_it_keeps_per_image_prices_with_an_empty_label(shared_data):
    record = standard(parsed(shared_data, NEWEST), "aiml/dall-e-2")
    assert record.mode == "image_generation"
    assert record.unit_prices == (UnitPrice("output_cost_per_image", "image", Decimal("0.026")),)
    assert record.input_usd_per_mtok is None
    assert record.price_label == ""


def test_it_labels_a_chat_entry_without_any_price_unknown(shared_data):
    record = standard(parsed(shared_data, NEWEST), "github_copilot/claude-opus-4.5")
    assert record.price_label == LABEL_UNKNOWN
    assert record.unit_prices == ()
    assert record.max_input_tokens == 128000


def test_it_labels_all_zero_token_prices_free(shared_data):
    record = standard(parsed(shared_data, NEWEST), "codestral/codestral-latest")
    assert record.input_usd_per_mtok == Decimal("0")
    assert record.price_label == LABEL_FREE


def test_it_does_not_call_a_zero_token_rerank_priced_per_query_free(shared_data):
    record = standard(parsed(shared_data, NEWEST), "amazon.rerank-v1:0")
    assert record.input_usd_per_mtok == Decimal("0")
    assert units(record)["input_cost_per_query"].usd_per_unit == Decimal("0.001")
    assert record.price_label == ""


def test_it_keeps_audio_token_prices_as_unit_prices_per_million(shared_data):
    record = standard(parsed(shared_data, NEWEST), "gpt-4o-audio-preview")
    assert record.input_usd_per_mtok == Decimal("2.5")
    assert units(record)["input_cost_per_audio_token"] == UnitPrice(
        "input_cost_per_audio_token", "1m_audio_tokens", Decimal("40")
    )
    assert units(record)["output_cost_per_audio_token"].usd_per_unit == Decimal("80")


def test_it_splits_search_context_prices_by_size(shared_data):
    found = units(standard(parsed(shared_data, NEWEST), "gemini-2.5-pro"))
    assert found["search_context_cost_per_query.search_context_size_low"] == UnitPrice(
        "search_context_cost_per_query.search_context_size_low", "query", Decimal("0.035")
    )
    assert len([n for n in found if n.startswith("search_context_cost_per_query.")]) == 3


def test_it_reads_structured_tiered_pricing_as_context_tiers(shared_data):
    tiers = records_of(parsed(shared_data, NEWEST), "dashscope/qwen3-coder-plus")
    assert sorted(tiers) == [("standard", 0), ("standard", 32_000), ("standard", 128_000), ("standard", 256_000)]
    assert tiers[("standard", 0)].input_usd_per_mtok == Decimal("1")
    assert tiers[("standard", 0)].price_label == ""
    assert tiers[("standard", 256_000)].output_usd_per_mtok == Decimal("60")
    assert tiers[("standard", 256_000)].cached_input_usd_per_mtok == Decimal("0.6")


def test_it_keeps_per_result_count_search_tiers_as_unit_prices(shared_data):
    record = standard(parsed(shared_data, NEWEST), "exa_ai/search")
    assert set(units(record)) == {
        "input_cost_per_query[max_results_range=0-25]",
        "input_cost_per_query[max_results_range=26-100]",
    }
    assert units(record)["input_cost_per_query[max_results_range=26-100]"].usd_per_unit == Decimal("0.025")


def test_it_turns_float_token_limits_into_ints(shared_data):
    assert raw(shared_data, NEWEST)["xai/grok-4-fast-reasoning"]["max_input_tokens"] == Decimal("2000000.0")
    record = standard(parsed(shared_data, NEWEST), "xai/grok-4-fast-reasoning")
    assert record.max_input_tokens == 2_000_000
    assert type(record.max_input_tokens) is int


def test_it_prefers_cache_read_over_the_older_cache_hit_name(shared_data):
    newer = standard(parsed(shared_data, NEWEST), "deepseek/deepseek-chat")
    assert newer.cached_input_usd_per_mtok == Decimal("0.028")
    older = standard(parsed(shared_data, TOKENCOST_2024_09), "deepseek-chat")
    assert older.cached_input_usd_per_mtok == Decimal("0.014")  # from input_cost_per_token_cache_hit


def test_it_reads_batch_requests_as_the_batch_tier(shared_data):
    tiers = records_of(parsed(shared_data, TOKENCOST_2024_09), "text-embedding-preview-0409")
    assert tiers[("standard", 0)].input_usd_per_mtok == Decimal("0.00625")
    assert tiers[("batch", 0)].input_usd_per_mtok == Decimal("0.005")
    assert tiers[("batch", 0)].mode == "embedding"


def test_it_reads_the_older_cost_per_image_field(shared_data):
    record = standard(parsed(shared_data, TOKENCOST_2024_09), "vertex_ai/imagen-3.0-generate-001")
    assert record.unit_prices == (UnitPrice("cost_per_image", "image", Decimal("0.04")),)


def test_it_leaves_databricks_dbu_counts_out_of_usd_prices(shared_data):
    record = standard(parsed(shared_data, NEWEST), "databricks/databricks-claude-3-7-sonnet")
    assert not [u for u in record.unit_prices if "db" in u.name]
    assert record.input_usd_per_mtok == Decimal("2.9999900000000002")  # exact, artefact and all


def test_it_rejects_the_absurd_wandb_prices_in_the_real_file(shared_data):
    rejects = {r.locator: r for r in parsed(shared_data, NEWEST).rejects}
    reject = rejects["wandb/openai/gpt-oss-120b"]
    assert reject.reason == "input_cost_per_token is absurd (15000 USD per 1M tokens, at or above 10000)"
    assert '"litellm_provider": "wandb"' in reject.raw_excerpt
    assert all(locator.startswith("wandb/") for locator in rejects)


def test_it_parses_the_raw_upstream_file_with_a_duplicate_key(shared_data):
    data = (shared_data / "litellm" / RAW_UPSTREAM).read_bytes()
    assert data.count(b'"deprecation_date": "2025-09-24",\n        "deprecation_date": "2025-09-24"') == 1
    result = litellm.parse(data)
    tiers = records_of(result, "gemini-1.5-flash-002")
    assert tiers[("standard", 0)].input_usd_per_mtok == Decimal("0.075")
    assert tiers[("standard", 128_000)].input_usd_per_mtok == Decimal("1")
    # per-character and per-image prices of the 128k tier go with that tier
    assert units(tiers[("standard", 128_000)])["input_cost_per_character_above_128k_tokens"] == UnitPrice(
        "input_cost_per_character_above_128k_tokens", "character", Decimal("2.5E-7")
    )
    assert units(tiers[("standard", 0)])["input_cost_per_audio_per_second"].unit == "audio_second"


def test_it_makes_immutable_records(shared_data):
    record = standard(parsed(shared_data, NEWEST), "gpt-4o")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.input_usd_per_mtok = Decimal(0)  # type: ignore[misc]


# --- synthetic bad input ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06', "not valid JSON"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "the file is HTML"),
        (b'[{"gpt-4o": {}}]', "expected a JSON object at the top level, got list"),
        (b'{"gpt-4o": "\xff\xfe"}', "not UTF-8"),
    ],
)
def test_it_refuses_an_unreadable_file_with_one_clear_error(data, message):
    with pytest.raises(ParseError, match=message):
        litellm.parse(data)


def test_it_rejects_bad_rows_and_keeps_the_good_ones():
    data = synthetic(
        {
            "good": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-06},
            "negative": {"litellm_provider": "openai", "input_cost_per_token": -1e-06},
            "absurd": {"litellm_provider": "openai", "output_cost_per_token": 5},
            "stringy": {"litellm_provider": "openai", "input_cost_per_token": "0.000001"},
            "listy": {"litellm_provider": "openai", "input_cost_per_image": [1]},
            "no-provider": {"input_cost_per_token": 1e-06},
            "not-an-object": 42,
            "neg-image": {"litellm_provider": "x", "mode": "image_generation", "output_cost_per_image": -0.04},
            "sample_spec": {"input_cost_per_token": "0.0"},
        }
    )
    result = litellm.parse(data)
    assert [r.source_model_id for r in result.records] == ["good"]
    assert result.records[0].input_usd_per_mtok == Decimal("2.5")
    reasons = {r.locator: r.reason for r in result.rejects}
    assert reasons == {
        "negative": "input_cost_per_token is negative (-1 USD per 1M tokens)",
        "absurd": "output_cost_per_token is absurd (5000000 USD per 1M tokens, at or above 10000)",
        "stringy": "input_cost_per_token is a string ('0.000001'), not a number",
        "listy": "input_cost_per_image is not a number ([1])",
        "no-provider": "litellm_provider is missing or not a string",
        "not-an-object": "the entry is a int, not an object",
        "neg-image": "output_cost_per_image is negative (-0.04 USD per image)",
    }
    raw_excerpts = {r.locator: r.raw_excerpt for r in result.rejects}
    assert raw_excerpts["absurd"] == '{"litellm_provider": "openai", "output_cost_per_token": 5}'


def test_it_treats_a_naive_last_updated_as_utc_and_a_bad_one_as_a_reject():
    naive = litellm.parse(synthetic({"last_updated": "2025-06-01T12:00:00"}))
    assert naive.observed_at == datetime(2025, 6, 1, 12, tzinfo=UTC)
    bad = litellm.parse(synthetic({"last_updated": "yesterday"}))
    assert bad.observed_at is None
    assert [(r.locator, r.reason) for r in bad.rejects] == [("last_updated", "last_updated is not an ISO timestamp")]


def test_it_ignores_non_numeric_token_limits_and_null_prices():
    result = litellm.parse(
        synthetic(
            {
                "m": {
                    "litellm_provider": "p",
                    "max_input_tokens": "lots",
                    "max_output_tokens": 4096.0,
                    "input_cost_per_token": None,
                    "output_cost_per_token": 1e-06,
                }
            }
        )
    )
    (record,) = result.records
    assert (record.max_input_tokens, record.max_output_tokens) == (None, 4096)
    assert record.input_usd_per_mtok is None
    assert record.output_usd_per_mtok == Decimal("1")
    assert result.rejects == []


def test_it_does_not_emit_a_tier_that_has_only_unit_prices():
    result = litellm.parse(
        synthetic(
            {
                "m": {
                    "litellm_provider": "p",
                    "mode": "chat",
                    "input_cost_per_token": 1e-06,
                    "input_cost_per_image_above_128k_tokens": 0.5,
                }
            }
        )
    )
    (record,) = result.records
    assert record.min_prompt_tokens == 0
    assert units(record)["input_cost_per_image_above_128k_tokens"].usd_per_unit == Decimal("0.5")


@pytest.mark.parametrize("hit_first", [True, False])
def test_it_uses_the_cache_hit_price_only_when_no_cache_read_price_is_given(hit_first):
    fields = [("input_cost_per_token_cache_hit", 1e-07), ("cache_read_input_token_cost", 2e-07)]
    if not hit_first:
        fields.reverse()
    both = {"litellm_provider": "deepseek", "input_cost_per_token": 1e-06, **dict(fields)}
    only_hit = {"litellm_provider": "deepseek", "input_cost_per_token": 1e-06, "input_cost_per_token_cache_hit": 1e-07}
    result = litellm.parse(synthetic({"both": both, "only-hit": only_hit}))
    cached = {r.source_model_id: r.cached_input_usd_per_mtok for r in result.records}
    assert cached == {"both": Decimal("0.2"), "only-hit": Decimal("0.1")}
