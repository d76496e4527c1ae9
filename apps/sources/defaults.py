"""The real sources tokenwatch knows out of the box (editable in the admin afterwards)."""

from __future__ import annotations

from typing import Any

SOURCES = [
    ("litellm", "LiteLLM model cost map", "litellm",
     "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
     "0 */6 * * *", "MIT", "BerriAI/litellm, model_prices_and_context_window.json", 24),
    ("openrouter", "OpenRouter models API", "openrouter", "https://openrouter.ai/api/v1/models",
     "0 */6 * * *", "OpenRouter terms", "OpenRouter public /api/v1/models", 24),
    ("llm-prices", "llm-prices (Simon Willison)", "llm-prices", "", "", "no licence stated",
     "simonw/llm-prices data/<vendor>.json", 24 * 30),
    ("genai-prices", "genai-prices (Pydantic)", "genai-prices",
     "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json",
     "30 */12 * * *", "MIT", "pydantic/genai-prices prices/new_data/v2/data.json", 48),
    ("llmperf", "LLMPerf leaderboard (Anyscale/Ray)", "llmperf", "", "", "Apache-2.0",
     "ray-project/llmperf-leaderboard raw_data/summary", 24 * 365 * 5),
    ("gpu-catalog", "SkyPilot catalog: Lambda Cloud VMs", "gpu-catalog",
     "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/lambda/vms.csv",
     "15 */12 * * *", "Apache-2.0 (SkyPilot project)", "skypilot-org/skypilot-catalog catalogs/v8/lambda/vms.csv",
     72),
    ("benchmarks-csv", "Curated benchmarks (CSV uploads)", "benchmarks-csv", "", "", "", "", 24 * 365 * 5),
    ("market-csv", "Curated market sizes (CSV uploads)", "market-csv", "", "", "", "", 24 * 365 * 5),
    ("hardware-csv", "Curated hardware prices (CSV uploads)", "hardware-csv", "", "", "", "", 24 * 365 * 5),
    ("providers-csv", "Curated provider landscape (CSV uploads)", "providers-csv", "", "", "", "", 24 * 365 * 5),
    # Published on TARGET days around 16:00 CET; a weekend plus a holiday is 4 days without a new file.
    ("ecb-fx", "ECB euro foreign exchange reference rates", "ecb-fx",
     "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml", "30 16 * * 1-5",
     "ECB: free reuse with the source named", "European Central Bank, euro foreign exchange reference rates",
     24 * 5),
]


# Settings of later fields (set where the model has them: an early data migration's historical model does
# not). OpenRouter's catalogue churns 30-46 % between captures a month apart, so its shrink guard holds only a
# snapshot ending more than half; market-price ties go to curated first-party list prices, then the feeds
# that state their own dates or come from the seller, then LiteLLM's community-kept map.
SETTINGS: dict[str, dict[str, Any]] = {
    "openrouter": {"shrink_guard_max_ended_pct": 50, "priority": 20, "own_provider_slug": "openrouter"},
    "llm-prices": {"priority": 30},
    "genai-prices": {"priority": 20},
    "litellm": {"priority": 10},
}


# Where each source lives, for people: an export's About sheet names it as the source's URL where the
# source has no fetch URL (llm-prices and LLMPerf come as files), so every number's origin can be looked up.
HOMEPAGES = {
    "litellm": "https://github.com/BerriAI/litellm",
    "openrouter": "https://openrouter.ai/models",
    "llm-prices": "https://github.com/simonw/llm-prices",
    "genai-prices": "https://github.com/pydantic/genai-prices",
    "llmperf": "https://github.com/ray-project/llmperf-leaderboard",
    "gpu-catalog": "https://github.com/skypilot-org/skypilot-catalog",
    "ecb-fx": "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html",
}


def sources_fill_homepages(source_model: Any) -> None:
    """Set the default homepage of each default source whose homepage is blank (a curator's value stays)."""
    for key, homepage in HOMEPAGES.items():
        source_model.objects.filter(key=key, homepage="").update(homepage=homepage)


def sources_ensure_defaults(source_model: Any) -> None:
    """Create any missing default source; existing rows (and a curator's edits) are left alone.

    Takes the model class so the data migration can pass its historical model.
    """
    for key, name, fmt, url, schedule, licence, attribution, freshness in SOURCES:
        fields = {f.name for f in source_model._meta.get_fields()}
        extra = {name: value for name, value in SETTINGS.get(key, {}).items() if name in fields}
        source_model.objects.get_or_create(
            key=key,
            defaults={
                "name": name, "format": fmt, "url": url, "schedule": schedule, "enabled": bool(url),
                "licence": licence, "attribution": attribution, "freshness_hours": freshness, **extra,
            },
        )
    sources_fill_homepages(source_model)
