"""Tests for scrapers.genai_prices against the real pydantic/genai-prices v2 snapshot and synthetic input."""

from __future__ import annotations

import csv
import json
from collections import Counter
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
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


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


# Who sells what in the real file (issue 9, finding 6). The google provider's
# Claude models are Vertex AI's; azure's non-OpenAI models are Azure AI Foundry's.
CLAUDE_ON_GOOGLE = (
    "claude-3-5-haiku",
    "claude-3-5-sonnet",
    "claude-3-7-sonnet",
    "claude-3-haiku",
    "claude-3-opus",
    "claude-4-opus",
    "claude-4-sonnet",
    "claude-fable-5",
    "claude-opus-4-6",
    "claude-opus-4-7",
    "claude-opus-4-8",
    "claude-opus-5",
)
OPENAI_ON_AZURE = (
    "ada",
    "babbage",
    "curie",
    "davinci",
    "o1",
    "o1-mini",
    "o3-2025-04-16",
    "o3-mini",
    "o4-mini",
    "text-embedding-3-large",
    "text-embedding-3-small",
)
OTHERS_ON_AZURE = (
    "mai-ds-r1:free",
    "phi-3-medium-128k-instruct",
    "phi-3-mini-128k-instruct",
    "phi-3.5-mini-128k-instruct",
    "phi-4",
    "phi-4-mini-instruct",
    "phi-4-multimodal-instruct",
    "phi-4-reasoning-plus",
    "phi-4-reasoning-plus:free",
    "phi-4-reasoning:free",
    "wizardlm-2-8x22b",
)
_SPLIT_TO = {"google": "vertex_ai", "azure": "azure_ai"}
_MOVED = {("google", m) for m in CLAUDE_ON_GOOGLE} | {("azure", m) for m in OTHERS_ON_AZURE}


def _sellers(result: ParseResult, model_id: str) -> set[str]:
    return {r.provider_key for r in result.records if r.source_model_id == model_id}


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
    # the 36 genai-prices providers, plus the two sellers split out of google and azure
    assert {r.provider_key for r in result.records} == {p["id"] for p in raw} | {"vertex_ai", "azure_ai"}
    assert len({r.provider_key for r in result.records}) == 38
    # every (provider, model) of the file is there, under its seller
    raw_keys = {(p["id"], m["id"]) for p in raw for m in p["models"]}
    moved = raw_keys & _MOVED
    assert len(moved) == 23
    got = {(r.provider_key, r.source_model_id) for r in result.records}
    assert got == (raw_keys - moved) | {(_SPLIT_TO[p], m) for p, m in moved}
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


# --- sellers: who sells each model (issue 9, finding 6) --------------------


def test_it_attributes_the_google_providers_claude_models_to_vertex_ai(
    real: ParseResult, raw: list[dict[str, Any]]
) -> None:
    (google,) = [p for p in raw if p["id"] == "google"]
    # the data's own word: google prices anthropic's models (fallback), its own models match "gemini"
    assert google["fallback_model_providers"] == ["anthropic"]
    assert google["model_match"] == {"contains": "gemini"}
    assert tuple(m["id"] for m in google["models"] if "claude" in m["id"]) == CLAUDE_ON_GOOGLE
    for model_id in CLAUDE_ON_GOOGLE:
        assert _records(real, "google", model_id) == [], model_id
        assert _records(real, "vertex_ai", model_id), model_id
    # the prices themselves are untouched: Vertex's Opus 4.6 is the google entry's 5/25, 10/37.5 above 200k
    opus, above = _records(real, "vertex_ai", "claude-opus-4-6")
    assert (opus.input_usd_per_mtok, opus.output_usd_per_mtok) == (Decimal(5), Decimal(25))
    assert (above.min_prompt_tokens, above.input_usd_per_mtok, above.output_usd_per_mtok) == (
        200_000,
        Decimal(10),
        Decimal("37.5"),
    )
    assert opus.model_name == ""  # the entry has no name; nothing is invented
    # Anthropic's own entry of the same model is still Anthropic's
    assert _sellers(real, "claude-opus-4-6") == {"anthropic", "vertex_ai"}


def test_it_keeps_googles_own_models_on_ai_studio(real: ParseResult) -> None:
    for model_id in (
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-3-pro-preview",
        "gemini-embedding-001",
        "gemini-live-2.5-flash",
        "gemma-3",
        "gemma-4-31b-it",
    ):
        assert _sellers(real, model_id) == {"google"}, model_id


