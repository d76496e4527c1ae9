"""Identity resolution over the real price files in ../shared/data.

Run with ``-s`` to see the resolved share per provider (test_it_reports_the_resolved_share_per_provider).
"""

from __future__ import annotations

import collections
import csv
import json
import re
import time
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from apps.catalog import identity
from apps.catalog.identity import ModelIdentity, load_curated, normalise_id, resolve, size_class

NEWEST = "model_prices_2026-07-24_rocry-8442b93.json"
FILE_2025_02 = "model_prices_2025-02-06_rocry-b094ffe.json"
FILE_2024_09 = "model_prices_2024-09-23_tokencost-50ea0a0.json"
FILE_2024_04 = "model_prices_2024-04-22_tokencost-569280a.json"
OPENROUTER_NEWEST = "openrouter_models_2026-08-01_token-tariff-90407eb.json"


# ------------------------------------------------------------------------------------------
# Loading the real files (cached: several tests read the same ones)
# ------------------------------------------------------------------------------------------


@cache
def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def litellm_entries(shared_data: Path, name: str = NEWEST) -> dict[str, dict]:
    """Model entries of a LiteLLM file: skips sample_spec, last_updated, fallback_generalizations."""
    data = _json(shared_data / "litellm" / name)
    return {
        key: entry for key, entry in data.items()
        if isinstance(entry, dict) and key != "sample_spec" and isinstance(entry.get("litellm_provider"), str)
    }


def resolve_litellm(shared_data: Path, key: str, name: str = NEWEST, **kwargs) -> ModelIdentity | None:
    entry = litellm_entries(shared_data, name)[key]
    return resolve(key, source="litellm", provider=entry["litellm_provider"], **kwargs)


def openrouter_models(shared_data: Path) -> dict[str, dict]:
    models: dict[str, dict] = {}
    for path in sorted((shared_data / "openrouter").glob("*.json")):
        for model in _json(path)["data"]:
            models[model["id"]] = model
    return models


def llm_prices_models(shared_data: Path) -> list[tuple[str, str, str]]:
    """(vendor, id, name) of every llm-prices entry."""
    rows = []
    for path in sorted((shared_data / "llm-prices").glob("*.json")):
        data = _json(path)
        rows += [(data["vendor"], m["id"], m["name"]) for m in data["models"]]
    return rows


def genai_prices_models(shared_data: Path) -> list[tuple[str, str, str]]:
    """(provider id, model id, name) of every genai-prices entry."""
    return [(p["id"], m["id"], m.get("name") or "") for p in _json(shared_data / "genai-prices" / "data_v2.json")
            for m in p["models"]]


@cache
def _ids_by_source(shared_data: Path) -> dict[str, frozenset[str]]:
    litellm: set[str] = set()
    for path in (shared_data / "litellm").glob("*.json"):
        litellm |= set(litellm_entries(shared_data, path.name))
    return {
        "litellm": frozenset(litellm),
        "openrouter": frozenset(openrouter_models(shared_data)),
        "llm-prices": frozenset(i for _, i, _ in llm_prices_models(shared_data)),
        "genai-prices": frozenset(i for _, i, _ in genai_prices_models(shared_data)),
        "llmperf": frozenset(
            _json(p)["model"] for p in (shared_data / "llmperf-leaderboard" / "summary").glob("*.json")),
        "benchmarks-csv": frozenset(
            row["model"] for row in csv.DictReader((shared_data / "seed-article" / "benchmarks.csv").open())),
    }


def assert_real(shared_data: Path, source: str, raw_id: str) -> None:
    """Tests only use ids that exist in the real data (one exception is flagged where it is made)."""
    assert raw_id in _ids_by_source(shared_data)[source], f"{raw_id!r} is not in any {source} file"


def slug(found: ModelIdentity | None) -> str | None:
    return None if found is None else found.slug


# ------------------------------------------------------------------------------------------
# Llama 3 70B Instruct: one slug across providers and years
# ------------------------------------------------------------------------------------------

# Every key of the newest LiteLLM file that names Llama 3 70B Instruct, and nothing else:
# a new key merging into this slug fails the test and gets looked at.
LLAMA_3_70B_INSTRUCT_NEWEST = {
    "anyscale/meta-llama/Meta-Llama-3-70B-Instruct": "anyscale",
    "azure_ai/Meta-Llama-3-70B-Instruct": "azure_ai",
    "bedrock/ap-south-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/ca-central-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/eu-west-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/eu-west-2/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/sa-east-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/us-east-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/us-gov-east-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/us-gov-west-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "bedrock/us-west-1/meta.llama3-70b-instruct-v1:0": "bedrock",
    "meta.llama3-70b-instruct-v1:0": "bedrock",
    "databricks/databricks-meta-llama-3-70b-instruct": "databricks",
    "hyperbolic/meta-llama/Meta-Llama-3-70B-Instruct": "hyperbolic",
    "novita/meta-llama/llama-3-70b-instruct": "novita",
    "openrouter/meta-llama/llama-3-70b-instruct": "openrouter",
    "fireworks_ai/accounts/fireworks/models/llama-v3-70b-instruct": "fireworks_ai",
    "fireworks_ai/accounts/fireworks/models/llama-v3-70b-instruct-hf": "fireworks_ai",
    "vertex_ai/meta/llama3-70b-instruct-maas": "vertex_ai-llama_models",
    "replicate/meta/llama-3-70b-instruct": "replicate",
    # no variant marker in the id: decided in fixtures/aliases.csv
    "ollama/llama3:70b": "ollama",
    "snowflake/llama3-70b": "snowflake",
    "vercel_ai_gateway/meta/llama-3-70b": "vercel_ai_gateway",
}


