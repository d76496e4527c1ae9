"""Each data-quality read on the hand-made market of conftest.py, every figure computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.quality import selectors as q

from .conftest import NOW

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_matrix_counts_pairs_disagreements_and_the_median_gap(quality_data):
    """litellm and mirror both price gpt-4o, gpt-4o-mini, o3 (OpenAI) and Llama 3 70B (Together): 4 pairs.
    gpt-4o's input differs (2.5 vs 5: 100 %), Together's output (0.9 vs 1.35: 50 %): 2 of 4 = 50 %,
    median gap (100 + 50) / 2 = 75 %. Kimi K2 is in both, but unresolved: not a market offering."""
    frame = q.agreement_frame()
    assert frame.to_dict("records") == [{"source_a": "litellm", "source_b": "mirror", "pairs": 4, "disagree": 2,
                                         "share_pct": D("50.0"), "median_gap_pct": D("75.0")}]


def test_the_largest_disagreements_list_every_source_word_largest_gap_first(quality_data):
    frame = q.largest_disagreements()
    rows = [(r["model_slug"], r["provider_slug"], r["max_gap_pct"], r["differs_on"], r["source"], r["chosen"],
             r["input_usd_per_mtok"], r["output_usd_per_mtok"], r["last_confirmed_at"].date().day)
            for r in frame.to_dict("records")]
    assert rows == [
        ("gpt-4o", "openai", D(100), "input", "mirror", True, D(5), D(10), 3),
        ("gpt-4o", "openai", D(100), "input", "litellm", False, D("2.5"), D(10), 1),
        ("llama-3-70b-instruct", "together-ai", D(50), "output", "mirror", True, D("0.9"), D("1.35"), 3),
        ("llama-3-70b-instruct", "together-ai", D(50), "output", "litellm", False, D("0.9"), D("0.9"), 1),
    ]
    assert list(frame["rank"]) == [1, 1, 2, 2]
    assert q.disagreement_count() == 2
    assert len(q.largest_disagreements(limit=1)) == 2  # one offering, both its sources


def test_aggregator_markups_against_the_creators_own_price(quality_data):
    """OpenRouter against the market price of the model's maker: gpt-4o 3 vs 5 (mirror's word wins) = -40 %
    input, 10 vs 10 = 0 output; qwen-max 2 vs 1.6 = +25 %, 6.4 vs 6.4 = 0 (Qwen's own API is the provider
    alibaba-qwen); o3 2.2/8.8 vs 2/8 = +10 % both (both feeds agree; the newer is chosen). Llama 3 8B has no
    Meta price: Perplexity is a first-party provider, but not Meta, so it is no one's "own price" for Llama."""
    frame = q.aggregator_markups()
    rows = [(r["model_slug"], r["aggregator_slug"], r["first_party_slug"], r["aggregator_input_usd_per_mtok"],
             r["first_party_input_usd_per_mtok"], r["input_markup_pct"], r["aggregator_output_usd_per_mtok"],
             r["first_party_output_usd_per_mtok"], r["output_markup_pct"], r["first_party_source"])
            for r in frame.to_dict("records")]
    assert rows == [
        ("gpt-4o", "openrouter", "openai", D(3), D(5), D(-40), D(10), D(10), D(0), "mirror"),
        ("qwen-max", "openrouter", "alibaba-qwen", D(2), D("1.6"), D(25), D("6.4"), D("6.4"), D(0), "litellm"),
        ("o3", "openrouter", "openai", D("2.2"), D(2), D(10), D("8.8"), D(8), D(10), "mirror"),
    ]


@pytest.mark.parametrize(("creator", "slug", "name", "match"), [
    ("openai", "openai", "OpenAI", True),
    ("OpenAI", "openai", "OpenAI", True),
    ("google", "google-ai-studio", "Google AI Studio (Gemini API)", True),
    ("qwen", "alibaba-qwen", "Alibaba Cloud (Qwen)", True),
    ("moonshotai", "moonshot", "Moonshot AI", True),
    ("Zhipu AI", "zhipu-ai", "Zhipu AI (Z.ai)", True),
    ("meta", "perplexity", "Perplexity", False),
    ("mistral", "minimax", "MiniMax", False),
    ("", "openai", "OpenAI", False),
])
def test_a_creator_is_matched_to_its_own_provider_by_name(creator, slug, name, match):
    assert q.is_creators_provider(creator, slug, name) is match