def test_it_splits_azure_into_azure_openai_and_azure_ai_foundry(real: ParseResult, raw: list[dict[str, Any]]) -> None:
    (azure,) = [p for p in raw if p["id"] == "azure"]
    assert azure["fallback_model_providers"] == ["openai", "anthropic"]
    assert len(azure["models"]) == len(OPENAI_ON_AZURE) + len(OTHERS_ON_AZURE)
    for model_id in OPENAI_ON_AZURE:
        assert _records(real, "azure", model_id), model_id
        assert _records(real, "azure_ai", model_id) == [], model_id
    for model_id in OTHERS_ON_AZURE:
        assert _records(real, "azure", model_id) == [], model_id
        assert _records(real, "azure_ai", model_id), model_id
    (phi,) = _records(real, "azure_ai", "phi-4")
    assert (phi.input_usd_per_mtok, phi.output_usd_per_mtok) == (Decimal("0.07"), Decimal("0.14"))


def test_it_leaves_bedrocks_claude_and_every_other_provider_alone(real: ParseResult, raw: list[dict[str, Any]]) -> None:
    # Bedrock sells Claude itself: no fallback, one seller
    assert _records(real, "aws", "global.anthropic.claude-opus-4-6-v1:0")
    assert _records(real, "aws", "regional.anthropic.claude-3-opus-20240229-v1:0")
    # only google and azure name fallback providers, so only they can hold someone else's models
    assert [p["id"] for p in raw if p.get("fallback_model_providers")] == ["azure", "google"]
    for provider in raw:
        if provider["id"] in ("google", "azure"):
            continue
        ids = {m["id"] for m in provider["models"]}
        assert {r.source_model_id for r in real.records if r.provider_key == provider["id"]} == ids


def test_it_counts_the_records_per_seller(real: ParseResult) -> None:
    # before the fix: google 58 records (47 models), azure 22 (22), no vertex_ai or azure_ai
    by_provider = Counter(r.provider_key for r in real.records)
    assert {key: by_provider[key] for key in ("google", "vertex_ai", "azure", "azure_ai")} == {
        "google": 45,
        "vertex_ai": 13,  # 12 models; claude-opus-4-6 has a long-context tier record
        "azure": 11,
        "azure_ai": 11,
    }
    models = {(r.provider_key, r.source_model_id) for r in real.records}
    assert Counter(p for p, _ in models)["google"] == 35
    assert Counter(p for p, _ in models)["vertex_ai"] == 12
    # 23 models (24 records) moved in all
    assert len(_MOVED) == 23
    assert by_provider["vertex_ai"] + by_provider["azure_ai"] == 24


def test_the_seller_table_is_sound(raw: list[dict[str, Any]]) -> None:
    from apps.catalog.services import provider_spec_for

    with (FIXTURES / "genai_prices_providers.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["genai_provider"], r["models_of"], r["provider_key"]) for r in rows] == [
        ("google", "anthropic", "vertex_ai"),
        ("azure", "openai", "azure"),
        ("azure", "*", "azure_ai"),
    ]
    providers = {p["id"]: p for p in raw}
    for row in rows:
        assert row["reason"].strip()
        fallbacks = providers[row["genai_provider"]].get("fallback_model_providers", [])
        assert row["models_of"] == "*" or row["models_of"] in fallbacks
    # each key lands on the provider it means in fixtures/provider_map.csv
    assert provider_spec_for("vertex_ai").slug == "google-vertex-ai"
    assert provider_spec_for("azure_ai").slug == "azure-ai-foundry"
    assert provider_spec_for("azure").slug == "azure-openai"
    assert provider_spec_for("google").slug == "google-ai-studio"


def test_it_splits_a_provider_by_the_models_it_falls_back_to() -> None:
    # synthetic, with the real table: google's rule is keyed on "anthropic" being a fallback provider
    doc = [
        {"id": "anthropic", "model_match": {"contains": "claude"}, "models": [_model("claude-x", {"input_mtok": 3})]},
        {
            "id": "google",
            "model_match": {"contains": "gemini"},
            "fallback_model_providers": ["anthropic"],
            "models": [
                _model("gemini-x", {"input_mtok": 1}),
                _model("claude-x", {"input_mtok": 3}),
                _model("gemma-x", {"input_mtok": 1}),
            ],
        },
        # without a fallback the data does not say the model is someone else's: it stays
        {"id": "google-like", "models": [_model("claude-x", {"input_mtok": 3})]},
    ]
    result = parse(json.dumps(doc).encode())
    assert result.rejects == []
    assert [(r.provider_key, r.source_model_id) for r in result.records] == [
        ("anthropic", "claude-x"),
        ("google", "gemini-x"),
        ("vertex_ai", "claude-x"),
        ("google", "gemma-x"),
        ("google-like", "claude-x"),
    ]


