"""A small hand-made market for the data-quality page, ingested through the real pipeline.

Three LiteLLM-format feeds (litellm, "mirror", "tiny"), every number chosen so the
page's tables can be computed by hand (tests/quality/test_selectors.py says how):

- litellm, seen 2026-11-01 (limit 24 h: stale by 2026-11-10):
  OpenAI gpt-4o 2.5/10, gpt-4o-mini 0.15/0.6, o3 2/8; Qwen's own qwen-max 1.6/6.4;
  OpenRouter gpt-4o 3/10, o3 2.2/8.8, qwen-max 2/6.4, llama-3-8b 0.5/0.7;
  Perplexity llama-3-8b 1/1 (a first-party provider, but not Meta);
  Llama 3 70B at Together 0.9/0.9, Groq 0.59/0.79, Fireworks 0.9/0.9, DeepInfra 12/12, Novita 0.05/0.05;
  unresolved (moving aliases, which identity never resolves): openrouter/moonshotai/kimi-k2-latest,
  bedrock/moonshotai.kimi-k2-thinking-latest, moonshot/kimi-latest, zai/glm-latest.
- mirror, seen 2026-11-03 (newer, so its word wins; limit a year): gpt-4o 5/10 (input differs),
  gpt-4o-mini and o3 as litellm, Together's Llama 3 70B 0.9/1.35 (output differs), and kimi-k2-latest again.
- tiny: twelve unresolved tinyco/foo-N-latest ids on 2026-11-02, then a file with one of them on
  2026-11-04, which would end eleven of twelve offerings: held for review.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from apps.sources.models import IngestRun, Source
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source

NOW = datetime(2026, 11, 10, tzinfo=UTC)

LITELLM = {
    "gpt-4o": ("openai", 2.5, 10),
    "gpt-4o-mini": ("openai", 0.15, 0.6),
    "o3": ("openai", 2, 8),
    "dashscope/qwen-max": ("dashscope", 1.6, 6.4),
    "openrouter/openai/gpt-4o": ("openrouter", 3, 10),
    "openrouter/openai/o3": ("openrouter", 2.2, 8.8),
    "openrouter/qwen/qwen-max": ("openrouter", 2, 6.4),
    "openrouter/meta-llama/llama-3-8b-instruct": ("openrouter", 0.5, 0.7),
    "perplexity/llama-3-8b-instruct": ("perplexity", 1, 1),
    "together_ai/meta-llama/Llama-3-70b-chat-hf": ("together_ai", 0.9, 0.9),
    "groq/llama3-70b-8192": ("groq", 0.59, 0.79),
    "fireworks_ai/accounts/fireworks/models/llama-v3-70b-instruct": ("fireworks_ai", 0.9, 0.9),
    "deepinfra/meta-llama/Meta-Llama-3-70B-Instruct": ("deepinfra", 12, 12),
    "novita/meta-llama/llama-3-70b-instruct": ("novita", 0.05, 0.05),
    "openrouter/moonshotai/kimi-k2-latest": ("openrouter", 0.6, 2.5),
    "bedrock/moonshotai.kimi-k2-thinking-latest": ("bedrock", 0.6, 2.5),
    "moonshot/kimi-latest": ("moonshot", 0.6, 2.5),
    "zai/glm-latest": ("zai", 0.6, 2.2),
}
MIRROR = {
    "gpt-4o": ("openai", 5, 10),
    "gpt-4o-mini": ("openai", 0.15, 0.6),
    "o3": ("openai", 2, 8),
    "together_ai/meta-llama/Llama-3-70b-chat-hf": ("together_ai", 0.9, 1.35),
    "openrouter/moonshotai/kimi-k2-latest": ("openrouter", 0.6, 2.5),
}
TINY = {f"tinyco/foo-{n}-latest": ("tinyco", 1, 2) for n in range(1, 13)}


def doc(entries: dict[str, tuple[str, float, float]]) -> bytes:
    """A LiteLLM cost map: USD per token, so USD per 1M tokens x 1e-6."""
    return json.dumps({name: {"litellm_provider": provider, "mode": "chat",
                              "input_cost_per_token": float(f"{i}e-6"), "output_cost_per_token": float(f"{o}e-6")}
                       for name, (provider, i, o) in entries.items()}).encode()


def ingest(source: Source, entries: dict[str, tuple[str, float, float]], day: int) -> IngestRun:
    return source_ingest_bytes(source=source, content=doc(entries), trigger="command",
                               observed_at=datetime(2026, 11, day, tzinfo=UTC),
                               meta=FetchMeta(filename=f"{source.key}-{day}.json"))


@pytest.fixture
def quality_data(db) -> dict[str, Source]:
    litellm = get_source("litellm")
    mirror = Source.objects.create(key="mirror", name="A second LiteLLM-format feed", format="litellm",
                                   priority=5, freshness_hours=24 * 365)
    tiny = Source.objects.create(key="tiny", name="A small feed", format="litellm", freshness_hours=24 * 365)
    assert ingest(litellm, LITELLM, 1).status == IngestRun.Status.OK
    assert ingest(tiny, TINY, 2).status == IngestRun.Status.OK
    assert ingest(mirror, MIRROR, 3).status == IngestRun.Status.OK
    assert ingest(tiny, dict(list(TINY.items())[:1]), 4).status == IngestRun.Status.HELD
    return {"litellm": litellm, "mirror": mirror, "tiny": tiny}