def test_outliers_are_ten_times_away_from_the_median_of_the_models_other_offerings(quality_data):
    """Llama 3 70B, blended 3:1: Together 1.0125 (mirror's word: (3 x 0.9 + 1.35) / 4), Groq 0.64
    ((3 x 0.59 + 0.79) / 4), Fireworks 0.9, DeepInfra 12, Novita 0.05. Novita against median(0.64, 0.9, 1.0125,
    12) = 0.95625: 19.1x below; DeepInfra against median(0.05, 0.64, 0.9, 1.0125) = 0.77: 15.6x above. The rest
    are within 10x; models with fewer than four offerings (gpt-4o, Llama 3 8B) have too few others to judge."""
    frame = q.price_outliers()
    rows = [(r["provider_slug"], r["model_slug"], r["basis"], r["usd_per_mtok"], r["median_others_usd_per_mtok"],
             r["others"], r["times"], r["direction"], r["source"]) for r in frame.to_dict("records")]
    assert rows == [
        ("novita", "llama-3-70b-instruct", "blended 3:1", D("0.05"), D("0.95625"), 4, D("19.125"), "below",
         "litellm"),
        ("deepinfra", "llama-3-70b-instruct", "blended 3:1", D(12), D("0.77"), 4, D(12) / D("0.77"), "above",
         "litellm"),
    ]
    assert q.price_outliers(factor=20).empty
    assert len(q.price_outliers(min_others=5)) == 0


@pytest.mark.parametrize(("raw_id", "family"), [
    ("openrouter/moonshotai/kimi-k2", "kimi"),
    ("bedrock/moonshotai.kimi-k2-thinking", "kimi"),
    ("bedrock/us.moonshotai.kimi-k2-thinking-v1:0", "kimi"),
    ("moonshot/kimi-k2-0905-preview", "kimi"),
    ("GLM-4-AirX", "glm"),
    ("zai/glm-4.6", "glm"),
    ("Qwen/Qwen1.5-72B", "qwen"),
    ("dashscope/qwen3.5-plus", "qwen"),
    ("MiniMax-M2.7-highspeed", "minimax"),
    ("MiniMaxAI/MiniMax-M1-80k", "minimax"),
    ("gpt-4.1", "gpt"),
    ("ft:gpt-3.5-turbo", "gpt"),
    ("ai21.jamba-1-5-large-v1:0", "jamba"),
    ("@cf/meta/llama-3-8b-instruct", "llama"),
    ("Sao10K/L3-70B-Euryale-v2.1", "l3"),
    ("M2-her", "m2"),
])
def test_the_family_of_an_unresolved_id_is_its_leading_name(raw_id, family):
    assert q.family_guess(raw_id) == family


def test_the_unresolved_queue_ranks_families_by_the_offerings_they_cover(quality_data):
    """tiny's twelve foo ids (its held file changed nothing); kimi: three litellm ids and mirror's copy of one
    (four offerings, three ids); glm: one."""
    frame = q.unresolved_families()
    rows = [(r["family"], r["offerings"], r["ids"], r["sources"]) for r in frame.to_dict("records")]
    assert rows == [("foo", 12, 12, "tiny"), ("kimi", 4, 3, "litellm, mirror"), ("glm", 1, 1, "litellm")]
    kimi = frame.to_dict("records")[1]
    # The id covering the most offerings first, then by name.
    assert kimi["examples"] == ("openrouter/moonshotai/kimi-k2-latest, bedrock/moonshotai.kimi-k2-thinking-latest, "
                                "moonshot/kimi-latest")


def test_stale_sources_are_judged_by_the_date_of_their_data(quality_data):
    """On 2026-11-10 litellm's newest data (2026-11-01) is 9 days old against a 24 h limit: stale. mirror and
    tiny allow a year. Scheduled sources with no data at all are listed too; files-only ones are not."""
    frame = q.stale_sources(now=NOW)
    rows = {r["key"]: (r["status"], r["age_days"], r["limit_hours"]) for r in frame.to_dict("records")}
    assert rows["litellm"] == ("stale", D(9), 24)
    assert "mirror" not in rows and "tiny" not in rows and "llm-prices" not in rows
    assert rows["openrouter"] == ("never", None, 24)
    assert list(frame["key"])[-1] == "litellm"  # no data first, then the oldest
    assert frame.set_index("key").loc["litellm", "data_as_of"] == datetime(2026, 11, 1, tzinfo=UTC)
    # The tiny feed's held file: its newest accepted data is the 2nd, and it has one held snapshot.
    assert q.stale_sources(now=datetime(2027, 12, 1, tzinfo=UTC)).set_index("key").loc["tiny", "held"] == 1