def test_it_resolves_llama_3_70b_instruct_from_every_provider_in_the_newest_file(shared_data):
    entries = litellm_entries(shared_data)
    merged = {key for key in entries if slug(resolve_litellm(shared_data, key)) == "llama-3-70b-instruct"}

    assert merged == set(LLAMA_3_70B_INSTRUCT_NEWEST)
    assert {entries[k]["litellm_provider"] for k in merged} == set(LLAMA_3_70B_INSTRUCT_NEWEST.values())
    assert len(set(LLAMA_3_70B_INSTRUCT_NEWEST.values())) >= 10
    found = resolve_litellm(shared_data, "meta.llama3-70b-instruct-v1:0")
    assert found == ModelIdentity("llama-3-70b-instruct", "Llama 3 70B Instruct", "meta", "llama", "3", Decimal(70),
                                  "instruct", "llama")


def test_it_takes_ollama_snowflake_and_vercel_llama_3_70b_from_the_curated_table(shared_data):
    for key in ("ollama/llama3:70b", "snowflake/llama3-70b", "vercel_ai_gateway/meta/llama-3-70b"):
        assert resolve_litellm(shared_data, key, curated={}) is None  # no variant marker: rules stay out
        found = resolve_litellm(shared_data, key)
        assert (found.slug, found.rule) == ("llama-3-70b-instruct", "curated")


@pytest.mark.parametrize(("file", "key"), [
    (FILE_2025_02, "groq/llama3-70b-8192"),
    (FILE_2025_02, "deepinfra/meta-llama/Meta-Llama-3-70B-Instruct"),
    (FILE_2024_09, "deepinfra/meta-llama/Meta-Llama-3-70B-Instruct"),
    (FILE_2024_09, "friendliai/meta-llama-3-70b-instruct"),
    (FILE_2024_09, "groq/llama3-70b-8192"),
    (FILE_2024_09, "openrouter/meta-llama/llama-3-70b-instruct:nitro"),
    (FILE_2024_04, "openrouter/meta-llama/llama-3-70b-instruct"),
])
def test_it_resolves_llama_3_70b_instruct_in_older_litellm_files(shared_data, file, key):
    assert slug(resolve_litellm(shared_data, key, name=file)) == "llama-3-70b-instruct"


def test_it_reads_together_llama_3_chat_hf_as_the_instruct_model(shared_data):
    # Meta published Llama 3 as base and Instruct only; Together's "-chat-hf" serves the Instruct weights.
    assert_real(shared_data, "genai-prices", "meta-llama/Llama-3-70b-chat-hf")
    assert slug(resolve("meta-llama/Llama-3-70b-chat-hf", source="genai-prices", provider="together")) == (
        "llama-3-70b-instruct")
    assert slug(resolve("meta-llama/Llama-3-8b-chat-hf", source="genai-prices", provider="together")) == (
        "llama-3-8b-instruct")
    # The LiteLLM spelling from DESIGN.md is in none of the stored LiteLLM files (checked here), but resolves too.
    assert "together_ai/meta-llama/Llama-3-70b-chat-hf" not in _ids_by_source(shared_data)["litellm"]
    assert slug(resolve("together_ai/meta-llama/Llama-3-70b-chat-hf", source="litellm", provider="together_ai")) == (
        "llama-3-70b-instruct")
    # ... whereas Llama 2 "chat" is its own variant.
    assert resolve("together_ai/meta-llama/Llama-2-70b-chat-hf", curated={}).variant == "chat"


def test_it_resolves_groq_and_genai_prices_llama_ids(shared_data):
    for raw, expected in (("llama3-70b-8192", "llama-3-70b-instruct"), ("llama-3.3-70b-versatile",
                                                                          "llama-3.3-70b-instruct")):
        assert_real(shared_data, "genai-prices", raw)
        assert slug(resolve(raw, source="genai-prices", provider="groq")) == expected
    assert slug(resolve("meta-llama/Meta-Llama-3-70B-Instruct", source="genai-prices",
                        provider="huggingface_novita")) == "llama-3-70b-instruct"


# ------------------------------------------------------------------------------------------
# Look-alikes stay distinct
# ------------------------------------------------------------------------------------------