def test_it_sends_azures_models_by_their_origin() -> None:
    doc = [
        {
            "id": "openai",
            "model_match": {"or": [{"starts_with": "gpt-"}, {"regex": "^o[134]"}]},
            "models": [_model("babbage", {"input_mtok": 1})],
        },
        {
            "id": "azure",
            "fallback_model_providers": ["openai", "anthropic"],
            "models": [
                _model("gpt-x", {"input_mtok": 1}),  # openai's model_match
                _model("babbage", {"input_mtok": 1}),  # one of openai's models' match rules
                _model("phi-x", {"input_mtok": 1}),  # nobody's: Foundry
            ],
        },
    ]
    result = parse(json.dumps(doc).encode())
    assert [(r.provider_key, r.source_model_id) for r in result.records] == [
        ("openai", "babbage"),
        ("azure", "gpt-x"),
        ("azure", "babbage"),
        ("azure_ai", "phi-x"),
    ]


# --- modes (issue 9, finding 5) ----------------------------------------------

REAL_MODES: dict[tuple[str, str], str] = {
    # embeddings: "embed" in the id, the name or the match rule ...
    ("openai", "text-embedding-3-small"): "embedding",
    ("azure", "text-embedding-3-small"): "embedding",
    ("openai", "text-embedding-ada-002"): "embedding",
    ("azure", "ada"): "embedding",  # its match rule is text-embedding-ada-002
    ("mistral", "mistral-embed"): "embedding",  # has an output price, but "embed" says it
    ("doubleword", "Qwen/Qwen3-Embedding-8B"): "embedding",
    ("cohere", "embed-v4.0"): "embedding",
    ("google", "gemini-embedding-001"): "embedding",
    ("google", "gemini-embedding-2"): "embedding",
    ("aws", "amazon.titan-embed-text-v1"): "embedding",
    # ... an input-only price where the provider or the model says "embedding" (Voyage) ...
    ("voyageai", "voyage-3"): "embedding",
    ("voyageai", "voyage-3.5-lite"): "embedding",
    ("voyageai", "voyage-law-2"): "embedding",
    ("voyageai", "voyage-01"): "embedding",
    # ... or BAAI's bge family, input-only
    ("ovhcloud", "bge-m3"): "embedding",
    ("ovhcloud", "bge-multilingual-gemma2"): "embedding",
    ("openai", "moderation"): "moderation",
    ("together", "togethercomputer/GPT-JT-Moderation-6B"): "moderation",
    ("openai", "gpt-4o-transcribe"): "audio_transcription",
    ("openai", "gpt-4o-mini-transcribe"): "audio_transcription",
    ("openai", "gpt-4o-mini-tts"): "audio_speech",
    ("openai", "gpt-realtime"): "realtime",
    ("openai", "gpt-4o-realtime-preview"): "realtime",
    ("openai", "gpt-image-1"): "image_generation",
    ("openai", "gpt-image-1.5"): "image_generation",
    ("google", "gemini-2.5-flash-image"): "image_generation",
    ("google", "gemini-3-pro-image-preview"): "image_generation",
    ("openrouter", "google/gemini-2.5-flash-image"): "image_generation",
    ("openai", "davinci"): "completion",
    ("openai", "text-davinci-003"): "completion",
    ("openai", "gpt-3.5-turbo-instruct"): "completion",
    ("azure", "babbage"): "completion",
    # chat, including chat-API models with audio or video prices and safety classifiers
    ("openai", "gpt-4o"): "chat",
    ("openai", "gpt-4o-audio-preview"): "chat",
    ("anthropic", "claude-opus-4-6"): "chat",
    ("vertex_ai", "claude-opus-4-6"): "chat",
    ("google", "gemini-2.5-pro"): "chat",
    ("google", "gemini-live-2.5-flash"): "chat",
    ("google", "gemini-omni-flash-preview"): "chat",
    ("groq", "llama-guard-3-8b"): "chat",
    ("aws", "amazon.nova-sonic-v1:0"): "chat",
    ("together", "meta-llama/Llama-3-70b-chat-hf"): "chat",
}


