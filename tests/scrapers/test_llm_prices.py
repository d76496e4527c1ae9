"""Tests for scrapers.llm_prices against the real simonw/llm-prices snapshot and synthetic bad input."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from scrapers.llm_prices import parse, split_tier
from scrapers.records import LABEL_FREE, MAX_USD_PER_MTOK, ParseError, ParseResult, PriceRecord, Reject

# Records each real vendor file yields: one per price_history entry, minus the
# identical grok-4-fast duplicate in xai.json (22 models, 21 records).
REAL_FILES: dict[str, int] = {
    "amazon.json": 4,
    "anthropic.json": 18,  # 17 models, claude-sonnet-5 has 2 entries
    "deepseek.json": 5,  # 4 models, deepseek-chat has 2 entries
    "google.json": 24,
    "meta-ai.json": 3,
    "minimax.json": 1,
    "mistral.json": 14,
    "moonshot-ai.json": 5,
    "openai.json": 50,  # 46 models, gpt-5.6-terra/-luna and their -272k have 2 entries each
    "qwen.json": 2,
    "xai.json": 21,
}


def _load(shared_data: Path, name: str) -> bytes:
    return (shared_data / "llm-prices" / name).read_bytes()


def _raw(shared_data: Path, name: str) -> dict[str, Any]:
    return json.loads(_load(shared_data, name), parse_float=Decimal)


def _records(result: ParseResult, model_id: str, min_prompt_tokens: int = 0) -> list[PriceRecord]:
    return [r for r in result.records if r.source_model_id == model_id and r.min_prompt_tokens == min_prompt_tokens]


def _doc(*models: Any, vendor: str = "acme") -> bytes:
    return json.dumps({"vendor": vendor, "models": list(models)}).encode()


def _model(model_id: str, *history: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    return {"id": model_id, "name": name or model_id, "price_history": list(history)}


def _entry(
    input: Any = 1,
    output: Any = 2,
    cached: Any = None,
    from_date: str | None = None,
    to_date: str | None = None,
) -> dict[str, Any]:
    return {
        "input": input,
        "output": output,
        "input_cached": cached,
        "from_date": from_date,
        "to_date": to_date,
    }


# --- the real snapshot -------------------------------------------------------


def test_it_covers_every_real_vendor_file(shared_data: Path) -> None:
    on_disk = sorted(p.name for p in (shared_data / "llm-prices").glob("*.json"))
    assert on_disk == sorted(REAL_FILES)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_it_parses_every_real_vendor_file_without_rejects(shared_data: Path, name: str) -> None:
    raw = _raw(shared_data, name)
    result = parse(_load(shared_data, name))

    assert result.rejects == []
    assert len(result.records) == REAL_FILES[name]
    assert result.observed_at is None
    for record in result.records:
        assert isinstance(record, PriceRecord)
        assert record.provider_key == raw["vendor"]
        assert record.stated_dates is True
        assert record.service_tier == "standard"
        assert record.price_label == ""
        for price in (record.input_usd_per_mtok, record.output_usd_per_mtok):
            assert isinstance(price, Decimal)
            assert Decimal(0) <= price <= MAX_USD_PER_MTOK
            assert "E" not in str(price)  # normalized, no exponent notation
        if record.effective_from and record.effective_to:
            assert record.effective_from < record.effective_to


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_it_keeps_every_raw_price_entry_exactly(shared_data: Path, name: str) -> None:
    raw = _raw(shared_data, name)
    result = parse(_load(shared_data, name))
    emitted = {
        (
            r.source_model_id,
            r.min_prompt_tokens,
            r.input_usd_per_mtok,
            r.output_usd_per_mtok,
            r.cached_input_usd_per_mtok,
            r.effective_from,
            r.effective_to,
        )
        for r in result.records
    }
    for model in raw["models"]:
        base_id, min_prompt_tokens = split_tier(model["id"], model["name"])
        for entry in model["price_history"]:
            key = (
                base_id,
                min_prompt_tokens,
                Decimal(entry["input"]),
                Decimal(entry["output"]),
                None if entry["input_cached"] is None else Decimal(entry["input_cached"]),
                entry["from_date"] and date.fromisoformat(entry["from_date"]),
                entry["to_date"] and date.fromisoformat(entry["to_date"]),
            )
            assert key in emitted, (name, model["id"], entry)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_it_yields_no_overlapping_intervals_per_offering(shared_data: Path, name: str) -> None:
    result = parse(_load(shared_data, name))
    by_offering: dict[tuple[str, int], list[PriceRecord]] = {}
    for record in result.records:
        by_offering.setdefault((record.source_model_id, record.min_prompt_tokens), []).append(record)
    for records in by_offering.values():
        for earlier, later in pairwise(records):
            assert earlier.effective_to is not None
            assert later.effective_from is not None
            assert earlier.effective_to <= later.effective_from


def test_it_sorts_deepseek_chat_history_that_lists_newer_first(shared_data: Path) -> None:
    raw = _raw(shared_data, "deepseek.json")
    (raw_model,) = [m for m in raw["models"] if m["id"] == "deepseek-chat"]
    assert raw_model["price_history"][0]["from_date"] == "2025-02-08"  # the quirk is in the file

    result = parse(_load(shared_data, "deepseek.json"))
    older, newer = _records(result, "deepseek-chat")

    assert (older.effective_from, older.effective_to) == (None, date(2025, 2, 8))
    assert (older.input_usd_per_mtok, older.output_usd_per_mtok) == (Decimal("0.14"), Decimal("0.28"))
    assert (newer.effective_from, newer.effective_to) == (date(2025, 2, 8), None)
    assert (newer.input_usd_per_mtok, newer.output_usd_per_mtok) == (Decimal("0.27"), Decimal("1.1"))
    assert older.cached_input_usd_per_mtok is None  # "input_cached": null
    assert older.model_name == "DeepSeek Chat"


def test_it_keeps_claude_sonnet_5_future_price_change(shared_data: Path) -> None:
    result = parse(_load(shared_data, "anthropic.json"))
    before, after = _records(result, "claude-sonnet-5")

    assert (before.effective_from, before.effective_to) == (None, date(2026, 9, 1))
    assert (before.input_usd_per_mtok, before.output_usd_per_mtok) == (Decimal(2), Decimal(10))
    assert (after.effective_from, after.effective_to) == (date(2026, 9, 1), None)
    assert (after.input_usd_per_mtok, after.output_usd_per_mtok) == (Decimal(3), Decimal(15))


def test_it_collapses_the_identical_grok_4_fast_duplicate(shared_data: Path) -> None:
    raw = _raw(shared_data, "xai.json")
    assert [m["name"] for m in raw["models"] if m["id"] == "grok-4-fast"] == [
        "Grok 4 Fast",
        "Grok 4 Fast ≤128k",
    ]

    result = parse(_load(shared_data, "xai.json"))
    (record,) = _records(result, "grok-4-fast")

    assert record.model_name == "Grok 4 Fast"  # the first one is kept
    assert record.input_usd_per_mtok == Decimal("0.2")  # "0.2" and "0.20" are the same price
    assert record.output_usd_per_mtok == Decimal("0.5")
    assert record.cached_input_usd_per_mtok == Decimal("0.05")
    assert result.rejects == []
    (tier,) = _records(result, "grok-4-fast", 128_000)
    assert (tier.input_usd_per_mtok, tier.output_usd_per_mtok) == (Decimal("0.4"), Decimal(1))


@pytest.mark.parametrize(
    ("name", "tier_id", "base_id", "tokens", "tier_prices", "base_prices"),
    [
        ("google.json", "gemini-1.5-pro-128k", "gemini-1.5-pro", 128_000, ("2.5", "10"), ("1.25", "5")),
        ("anthropic.json", "claude-sonnet-4.5-200k", "claude-sonnet-4.5", 200_000, ("6", "22.5"), ("3", "15")),
        ("qwen.json", "qwen3.6-plus-256k", "qwen3.6-plus", 256_000, ("2", "6"), ("0.5", "3")),
        ("openai.json", "gpt-5.4-272k", "gpt-5.4", 272_000, ("5", "22.5"), ("2.5", "15")),
        (
            "google.json",
            "gemini-2.5-pro-preview-03-25-200k",
            "gemini-2.5-pro-preview-03-25",
            200_000,
            ("2.5", "15"),
            ("1.25", "10"),
        ),
    ],
)
def test_it_maps_long_context_tier_entries_onto_the_base_model(
    shared_data: Path,
    name: str,
    tier_id: str,
    base_id: str,
    tokens: int,
    tier_prices: tuple[str, str],
    base_prices: tuple[str, str],
) -> None:
    assert tier_id in {m["id"] for m in _raw(shared_data, name)["models"]}
    result = parse(_load(shared_data, name))

    (tier,) = _records(result, base_id, tokens)
    (base,) = _records(result, base_id, 0)
    assert (tier.input_usd_per_mtok, tier.output_usd_per_mtok) == tuple(map(Decimal, tier_prices))
    assert (base.input_usd_per_mtok, base.output_usd_per_mtok) == tuple(map(Decimal, base_prices))
    assert ">" in tier.model_name
    assert not _records(result, tier_id)  # the suffixed id itself is gone


def test_it_keeps_history_on_a_272k_tier(shared_data: Path) -> None:
    result = parse(_load(shared_data, "openai.json"))
    before, after = _records(result, "gpt-5.6-luna", 272_000)

    assert (before.effective_to, after.effective_from) == (date(2026, 7, 30), date(2026, 7, 30))
    assert (before.input_usd_per_mtok, before.output_usd_per_mtok) == (Decimal(2), Decimal(9))
    assert (after.input_usd_per_mtok, after.output_usd_per_mtok) == (Decimal("0.4"), Decimal("1.8"))
    assert after.cached_input_usd_per_mtok == Decimal("0.04")


def test_it_never_leaves_a_tier_suffix_on_real_ids(shared_data: Path) -> None:
    tiers = 0
    for name in REAL_FILES:
        for record in parse(_load(shared_data, name)).records:
            assert not record.source_model_id.endswith(("-128k", "-200k", "-256k", "-272k"))
            if record.min_prompt_tokens:
                tiers += 1
                assert f">{record.min_prompt_tokens // 1000}k" in record.model_name
    # 7 google, 1 anthropic, 1 qwen, 9 openai (7 models, gpt-5.6-terra/-luna-272k have 2 entries), 9 xai
    assert tiers == 27


def test_it_keeps_ints_and_floats_exact(shared_data: Path) -> None:
    anthropic = parse(_load(shared_data, "anthropic.json"))
    (opus,) = _records(anthropic, "claude-3-opus")  # JSON ints 15 / 75
    assert (str(opus.input_usd_per_mtok), str(opus.output_usd_per_mtok)) == ("15", "75")

    google = parse(_load(shared_data, "google.json"))
    (flash_8b,) = _records(google, "gemini-1.5-flash-8b")  # 0.0375 must not become 0.037499...
    assert str(flash_8b.input_usd_per_mtok) == "0.0375"

    openai = parse(_load(shared_data, "openai.json"))
    (gpt_5_2,) = _records(openai, "gpt-5.2")  # 14.0 -> 14, 0.175 stays
    assert (str(gpt_5_2.output_usd_per_mtok), str(gpt_5_2.cached_input_usd_per_mtok)) == ("14", "0.175")
    (gpt_5_5,) = _records(openai, "gpt-5.5")  # "input_cached": 0.50 -> 0.5
    assert str(gpt_5_5.cached_input_usd_per_mtok) == "0.5"
    (gpt_4o,) = _records(openai, "gpt-4o")
    assert gpt_4o.input_usd_per_mtok == Decimal("2.5")


# --- tier detection ----------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "name", "expected"),
    [
        ("gpt-5.4-272k", "GPT-5.4 >272k", ("gpt-5.4", 272_000)),
        ("gpt-5.4", "GPT-5.4 ≤272k", ("gpt-5.4", 0)),
        ("mistral-medium-32k", "Mistral Medium 32k", ("mistral-medium-32k", 0)),  # context size, not a tier
        ("foo-128k", "Foo > 128K", ("foo", 128_000)),
        ("foo-128k", "Foo >200k", ("foo-128k", 200_000)),  # suffix and marker disagree: keep the id
    ],
)
def test_it_strips_tier_suffixes_only_when_the_name_marks_a_tier(
    model_id: str, name: str, expected: tuple[str, int]
) -> None:
    assert split_tier(model_id, name) == expected


def test_it_leaves_a_non_tier_k_suffix_alone_in_a_file() -> None:
    result = parse(_doc(_model("open-model-32k", _entry(), name="Open Model 32k")))
    (record,) = result.records
    assert (record.source_model_id, record.min_prompt_tokens) == ("open-model-32k", 0)


# --- synthetic bad files -----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n", "the file is empty"),
        (b'{"vendor": "acme", "models": [{"id": "x"', "not valid JSON"),
        (b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "the file is HTML"),
        (b"[]", "expected a JSON object at the top level, got list"),
        (b'"acme"', "expected a JSON object at the top level, got str"),
        (b'{"vendor": "\xff\xfe"}', "not UTF-8"),
        (b'{"models": []}', '"vendor"'),
        (b'{"vendor": 3, "models": []}', '"vendor"'),
        (b'{"vendor": "acme"}', '"models" list'),
        (b'{"vendor": "acme", "models": {}}', '"models" list'),
    ],
)
def test_it_raises_one_clear_parse_error_for_an_unreadable_file(data: bytes, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(data)
    assert message in str(info.value)


# --- synthetic bad rows ------------------------------------------------------


def _only_reject(result: ParseResult) -> Reject:
    (reject,) = result.rejects
    return reject


def test_it_rejects_bad_rows_and_keeps_the_good_ones() -> None:
    data = _doc(
        _model("good", _entry(2.5, 10)),
        _model("negative", _entry(-1, 2)),
        _model("absurd", _entry(1, 20000)),
        _model("stringly", _entry("2.5", 10)),
        _model("boolean", _entry(True, 10)),
        _model("no-output", _entry(1, None)),
        _model("bad-date", _entry(from_date="08/02/2025")),
        _model("impossible-date", _entry(from_date="2025-02-30")),
        "not a model",
        {"name": "no id", "price_history": [_entry()]},
        {"id": "no-history", "name": "x", "price_history": []},
        _model("bad-entry", "not an entry"),
        _model("also-good", _entry(3, 15, 0.3)),
    )
    result = parse(data)

    assert [r.source_model_id for r in result.records] == ["good", "also-good"]
    assert result.records[0].input_usd_per_mtok == Decimal("2.5")
    reasons = {r.locator: r.reason for r in result.rejects}
    assert reasons == {
        "models[1] negative price_history[0]": "input is negative (-1 USD per 1M tokens)",
        "models[2] absurd price_history[0]": ("output is absurd (20000 USD per 1M tokens, at or above 10000)"),
        "models[3] stringly price_history[0]": "input is not a number ('2.5')",
        "models[4] boolean price_history[0]": "input is not a number (True)",
        "models[5] no-output price_history[0]": "output is missing or null",
        "models[6] bad-date price_history[0]": "from_date is not a YYYY-MM-DD date ('08/02/2025')",
        "models[7] impossible-date price_history[0]": "from_date is not a valid date ('2025-02-30')",
        "models[8]": "the model entry is not a JSON object",
        "models[9]": "the model has no id string",
        "models[10] no-history": "price_history is missing, empty or not a list",
        "models[11] bad-entry price_history[0]": "the price entry is not a JSON object",
    }
    negative = next(r for r in result.rejects if r.locator.startswith("models[1]"))
    assert json.loads(negative.raw_excerpt)["input"] == -1


def test_it_rejects_an_inverted_interval() -> None:
    result = parse(
        _doc(
            _model(
                "m",
                _entry(1, 2, to_date="2025-01-01"),
                _entry(3, 4, from_date="2025-03-01", to_date="2025-02-01"),
                _entry(5, 6, from_date="2025-04-01", to_date="2025-04-01"),
            )
        )
    )
    assert [r.input_usd_per_mtok for r in result.records] == [Decimal(1)]
    assert [(r.locator, r.reason) for r in result.rejects] == [
        (
            "models[0] m price_history[1]",
            "to_date 2025-02-01 is not after from_date 2025-03-01 (an inverted or empty interval)",
        ),
        (
            "models[0] m price_history[2]",
            "to_date 2025-04-01 is not after from_date 2025-04-01 (an inverted or empty interval)",
        ),
    ]


def test_it_rejects_an_overlapping_interval() -> None:
    result = parse(
        _doc(
            _model(
                "m",
                _entry(1, 2, from_date="2025-01-01", to_date="2025-06-01"),
                _entry(3, 4, from_date="2025-03-01"),
                _entry(5, 6),  # open start overlaps the first entry too
            )
        )
    )
    assert [r.input_usd_per_mtok for r in result.records] == [Decimal(5)]
    reasons = [(r.locator, r.reason) for r in result.rejects]
    assert reasons == [
        (
            "models[0] m price_history[0]",
            "its interval [2025-01-01, 2025-06-01) overlaps price_history[2] [the beginning, open)",
        ),
        (
            "models[0] m price_history[1]",
            "its interval [2025-03-01, open) overlaps price_history[2] [the beginning, open)",
        ),
    ]


def test_it_accepts_adjacent_intervals_and_a_gap() -> None:
    result = parse(
        _doc(
            _model(
                "m",
                _entry(3, 4, from_date="2025-06-01"),
                _entry(1, 2, to_date="2025-01-01"),
                _entry(2, 3, from_date="2025-01-01", to_date="2025-03-01"),
            )
        )
    )
    assert result.rejects == []
    assert [(r.effective_from, r.effective_to) for r in result.records] == [
        (None, date(2025, 1, 1)),
        (date(2025, 1, 1), date(2025, 3, 1)),
        (date(2025, 6, 1), None),
    ]


def test_it_rejects_a_conflicting_duplicate_naming_the_first() -> None:
    result = parse(
        _doc(
            _model("dup", _entry(1, 2)),
            _model("other", _entry(1, 2)),
            _model("dup", _entry(1, 3)),
        )
    )
    assert [(r.source_model_id, r.output_usd_per_mtok) for r in result.records] == [
        ("dup", Decimal(2)),
        ("other", Decimal(2)),
    ]
    reject = _only_reject(result)
    assert reject.locator == "models[2] dup"
    assert "duplicate of models[0] dup" in reject.reason
    assert "the first one is kept" in reject.reason


def test_it_rejects_a_tier_entry_that_conflicts_with_another_tier_entry() -> None:
    result = parse(
        _doc(
            _model("big-128k", _entry(2, 4), name="Big >128k"),
            _model("big", _entry(6, 8), name="Big Long >128k"),
        )
    )
    # "big" named ">128k" without a suffix is the same offering (big, 128000)
    assert [(r.source_model_id, r.min_prompt_tokens) for r in result.records] == [("big", 128_000)]
    reject = _only_reject(result)
    assert reject.locator == "models[1] big"
    assert reject.reason.startswith("duplicate of models[0] big-128k (same offering big above 128000 tokens)")


def test_it_labels_an_all_zero_price_free() -> None:
    result = parse(_doc(_model("gratis", _entry(0, 0)), _model("cheap", _entry(0, 1))))
    assert [r.price_label for r in result.records] == [LABEL_FREE, ""]


def test_it_uses_the_vendor_as_provider_key() -> None:
    result = parse(_doc(_model("m", _entry()), vendor="moonshot-ai"))
    assert result.records[0].provider_key == "moonshot-ai"
    assert result.records[0].stated_dates is True