DISTINCT = [
    ("meta.llama3-70b-instruct-v1:0", "llama-3-70b-instruct"),
    ("meta.llama3-1-70b-instruct-v1:0", "llama-3.1-70b-instruct"),
    ("meta.llama3-3-70b-instruct-v1:0", "llama-3.3-70b-instruct"),
    ("meta.llama3-8b-instruct-v1:0", "llama-3-8b-instruct"),
    ("meta.llama3-1-8b-instruct-v1:0", "llama-3.1-8b-instruct"),
    ("meta.llama3-1-405b-instruct-v1:0", "llama-3.1-405b-instruct"),
    ("replicate/meta/llama-3-70b", "llama-3-70b"),
    ("gpt-4o", "gpt-4o"),
    ("gpt-4o-mini", "gpt-4o-mini"),
    ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
    ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18"),
    ("gpt-4.1", "gpt-4.1"),
    ("gpt-4.1-mini", "gpt-4.1-mini"),
    ("gpt-4.1-nano", "gpt-4.1-nano"),
    ("o1", "o1"),
    ("o3", "o3"),
    ("o3-mini", "o3-mini"),
    ("o4-mini", "o4-mini"),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"),
    ("anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku"),
    ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("claude-opus-4-20250514", "claude-opus-4"),
    ("claude-opus-4-1", "claude-opus-4-1"),
    ("mistral.mixtral-8x7b-instruct-v0:1", "mixtral-8x7b-instruct"),
    ("fireworks_ai/accounts/fireworks/models/mixtral-8x22b-instruct", "mixtral-8x22b-instruct"),
    ("gemini/gemini-2.5-flash", "gemini-2.5-flash"),
    ("gemini/gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ("gemini/gemini-2.5-pro", "gemini-2.5-pro"),
    ("gemini/gemini-2.0-flash", "gemini-2.0-flash"),
    ("gemini/gemini-2.0-flash-001", "gemini-2.0-flash-001"),
    ("deepseek/deepseek-r1", "deepseek-r1"),
    ("fireworks_ai/accounts/fireworks/models/deepseek-r1-0528", "deepseek-r1-0528"),
    ("deepinfra/deepseek-ai/DeepSeek-V3", "deepseek-v3"),
    ("deepinfra/deepseek-ai/DeepSeek-V3-0324", "deepseek-v3-0324"),
    ("deepinfra/deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "deepseek-r1-distill-llama-70b"),
    ("mistral/mistral-large-2407", "mistral-large-2407"),
    ("mistral/mistral-large-2411", "mistral-large-2411"),
    ("mistral.mistral-small-2402-v1:0", "mistral-small-2402"),
    ("deepinfra/Qwen/Qwen3-235B-A22B", "qwen3-235b-a22b"),
    ("deepinfra/Qwen/Qwen3-235B-A22B-Instruct-2507", "qwen3-235b-a22b-instruct-2507"),
    ("deepinfra/Qwen/Qwen3-235B-A22B-Thinking-2507", "qwen3-235b-a22b-thinking-2507"),
    ("deepinfra/Qwen/Qwen2.5-72B-Instruct", "qwen2.5-72b-instruct"),
    ("dashscope/qwen-plus", "qwen-plus"),
    ("dashscope/qwen-plus-2025-07-28", "qwen-plus-2025-07-28"),
    ("xai/grok-3", "grok-3"),
    ("xai/grok-3-mini", "grok-3-mini"),
    ("xai/grok-4", "grok-4"),
    ("xai/grok-4-0709", "grok-4-0709"),
    ("xai/grok-4-fast-reasoning", "grok-4-fast-reasoning"),
    ("xai/grok-4-fast-non-reasoning", "grok-4-fast-non-reasoning"),
    ("xai/grok-4-1-fast-reasoning", "grok-4.1-fast-reasoning"),
]


def test_it_keeps_look_alike_models_distinct(shared_data):
    slugs = {}
    for key, expected in DISTINCT:
        assert slug(resolve_litellm(shared_data, key)) == expected, key
        slugs[key] = expected
    assert len(set(slugs.values())) == len(DISTINCT), "two look-alikes share a slug"


# Real ids that are easy to merge wrongly: (file, key, expected slug or None for unresolved).
LOOK_ALIKES = [
    (NEWEST, "replicate/meta/llama-3-70b", "llama-3-70b"),  # base, not instruct (curated)
    (NEWEST, "replicate/meta/llama-3-8b", "llama-3-8b"),
    (NEWEST, "gpt-4o-mini-audio-preview", None),
    (NEWEST, "gpt-4o-audio-preview-2024-12-17", "gpt-4o-audio-preview-2024-12-17"),  # its own model, not gpt-4o
    (NEWEST, "gpt-4o-realtime-preview", None),
    (NEWEST, "gpt-4o-mini-realtime-preview", None),
    (NEWEST, "gpt-4o-search-preview", None),
    (NEWEST, "gpt-4o-mini-transcribe", None),
    (NEWEST, "gpt-4o-mini-tts", None),
    (NEWEST, "chatgpt-4o-latest", None),
    (NEWEST, "gpt-4-turbo-preview", None),
    (NEWEST, "ft:gpt-4o-2024-08-06", "gpt-4o-2024-08-06-ft"),  # a fine-tune's price: its own model
    (NEWEST, "openrouter/openai/o3-mini-high", "o3-mini-high"),  # effort preset: its own model
    (NEWEST, "gpt-5-chat-latest", None),
    (NEWEST, "cloudflare/@cf/meta/llama-guard-3-8b", "llama-guard-3-8b"),  # a classifier: never Llama 3 8B
    (NEWEST, "deepinfra/meta-llama/Llama-Guard-3-8B", "llama-guard-3-8b"),
    (NEWEST, "fireworks_ai/accounts/fireworks/models/code-llama-70b-instruct", "code-llama-70b-instruct"),
    (NEWEST, "anyscale/codellama/CodeLlama-70b-Instruct-hf", "code-llama-70b-instruct"),  # never Llama 2
    (NEWEST, "perplexity/codellama-70b-instruct", "code-llama-70b-instruct"),
    (NEWEST, "fireworks_ai/accounts/fireworks/models/llama-v3p1-nemotron-70b-instruct",
     "llama-3.1-nemotron-70b-instruct"),  # the NVIDIA tune, never Llama 3.1 70B
    (NEWEST, "fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct-1b", None),
    (NEWEST, "fireworks_ai/accounts/fireworks/models/llama-v3p1-405b-instruct-long", None),
    (NEWEST, "fireworks_ai/accounts/fireworks/models/dobby-unhinged-llama-3-3-70b-new", None),
    (NEWEST, "deepinfra/NousResearch/Hermes-3-Llama-3.1-70B", "nousresearch-hermes-3-llama-3.1-70b"),  # a fine-tune
    (NEWEST, "openrouter/gryphe/mythomax-l2-13b", "gryphe-mythomax-l2-13b"),  # a fine-tune: its own model
    (NEWEST, "lambda_ai/deepseek-llama3.3-70b", "deepseek-r1-distill-llama-70b"),  # curated: never Llama 3.3
    (NEWEST, "snowflake/snowflake-llama-3.3-70b", "snowflake-llama-3.3-70b"),  # Snowflake's SwiftKV fine-tune
    (NEWEST, "cloudflare/@cf/meta-llama/llama-2-7b-chat-hf-lora", None),
    (NEWEST, "groq/llama-3.3-70b-versatile", "llama-3.3-70b-instruct"),  # curated, not by rule
    (NEWEST, "vertex_ai/meta/llama-4-maverick-17b-16e-instruct-maas", None),  # Maverick has 128 experts
    (NEWEST, "anthropic.claude-3-7-sonnet-20240620-v1:0", None),  # 3.7 Sonnet with 3.5 Sonnet's date
    (NEWEST, "databricks/databricks-claude-sonnet-4-1", None),  # there is no Claude Sonnet 4.1
    (NEWEST, "github_copilot/claude-opus-41", "claude-opus-4-1"),  # curated: Copilot writes 4.1 "41"
    (NEWEST, "github_copilot/claude-opus-4.6-fast", "claude-opus-4-6-fast"),  # fast mode: its own price
    (NEWEST, "heroku/claude-3-5-sonnet-latest", None),
    (NEWEST, "vercel_ai_gateway/anthropic/claude-3-5-sonnet", None),  # June or October? unknown
    (NEWEST, "openrouter/anthropic/claude-3.5-sonnet", None),  # re-pointed to October in late 2024
    (NEWEST, "openrouter/deepseek/deepseek-chat", None),  # V2.5 then V3 over the file's history
    (NEWEST, "mistral/mistral-large-latest", None),
    (NEWEST, "azure_ai/mistral-large", None),
    (NEWEST, "mistral/mistral-large-3", "mistral-large-2512"),  # Large 3 has one release, 25.12
    (NEWEST, "openrouter/mistralai/mistral-7b-instruct", None),  # v0.1, v0.2 or v0.3?
    (NEWEST, "fireworks_ai/accounts/fireworks/models/mixtral-8x7b", "mixtral-8x7b"),  # base beside -instruct (curated)
    (NEWEST, "nebius/Qwen/Qwen2.5-Coder-7B", "qwen2.5-coder-7b"),  # the HF name of the base model (curated)
    (NEWEST, "vercel_ai_gateway/alibaba/qwen-3-235b", None),  # original Qwen3 or a 2507 refresh?
    (NEWEST, "vercel_ai_gateway/alibaba/qwen-3-32b", "qwen3-32b"),  # dense: one model of that name
    (NEWEST, "fireworks_ai/accounts/fireworks/models/qwen2p5-coder-32b-instruct-128k", None),
    (NEWEST, "lemonade/Qwen3-4B-Instruct-2507-GGUF", None),
    (NEWEST, "gemini/gemini-2.5-pro-preview-tts", None),
    (NEWEST, "gemini-2.5-flash-native-audio-preview-09-2025", "gemini-2.5-flash-native-audio-preview-09-2025"),
    (NEWEST, "gemini/gemini-3.1-pro-preview-customtools", "gemini-3.1-pro-preview-customtools"),  # its own model
    (NEWEST, "gemini/gemini-flash-latest", None),
    (NEWEST, "deepseek-v3-2-251201", None),
    (NEWEST, "novita/deepseek/deepseek-r1-0528-qwen3-8b", "deepseek-r1-0528-qwen3-8b"),  # never Qwen3 8B
    (NEWEST, "oci/xai.grok-4-fast", None),  # reasoning or non-reasoning?
    (NEWEST, "xai/grok-3-beta", None),
    (NEWEST, "xai/grok-4.20-beta-0309-reasoning", None),
    (FILE_2025_02, "groq/llama3-groq-70b-8192-tool-use-preview", None),
    (FILE_2025_02, "openrouter/meta-llama/llama-3-70b-instruct:nitro", "llama-3-70b-instruct"),  # routing only
    (FILE_2024_09, "gemini/gemini-1.5-pro-exp-0827", None),
]


@pytest.mark.parametrize(("file", "key", "expected"), LOOK_ALIKES, ids=[k for _, k, _ in LOOK_ALIKES])
def test_it_does_not_merge_look_alikes(shared_data, file, key, expected):
    assert slug(resolve_litellm(shared_data, key, name=file)) == expected


def test_it_leaves_genai_prices_buckets_and_lite_products_alone(shared_data):
    for provider, raw in (("together", "meta-llama/Meta-Llama-3-70B-Instruct-Lite"),  # INT4 product
                          ("mistral", "mistral-large"),  # bucket of 2407, 2411 and latest
                          ("anthropic", "claude-3-5-sonnet"),  # both 3.5 Sonnet snapshots
                          ("google", "gemini-2.5-flash-preview"),  # 04-17 and 05-20 previews
                          ("groq", "llama-3.2-90b-text-preview")):
        assert_real(shared_data, "genai-prices", raw)
        assert resolve(raw, source="genai-prices", provider=provider) is None, raw


def test_it_only_trusts_deepseek_chat_from_deepseek_itself():
    first_party = resolve("deepseek-chat", source="llm-prices", provider="deepseek")
    assert (first_party.slug, first_party.parameter_count_b) == ("deepseek-chat", None)
    assert resolve("deepseek/deepseek-chat", source="litellm", provider="deepseek").slug == "deepseek-chat"
    assert resolve("openrouter/deepseek/deepseek-chat", source="litellm", provider="openrouter") is None
    assert resolve("deepseek-chat", source="genai-prices", provider="openrouter") is None


# ------------------------------------------------------------------------------------------
# Dated snapshots (policy in the module docstring)
# ------------------------------------------------------------------------------------------


def test_it_keeps_openai_snapshots_apart_from_the_moving_alias():
    alias, snapshot = resolve("gpt-4o", curated={}), resolve("azure/us/gpt-4o-2024-08-06", curated={})
    assert (alias.slug, snapshot.slug) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert (alias.family, alias.version) == (snapshot.family, snapshot.version) == ("gpt", "4o")
    assert snapshot.name == "GPT-4o (2024-08-06)"
    assert resolve("gpt-4-0613", curated={}).slug == "gpt-4-0613"
    assert resolve("gpt-4-1106-preview", curated={}).slug == "gpt-4-1106-preview"


def test_it_merges_an_anthropic_date_only_when_it_is_the_versions_snapshot():
    ids = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "anthropic.claude-sonnet-4-5-20250929-v1:0",
           "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "vertex_ai/claude-sonnet-4-5@20250929",
           "azure_ai/claude-sonnet-4-5", "openrouter/anthropic/claude-sonnet-4.5", "snowflake/claude-sonnet-4-5"]
    assert {slug(resolve(i, curated={})) for i in ids} == {"claude-sonnet-4-5"}
    assert resolve("claude-sonnet-4-5-20251001", curated={}) is None  # not Sonnet 4.5's date
    assert resolve("vertex_ai/claude-3-5-sonnet-v2@20241022", curated={}).slug == "claude-3-5-sonnet-20241022"
    assert resolve("vertex_ai/claude-3-5-sonnet-v2", curated={}).slug == "claude-3-5-sonnet-20241022"
    assert resolve("claude-3-5-sonnet", curated={}) is None


def test_it_keeps_gemini_pins_and_previews_apart():
    assert resolve("gemini-1.5-pro-002", curated={}).slug == "gemini-1.5-pro-002"
    assert resolve("gemini-1.5-pro", curated={}).slug == "gemini-1.5-pro"
    assert resolve("gemini-2.5-pro-preview-03-25", curated={}).slug == "gemini-2.5-pro-preview-03-25"
    assert resolve("gemini-3-1-pro-preview", curated={}).slug == "gemini-3.1-pro-preview"
    assert resolve("openrouter/google/gemini-pro-1.5", curated={}).slug == "gemini-1.5-pro"


# ------------------------------------------------------------------------------------------
# Other sources
# ------------------------------------------------------------------------------------------


def test_it_resolves_openrouter_ids(shared_data):
    cases = {
        "meta-llama/llama-3-70b-instruct": "llama-3-70b-instruct",
        "meta-llama/llama-3.1-70b-instruct": "llama-3.1-70b-instruct",
        "meta-llama/llama-3.3-70b-instruct:free": "llama-3.3-70b-instruct",
        "meta-llama/llama-3.1-405b": "llama-3.1-405b",  # curated: OpenRouter names it "(base)"
        "meta-llama/llama-4-scout:free": "llama-4-scout-17b-16e-instruct",  # curated row without :free
        "openai/gpt-4o": "gpt-4o",
        "openai/gpt-4o:extended": "gpt-4o",
        "openai/gpt-4o-mini-2024-07-18": "gpt-4o-mini-2024-07-18",
        "anthropic/claude-3.5-haiku": "claude-3-5-haiku",
        "anthropic/claude-3.5-sonnet-20240620": "claude-3-5-sonnet",
        "anthropic/claude-3.5-sonnet": "claude-3-5-sonnet-20241022",  # curated: "New Claude 3.5 Sonnet"
        "anthropic/claude-3.7-sonnet:thinking": "claude-3-7-sonnet-thinking",  # thinking mode: its own model
        "deepseek/deepseek-chat": "deepseek-v3",  # curated: hugging_face_id deepseek-ai/DeepSeek-V3
        "deepseek/deepseek-chat-v3-0324": "deepseek-v3-0324",
        "mistralai/mixtral-8x7b-instruct": "mixtral-8x7b-instruct",
        "mistralai/mistral-small-3.1-24b-instruct": "mistral-small-2503",
        "google/gemini-2.5-flash": "gemini-2.5-flash",
    }
    for raw, expected in cases.items():
        assert_real(shared_data, "openrouter", raw)
        assert slug(resolve(raw, source="openrouter")) == expected, raw


def test_it_agrees_with_openrouter_hugging_face_ids(shared_data):
    """Where both an OpenRouter id and its hugging_face_id resolve by rule, they must name the same model."""
    checked = 0
    for model_id, model in openrouter_models(shared_data).items():
        hf_id = model.get("hugging_face_id") or ""
        by_id = resolve(model_id, source="openrouter", curated={})
        by_hf = resolve(hf_id, source="huggingface", curated={}) if hf_id else None
        if by_id and by_hf:
            if by_id.rule == by_hf.rule == "maker" and by_id.slug != by_hf.slug:
                # Literal names of one maker's model, renamed by OpenRouter (sao10k/l3.3-euryale-70b is
                # Sao10K/L3.3-70B-Euryale-v2.3): two slugs of one maker, a missed merge but never a wrong one.
                assert by_id.creator == by_hf.creator, (model_id, hf_id)
                continue
            assert by_id.slug == by_hf.slug, (model_id, hf_id)
            checked += 1
        if by_hf and not by_id:  # the curated table, if it covers the id, must agree with the HF id too
            curated = resolve(model_id, source="openrouter")
            assert curated is None or curated.slug == by_hf.slug, (model_id, hf_id)
    assert checked >= 90


def test_it_resolves_llm_prices_ids(shared_data):
    cases = {
        ("openai", "gpt-4o"): "gpt-4o",
        ("openai", "gpt-4o-mini"): "gpt-4o-mini",
        ("openai", "gpt-4.1-nano"): "gpt-4.1-nano",
        ("openai", "o1-preview"): "o1-preview",
        ("openai", "o3-mini"): "o3-mini",
        ("openai", "gpt-4.5"): "gpt-4.5-preview",  # curated
        ("openai", "chatgpt-4o-latest"): None,
        ("anthropic", "claude-3.5-haiku"): "claude-3-5-haiku",
        ("anthropic", "claude-3.7-sonnet"): "claude-3-7-sonnet",
        ("anthropic", "claude-4.5-haiku"): "claude-haiku-4-5",
        ("anthropic", "claude-opus-4-1"): "claude-opus-4-1",
        ("anthropic", "claude-3.5-sonnet"): None,  # which 3.5 Sonnet? left to a curator
        ("google", "gemini-1.5-flash-8b"): "gemini-1.5-flash-8b",
        ("google", "gemini-2.5-pro"): "gemini-2.5-pro",
        ("google", "gemini-2.5-pro-200k"): None,  # a context tier row, not a model
        ("google", "gemini-3-1-pro-preview"): "gemini-3.1-pro-preview",
        ("deepseek", "deepseek-chat"): "deepseek-chat",
        ("deepseek", "deepseek-reasoner"): "deepseek-reasoner",
        ("mistral", "open-mixtral-8x22b"): "mixtral-8x22b-instruct",  # curated
        ("mistral", "mistral-medium-2505"): "mistral-medium-2505",
        ("mistral", "mistral-large-latest"): None,
    }
    names = {(v, i) for v, i, _ in llm_prices_models(shared_data)}
    for (vendor, raw), expected in cases.items():
        assert (vendor, raw) in names
        assert slug(resolve(raw, source="llm-prices", provider=vendor)) == expected, raw


def test_it_resolves_genai_prices_ids(shared_data):
    cases = {
        ("anthropic", "claude-sonnet-4-0"): "claude-sonnet-4",
        ("anthropic", "claude-opus-4-0"): "claude-opus-4",
        ("anthropic", "claude-3-haiku"): "claude-3-haiku",
        ("aws", "regional.anthropic.claude-3-5-sonnet-20241022-v2:0"): "claude-3-5-sonnet-20241022",
        ("aws", "meta.llama3-70b-instruct-v1:0"): "llama-3-70b-instruct",
        ("aws", "mistral.mistral-7b-instruct-v0:2"): "mistral-7b-instruct-v0.2",
        ("openai", "gpt-4o"): "gpt-4o",
        ("openai", "gpt-4o:extended"): "gpt-4o",
        ("openai", "gpt-4o-mini-realtime-preview"): None,
        ("google", "gemini-2.0-flash"): "gemini-2.0-flash",
        ("google", "gemini-flash-1.5-8b"): "gemini-1.5-flash-8b",
        ("deepseek", "deepseek-chat"): "deepseek-chat",
        ("novita", "deepseek/deepseek_v3"): "deepseek-v3",
        ("fireworks", "deepseek-v3p2"): "deepseek-v3.2",
        ("cerebras", "llama-3.3-70b"): "llama-3.3-70b-instruct",  # 3.3 was released as instruct only
        ("groq", "mixtral-8x7b-32768"): "mixtral-8x7b-instruct",  # curated
        ("huggingface_novita", "Qwen/Qwen3-Coder-480B-A35B-Instruct"): "qwen3-coder-480b-a35b-instruct",
        ("mistral", "mistral-small-3.2-24b-instruct"): "mistral-small-2506",
    }
    present = {(p, i) for p, i, _ in genai_prices_models(shared_data)}
    for (provider, raw), expected in cases.items():
        assert (provider, raw) in present, raw
        assert slug(resolve(raw, source="genai-prices", provider=provider)) == expected, raw


# ------------------------------------------------------------------------------------------
# Whole-file invariants
# ------------------------------------------------------------------------------------------

DISCRIMINATORS = frozenset({
    "mini", "nano", "haiku", "sonnet", "opus", "lite", "flash", "pro", "audio", "realtime", "search", "guard",
    "code", "coder", "codex", "distill", "nemotron", "hermes", "tts", "transcribe", "image", "embed", "embedding",
    "thinking", "vl", "vision", "math", "next", "preview", "exp", "latest", "long", "online", "lora", "awq",
    "gguf", "tool", "reasoning", "speciale", "terminus", "omni",
})
_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z0-9])")


