"""Issue 10's acceptance on the real files: "The Compare page for Llama 3 70B Instruct shows each provider
once; for o3 OpenAI appears once with the disagreement visible".

LiteLLM's newest bundled file, genai-prices and llm-prices' OpenAI sheet (../shared/data), each at the date
its snapshot was taken. Without market prices the page listed OpenRouter's Llama 3 70B twice (0.59/0.79 from
LiteLLM, 0.3/0.4 from genai-prices) and OpenAI's o3 three times (10/40 from llm-prices, 2/8 from the others).
"""

from datetime import datetime

import pytest

from tests.conftest import FIXTURES

from .html_tables import read_expansions, read_table

pytestmark = pytest.mark.django_db

FILES = [
    ("litellm", FIXTURES / "litellm/model_prices_2026-07-24_rocry-8442b93.json", None),  # states last_updated
    ("genai-prices", "genai-prices/data_v2.json", "2026-08-21T15:02:24-05:00"),  # commit date (MANIFEST.md)
    ("llm-prices", "llm-prices/openai.json", "2026-08-05T18:25:35-07:00"),
]


@pytest.fixture
def real(ingest_file, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    for key, path, observed in FILES:
        run = ingest_file(key, path, observed_at=datetime.fromisoformat(observed) if observed else None)
        assert run.status != "failed", run.message
    return client


def _rows(client, url: str, table: str = "offerings") -> tuple[str, list[dict[str, str]]]:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    headers, rows = read_table(html, table)
    return html, [dict(zip(headers, row, strict=True)) for row in rows]


def test_each_provider_once_for_llama_3_70b_and_openai_once_for_o3_with_the_disagreement_visible(real):
    # Llama 3 70B Instruct: one row per offering (a provider once per region and tier).
    _, rows = _rows(real, "/compare/?model=llama-3-70b-instruct")
    offers = [(r["Provider"], r["Region"], r["Tier"]) for r in rows]
    assert len(offers) == len(set(offers)) and len(offers) > 10
    standard_global = [r["Provider"] for r in rows if r["Tier"] == "standard" and r["Region"] == "—"]
    assert len(standard_global) == len(set(standard_global))
    [openrouter] = [r for r in rows if r["Provider"] == "OpenRouter"]
    assert openrouter["Sources agree"].startswith("⚠ sources differ")
    assert openrouter["Chosen source"] == "genai-prices"  # confirmed 2026-08-21, LiteLLM 2026-07-24
    assert openrouter["Other sources"] == "litellm: 0.59/0.79 (2026-07-24)"
    assert [r["Provider"] for r in rows].count("Novita AI") == 1  # twice before (LiteLLM and genai-prices)
    _, ranked = _rows(real, "/compare/?model=llama-3-70b-instruct", "workload")
    ranked_offers = [(r["Provider"], r["Region"]) for r in ranked]
    assert len(ranked_offers) == len(set(ranked_offers))
    # The evidence is one toggle away: every source's row, as before.
    _, per_source = _rows(real, "/compare/?model=llama-3-70b-instruct&per_source=1")
    assert [r["Provider"] for r in per_source].count("OpenRouter") == 2

    # o3: OpenAI once (its standard tier; flex and priority are other offerings), the disagreement visible.
    html, rows = _rows(real, "/compare/?model=o3")
    openai = [r for r in rows if r["Provider"] == "OpenAI" and r["Tier"] == "standard"]
    assert len(openai) == 1
    assert openai[0]["Sources agree"] == "⚠ sources differ (+400 %)"  # 10/40 against 2/8
    opened = read_expansions(html, "offerings")[rows.index(openai[0])]
    for text in ("llm-prices", "genai-prices", "litellm", "10", "40", "2", "8", "chosen"):
        assert text in opened, text
    assert "llm-prices: 10/40" in openai[0]["Other sources"] or openai[0]["Chosen source"] == "llm-prices"
    _, ranked = _rows(real, "/compare/?model=o3", "workload")
    assert [r["Provider"] for r in ranked].count("OpenAI") == 1
    _, per_source = _rows(real, "/compare/?model=o3&per_source=1")
    assert len([r for r in per_source if r["Provider"] == "OpenAI" and r["Tier"] == "standard"]) == 3