def test_it_classifies_the_real_models_by_mode(real: ParseResult) -> None:
    for (provider, model_id), mode in REAL_MODES.items():
        records = _records(real, provider, model_id)
        assert records, (provider, model_id)
        assert {r.mode for r in records} == {mode}, (provider, model_id)


def test_it_counts_the_real_records_per_mode(real: ParseResult) -> None:
    # before the fix every one of the 1,506 records was "chat"; no non-chat model has
    # a tier or a dated change, so each count below is also its number of models
    by_mode = Counter(r.mode for r in real.records)
    assert dict(by_mode) == {
        "chat": 1431,
        "embedding": 37,  # 22 of them Voyage's
        "image_generation": 17,
        "completion": 11,
        "realtime": 5,
        "audio_transcription": 2,
        "moderation": 2,
        "audio_speech": 1,
    }
    assert len({(r.provider_key, r.source_model_id) for r in real.records if r.mode == "embedding"}) == 37
    assert sum(r.mode == "embedding" and r.provider_key == "voyageai" for r in real.records) == 22
    # the real file has no reranker (Voyage's note: "rerankers ... are not included")
    assert "rerank" not in by_mode
    assert not any("rerank" in r.source_model_id.lower() for r in real.records)


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        ({"id": "rerank-2", "prices": {"input_mtok": 0.05}}, "rerank"),
        ({"id": "bge-reranker-v2-m3", "prices": {"input_mtok": 0.01}}, "rerank"),
        ({"id": "vec-1", "name": "Vec Embed", "prices": {"input_mtok": 0.1}}, "embedding"),
        ({"id": "vec-2", "description": "A text embedding model.", "prices": {"input_mtok": 0.1}}, "embedding"),
        # input-only with nothing saying "embedding" is not guessed
        ({"id": "mystery", "prices": {"input_mtok": 0.1}}, "chat"),
        ({"id": "painter", "prices": {"input_mtok": 1, "output_mtok": 2, "output_image_mtok": 30}}, "image_generation"),
        ({"id": "whisper-2", "prices": {"input_audio_mtok": 6}}, "audio_transcription"),
        ({"id": "voice-tts-1", "prices": {"input_mtok": 1, "output_audio_mtok": 12}}, "audio_speech"),
        ({"id": "omni-moderation-9", "prices": {}}, "moderation"),
        ({"id": "chatty", "prices": {"input_mtok": 1, "output_mtok": 2}}, "chat"),
    ],
)
def test_it_classifies_synthetic_modes(model: dict[str, Any], mode: str) -> None:
    (record,) = parse(_doc(model)).records
    assert record.mode == mode


def test_it_reads_embedding_from_the_providers_price_comments() -> None:
    doc = [
        {
            "id": "vectors-inc",
            "price_comments": "Embedding models produce vectors, so there is no output price.",
            "models": [_model("v-1", {"input_mtok": 0.1}), _model("v-chat", {"input_mtok": 1, "output_mtok": 2})],
        }
    ]
    assert [(r.source_model_id, r.mode) for r in parse(json.dumps(doc).encode()).records] == [
        ("v-1", "embedding"),
        ("v-chat", "chat"),  # an output price: the comment is not about this one
    ]


# --- the absurd-price bound (issue 9) ----------------------------------------


def test_the_absurd_bound_on_per_1k_prices_is_inclusive() -> None:
    result = parse(
        _doc(
            _model("at-bound", {"requests_kcount": 10000}),
            _model("below-bound", {"requests_kcount": 9999.99}),
        )
    )
    assert [(r.source_model_id, r.unit_prices) for r in result.records] == [
        ("below-bound", (UnitPrice("requests_kcount", "1k_requests", Decimal("9999.99")),)),
    ]
    assert Decimal(10_000) == MAX_USD_PER_MTOK
    assert [(r.locator, r.reason) for r in result.rejects] == [
        ("acme/at-bound prices", "requests_kcount is absurd (10000 USD per 1,000 requests, at or above 10000)"),
    ]


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
    reasons = {r.locator: r.reason for r in result.rejects}
    # the wording after the price is scrapers.records' (its bound is fixed there, not here)
    assert reasons.pop("acme/absurd prices").startswith("output_mtok is absurd (10001 USD per 1M tokens")
    assert reasons == {
        "acme/negative prices": "input_mtok is negative (-1 USD per 1M tokens)",
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