def _all_rule_resolutions(shared_data: Path):
    for path in sorted((shared_data / "litellm").glob("*.json")):
        for key, entry in litellm_entries(shared_data, path.name).items():
            yield key, resolve(key, source="litellm", provider=entry["litellm_provider"], curated={})
    for model_id in openrouter_models(shared_data):
        yield model_id, resolve(model_id, source="openrouter", curated={})
    for vendor, raw, _ in llm_prices_models(shared_data):
        yield raw, resolve(raw, source="llm-prices", provider=vendor, curated={})
    for provider, raw, _ in genai_prices_models(shared_data):
        yield raw, resolve(raw, source="genai-prices", provider=provider, curated={})


def _all_rule_resolutions_newest(shared_data: Path):
    """Rule resolutions over each source's newest file (without the curated table)."""
    from tests.catalog.test_identity_coverage import _PARSERS  # the newest files are named there

    for source, (module, name) in _PARSERS.items():
        for record in module.parse((shared_data / name).read_bytes()).records:
            yield record.source_model_id, resolve(record.source_model_id, source=source,
                                                  provider=record.provider_key, curated={})


def test_it_never_drops_a_discriminating_token_or_a_size(shared_data):
    """No rule resolves an id to a slug that lacks one of the id's tier/modality words or sizes."""
    checked = 0
    for raw, found in _all_rule_resolutions(shared_data):
        if found is None:
            continue
        norm = re.sub(r"(\d)p(\d)", r"\1.\2", normalise_id(raw))
        raw_tokens = set(re.split(r"[-/.:]", norm))
        slug_tokens = set(re.split(r"[-/.:]", found.slug))
        assert not (raw_tokens & DISCRIMINATORS) - slug_tokens, (raw, found.slug)
        sizes = set(_SIZE.findall(norm)) - {"671"}  # deepseek-r1-671b names the one R1
        stated = {format(found.parameter_count_b.normalize(), "f")} if found.parameter_count_b else set()
        assert sizes <= set(_SIZE.findall(found.slug)) | stated, (raw, found.slug)
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*", found.slug), found.slug
        assert found.variant in identity.VARIANTS and found.rule
        checked += 1
    assert checked > 2000


