"""Router configurations from an :class:`~apps.routing.advice.Advice`: the advice, straight into the router a team runs.

- LiteLLM Router ``model_list`` (YAML, the proxy's ``config.yaml`` shape): one deployment per ranked
  offering, all under the canonical model's name, ``litellm_params.order`` 1, 2, 3… in rank order (LiteLLM
  tries the lowest ``order`` first and moves on when it fails). The key is a reference to an environment
  variable (``os.environ/GROQ_API_KEY``), never a key.
- OpenRouter ``provider`` preferences (JSON): ``order`` = the ranked providers' OpenRouter slugs, and
  ``allow_fallbacks`` false when an SLA was given (OpenRouter's other providers were not shown to meet it),
  true without one. Aggregators (OpenRouter itself) are not providers OpenRouter can route to and are left out.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from apps.catalog.models import Provider

from .advice import SLA, Advice, number_text

# tokenwatch's provider slugs where OpenRouter spells the provider otherwise (its routing slugs).
OPENROUTER_SLUGS = {
    "together-ai": "together", "fireworks-ai": "fireworks", "bedrock": "amazon-bedrock",
    "vertex-ai": "google-vertex", "gemini": "google-ai-studio", "mistral": "mistral", "azure": "azure",
    "deepinfra": "deepinfra", "groq": "groq", "openai": "openai", "anthropic": "anthropic",
}


def openrouter_slug(provider: Provider) -> str:
    return OPENROUTER_SLUGS.get(provider.slug, provider.slug)


def api_key_env(litellm_model: str) -> str:
    """``os.environ/GROQ_API_KEY`` for ``groq/…``: LiteLLM reads the key from that variable at start-up."""
    prefix = litellm_model.split("/", 1)[0] if "/" in litellm_model else "openai"
    return f"os.environ/{re.sub(r'[^A-Za-z0-9]+', '_', prefix).upper()}_API_KEY"


def litellm_model_list(advice: Advice) -> dict[str, Any]:
    deployments = []
    seen: set[str] = set()
    for row in advice.ranked:
        if row.litellm_model in seen:  # two regions under one LiteLLM id are one deployment to LiteLLM
            continue
        seen.add(row.litellm_model)
        deployments.append({
            "model_name": advice.model.slug,
            "litellm_params": {"model": row.litellm_model, "api_key": api_key_env(row.litellm_model),
                               "order": len(deployments) + 1},
            "model_info": {"tokenwatch_rank": row.rank, "provider": row.provider.slug,
                           "region": row.region or None,
                           "monthly_usd": None if row.monthly_usd is None else number_text(row.monthly_usd),
                           # false: no LiteLLM cost-map id for this offering; the prefix is the provider's slug.
                           "litellm_model_from_cost_map": row.litellm_model_from_cost_map},
        })
    return {"model_list": deployments}


def sla_text(sla: SLA) -> str:
    limits = [f"{name}={number_text(value)}" for name, value in sla.__dict__.items() if value is not None]
    return ", ".join(limits) if limits else "none (ranked by cost alone)"


def litellm_yaml(advice: Advice) -> str:
    header = (f"# tokenwatch routing advice for {advice.model.slug}: {number_text(advice.input_mtok_per_month)} M "
              f"input and {number_text(advice.output_mtok_per_month)} M output tokens a month; "
              f"SLA: {sla_text(advice.sla)}; computed {advice.as_of:%Y-%m-%d %H:%M} UTC.\n"
              "# Deployments in rank order (cheapest that meets the SLA first): LiteLLM tries order 1 first.\n")
    return header + yaml.safe_dump(litellm_model_list(advice), sort_keys=False, allow_unicode=True)


def openrouter_preferences(advice: Advice) -> dict[str, Any]:
    order: list[str] = []
    for row in advice.ranked:
        if row.provider.kind == Provider.Kind.AGGREGATOR:
            continue
        slug = openrouter_slug(row.provider)
        if slug not in order:
            order.append(slug)
    return {"order": order, "allow_fallbacks": not advice.sla.is_set}