def test_it_describes_each_slug_one_way(shared_data):
    """Every id resolving to a slug yields the same name, family, version, size and variant."""
    seen: dict[str, ModelIdentity] = {}
    for raw, found in _all_rule_resolutions(shared_data):
        if found is not None:
            first = seen.setdefault(found.slug, found)
            assert (found.name, found.creator, found.family, found.version, found.parameter_count_b,
                    found.variant) == (first.name, first.creator, first.family, first.version,
                                       first.parameter_count_b, first.variant), raw


# ------------------------------------------------------------------------------------------
# Normalisation, size classes, the curated table, speed
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("bedrock/us-east-1/meta.llama3-70b-instruct-v1:0", "llama3-70b-instruct"),
    ("bedrock/us-west-2/1-month-commitment/anthropic.claude-v2:1", "claude"),
    ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku-20241022"),
    ("apac.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"),
    ("mistral.mistral-7b-instruct-v0:2", "mistral-7b-instruct-v0.2"),
    ("meta.llama2-70b-chat-v1", "llama2-70b-chat"),
    ("together_ai/meta-llama/Llama-3-70b-chat-hf", "llama-3-70b-chat-hf"),
    ("fireworks_ai/accounts/fireworks/models/llama-v3p1-70b-instruct", "llama-v3p1-70b-instruct"),
    ("openrouter/meta-llama/llama-3-70b-instruct:nitro", "llama-3-70b-instruct"),
    ("azure_ai/Meta-Llama-3-70B-Instruct", "meta-llama-3-70b-instruct"),
    ("databricks/databricks-meta-llama-3-1-405b-instruct", "meta-llama-3-1-405b-instruct"),
    ("vertex_ai/meta/llama3-70b-instruct-maas", "llama3-70b-instruct"),
    ("vertex_ai/claude-opus-4-6@default", "claude-opus-4-6"),
    ("vertex_ai/claude-3-5-sonnet@20240620", "claude-3-5-sonnet-20240620"),
    ("cloudflare/@cf/meta/llama-3.1-8b-instruct-fp8", "llama-3.1-8b-instruct-fp8"),
    ("groq/llama3-70b-8192", "llama3-70b"),
    ("ovhcloud/Meta-Llama-3_3-70B-Instruct", "meta-llama-3-3-70b-instruct"),
    ("azure/global-standard/gpt-4o-mini", "gpt-4o-mini"),
    ("gradient_ai/openai-gpt-4o", "gpt-4o"),
    ("oci/openai.gpt-5", "gpt-5"),
    ("ollama/llama3:70b", "llama3:70b"),
    ("deepinfra/NousResearch/Hermes-3-Llama-3.1-70B", "nousresearch/hermes-3-llama-3.1-70b"),
])
def test_it_normalises_prefixes_regions_and_suffixes(raw, expected):
    assert normalise_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("meta.llama3-70b-instruct-v1:0", "70b-class"),
    ("meta.llama3-8b-instruct-v1:0", "7-8b-class"),
    ("meta.llama3-2-1b-instruct-v1:0", "small"),
    ("meta.llama3-1-405b-instruct-v1:0", "300b-plus-class"),
    ("mistral.mixtral-8x7b-instruct-v0:1", "40-65b-class"),
    ("deepinfra/Qwen/Qwen2.5-72B-Instruct", "70b-class"),
    ("deepinfra/google/gemma-3-27b-it", "20-40b-class"),
    ("gpt-4o", "frontier-closed"),
    ("gpt-4o-mini", "small-closed"),
    ("gpt-4-turbo", "frontier-closed"),
    ("gpt-3.5-turbo", "small-closed"),
    ("claude-3-5-haiku-20241022", "small-closed"),
    ("gemini/gemini-2.5-pro", "frontier-closed"),
    ("deepseek-chat", "unknown"),
])
def test_it_assigns_size_classes(raw, expected):
    assert size_class(resolve(raw, provider="deepseek", curated={})) == expected


def test_it_loads_the_curated_table_with_a_reason_for_every_row():
    table = load_curated(identity.DEFAULT_ALIASES_PATH)
    assert len(table) >= 60
    with open(identity.DEFAULT_ALIASES_PATH, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(len(row["note"]) > 20 for row in rows)
    assert all(ident.rule == "curated" for ident in table.values())


def test_it_curates_only_real_ids_that_the_rules_leave_alone(shared_data):
    for (source, raw), _ident in load_curated(identity.DEFAULT_ALIASES_PATH).items():
        if source != "*":
            assert_real(shared_data, source, raw)
        assert resolve(raw, source=source, curated={}) is None, f"{raw}: the rules already resolve it"


def test_it_describes_curated_models_as_the_rules_do(shared_data):
    """A curated slug the rules can also produce (probed by its slug or a marked id) must carry the same fields."""
    probes = {"claude-3-5-sonnet": "claude-3-5-sonnet-20240620"}
    # A row for a maker's model names the "maker/model" id the rules know it by in its note.
    with open(identity.DEFAULT_ALIASES_PATH, newline="", encoding="utf-8") as fh:
        noted = {row["model_slug"]: re.findall(r"[a-z0-9-]+/[a-z0-9._-]+", row["note"].lower())
                 for row in csv.DictReader(fh)}
    compared = 0
    curated_only = set()
    for ident in set(load_curated(identity.DEFAULT_ALIASES_PATH).values()):
        for probe in (probes.get(ident.slug, ident.slug), f"{ident.slug}-base", *noted.get(ident.slug, ())):
            by_rule = resolve(probe, curated={})
            if by_rule is not None and by_rule.slug == ident.slug:
                assert by_rule.__dict__ | {"rule": "curated"} == ident.__dict__, ident.slug
                compared += 1
                break
        else:
            curated_only.add(ident.slug)
    # Most curated models are ones the rules also know. The others (pretrained checkpoints that no
    # id names with a variant marker, makers without a rule) must stay unknown to the rules, so the
    # two can never describe one slug two ways.
    assert compared >= 100
    produced = {found.slug for _, found in _all_rule_resolutions_newest(shared_data) if found is not None}
    assert not curated_only & produced, sorted(curated_only & produced)


def test_it_applies_the_curated_table_first_then_wildcards_then_rules():
    base = resolve("meta.llama3-70b-instruct-v1:0", curated={})
    other = ModelIdentity("x-model", "X", "x", "x", "1", None, "", "curated")
    raw = "meta.llama3-70b-instruct-v1:0"
    assert resolve(raw, source="s", curated={("s", raw): other}) == other
    assert resolve("anything", source="s", curated={("*", "anything"): other}) == other
    assert resolve("anything", source="s", curated={("t", "anything"): other}) is None
    assert resolve("meta.llama3-70b-instruct-v1:0", source="s", curated={("t", "x"): other}) == base
    # a slug value (as the ModelAlias table would give) is described from the rules or the bundled table
    assert resolve("my-id", source="s", curated={("s", "my-id"): "gpt-4o"}).name == "GPT-4o"
    assert resolve("my-id", source="s", curated={("s", "my-id"): "llama-3-70b"}).variant == "base"
    with pytest.raises(ValueError, match="unknown"):
        resolve("my-id", source="s", curated={("s", "my-id"): "no-such-model"})
    assert resolve("", source="s") is None


def test_it_rejects_a_malformed_curated_table(tmp_path):
    header = ",".join(identity.CURATED_COLUMNS)
    good = "litellm,a,llama-3-70b,Llama 3 70B,meta,llama,3,70,base,Replicate naming: no suffix means base"
    cases = {
        "missing note": "litellm,a,llama-3-70b,Llama 3 70B,meta,llama,3,70,base,",
        "bad variant": "litellm,a,llama-3-70b,Llama 3 70B,meta,llama,3,70,pretrained,why not",
        "duplicate": f"{good}\n{good}",
        "conflict": f"{good}\nlitellm,b,llama-3-70b,Llama Three,meta,llama,3,70,base,same slug other name",
    }
    for what, body in cases.items():
        path = tmp_path / f"{what.replace(' ', '_')}.csv"
        path.write_text(f"{header}\n{body}\n", encoding="utf-8")
        with pytest.raises(ValueError):
            load_curated(path)
    path = tmp_path / "columns.csv"
    path.write_text("source,raw_id\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns"):
        load_curated(path)


def test_it_resolves_the_newest_litellm_file_well_under_a_fifth_of_a_second(shared_data):
    items = [(key, entry["litellm_provider"]) for key, entry in litellm_entries(shared_data).items()]
    resolve("warm-up")  # reads the bundled curated table once
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for key, provider in items:
            resolve(key, source="litellm", provider=provider)
        best = min(best, time.perf_counter() - start)
    assert len(items) > 2900
    assert best < 0.2


# ------------------------------------------------------------------------------------------
# The report the lead quotes (run with -s)
# ------------------------------------------------------------------------------------------

MAJOR_FAMILY = re.compile(
    r"llama-?v?[234]|gpt-4|gpt-5|gpt-3\.5|gpt-35|(?:^|[/.-])o[134](?:-|$)|claude-(?:3|sonnet|opus|haiku|4)"
    r"|gemini-[123]|mixtral|mistral-(?:7b|large|small|medium|nemo)|deepseek-(?:v3|r1|chat|reasoner)|qwen[23-]|qwq"
    r"|gemma", re.I,
)


def test_it_reports_the_resolved_share_per_provider(shared_data):
    entries = litellm_entries(shared_data)
    per_provider: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])  # all, ok, chat, chat ok
    major = [0, 0]
    rule_or_curated = collections.Counter()
    for key, entry in entries.items():
        found = resolve(key, source="litellm", provider=entry["litellm_provider"])
        row = per_provider[entry["litellm_provider"]]
        row[0] += 1
        row[1] += found is not None
        if entry.get("mode") == "chat":
            row[2] += 1
            row[3] += found is not None
            if MAJOR_FAMILY.search(key):
                major[0] += 1
                major[1] += found is not None
        if found is not None:
            rule_or_curated["curated" if found.rule == "curated" else "rule"] += 1

    total = [sum(r[i] for r in per_provider.values()) for i in range(4)]
    lines = [f"\nResolved share per provider, {NEWEST} ({total[0]} keys)",
             f"{'provider':<28}{'keys':>6}{'resolved':>10}{'share':>8}{'chat':>7}{'chat ok':>9}{'share':>8}"]
    for provider, (n, ok, chat, chat_ok) in sorted(per_provider.items(), key=lambda kv: (-kv[1][0], kv[0])):
        chat_share = f"{chat_ok / chat:.0%}" if chat else "-"
        lines.append(f"{provider:<28}{n:>6}{ok:>10}{ok / n:>8.0%}{chat:>7}{chat_ok:>9}{chat_share:>8}")
    lines.append(f"{'TOTAL':<28}{total[0]:>6}{total[1]:>10}{total[1] / total[0]:>8.0%}{total[2]:>7}{total[3]:>9}"
                 f"{total[3] / total[2]:>8.0%}")
    models = {slug(resolve(k, source="litellm", provider=e["litellm_provider"])) for k, e in entries.items()} - {None}
    lines.append(f"by rule {rule_or_curated['rule']}, by curated table {rule_or_curated['curated']}; "
                 f"chat ids of the major families: {major[1]}/{major[0]} = {major[1] / major[0]:.0%}; "
                 f"distinct canonical models: {len(models)}")

    for source, pairs in (
        ("openrouter " + OPENROUTER_NEWEST, [(m["id"], "") for m in _json(shared_data / "openrouter" /
                                                                           OPENROUTER_NEWEST)["data"]]),
        ("llm-prices (all vendors)", [(i, v) for v, i, _ in llm_prices_models(shared_data)]),
        ("genai-prices data_v2", [(i, p) for p, i, _ in genai_prices_models(shared_data)]),
    ):
        key = source.split()[0]
        ok = sum(resolve(raw, source=key, provider=provider) is not None for raw, provider in pairs)
        lines.append(f"{source}: {ok}/{len(pairs)} = {ok / len(pairs):.0%}")
    print("\n".join(lines))

    assert total[1] / total[0] > 0.4
    assert major[1] / major[0] > 0.75
