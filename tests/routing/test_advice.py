"""apps/routing/advice.py: offerings that meet a latency SLA ranked by monthly cost, the others with reasons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.routing.conftest import MODEL, NOW, make_run

pytestmark = pytest.mark.django_db


def advise(**sla):
    from apps.catalog.models import Model
    from apps.routing.advice import SLA, routing_advice

    return routing_advice(model=Model.objects.get(slug=MODEL), input_mtok_per_month=Decimal(10),
                          output_mtok_per_month=Decimal(2),
                          sla=SLA(**{k: Decimal(v) for k, v in sla.items()}), now=NOW, max_age=30)


def ranked(advice):
    return [(r.rank, r.provider.slug, r.monthly_usd) for r in advice.ranked]


def reasons(advice):
    return {r.provider.slug: list(r.reasons) for r in advice.rejected}


def test_it_ranks_the_cheapest_first_without_an_sla(market):
    make_run("groq", ttft_ms="420", tokens_per_s="250")
    make_run("together-ai", ttft_ms="150", tokens_per_s="90")
    advice = advise()
    # 10 M x 0.59 + 2 M x 0.79 = 7.48; 10 M x 0.9 + 2 M x 0.9 = 10.8 USD a month.
    assert ranked(advice) == [(1, "groq", Decimal("7.48")), (2, "together-ai", Decimal("10.8"))]
    assert reasons(advice) == {"fireworks-ai": ["zero price (a missing price, not a free offer)"],
                               "ollama": ["labelled price (free)"], "replicate": ["labelled price (unknown)"]}
    assert advice.ranked[0].measurement.ttft_p50_ms == Decimal("420")


def test_it_picks_the_faster_one_when_only_it_meets_max_ttft(market):
    make_run("groq", ttft_ms="420", tokens_per_s="250")
    make_run("together-ai", ttft_ms="150", tokens_per_s="90")
    advice = advise(max_ttft_ms="300")
    assert ranked(advice) == [(1, "together-ai", Decimal("10.8"))]
    assert reasons(advice)["groq"] == ["TTFT p50 420 ms > 300 ms"]


def test_it_rejects_offerings_without_a_measured_speed_under_an_sla(market):
    make_run("groq", ttft_ms="120", tokens_per_s="250")
    advice = advise(min_output_tokens_per_s="100")
    assert ranked(advice) == [(1, "groq", Decimal("7.48"))]
    assert reasons(advice)["together-ai"] == ["no measured speed"]
    # Without an SLA the same offering is ranked, its missing speed only shown.
    plain = advise()
    assert [r.provider.slug for r in plain.ranked] == ["groq", "together-ai"]
    assert plain.ranked[1].measurement is None


def test_it_marks_old_measurements_stale_and_does_not_trust_them_for_an_sla(market):
    make_run("groq", ttft_ms="120", tokens_per_s="250", measured_at=NOW - timedelta(days=31))
    make_run("together-ai", ttft_ms="150", tokens_per_s="90", measured_at=NOW - timedelta(days=29))
    plain = advise()
    assert [(r.provider.slug, r.measurement.stale) for r in plain.ranked] == [("groq", True), ("together-ai", False)]
    advice = advise(max_ttft_ms="300")
    assert ranked(advice) == [(1, "together-ai", Decimal("10.8"))]
    assert reasons(advice)["groq"] == ["stale measurement (probe, 2025-07-01; older than 30 days)"]


def test_it_applies_the_error_rate_sla(market):
    make_run("groq", ttft_ms="120", tokens_per_s="250", error_rate="0.05")
    make_run("together-ai", ttft_ms="150", tokens_per_s="90", error_rate="0.001")
    advice = advise(max_error_rate="0.01")
    assert ranked(advice) == [(1, "together-ai", Decimal("10.8"))]
    assert reasons(advice)["groq"] == ["error rate 0.05 > 0.01"]


def test_it_prefers_probe_runs_to_newer_published_ones_and_marks_other_workloads_not_comparable(market):
    make_run("groq", ttft_ms="400", tokens_per_s="100", source="llmperf", measured_at=NOW,
             workload=(550, 150, 5), mean_only=True)
    make_run("groq", ttft_ms="200", tokens_per_s="300", measured_at=NOW - timedelta(days=2))
    make_run("together-ai", ttft_ms="150", tokens_per_s="90", measured_at=NOW - timedelta(days=1))
    make_run("together-ai", ttft_ms="150", tokens_per_s="90", measured_at=NOW - timedelta(days=400),
             source="llmperf", workload=(550, 150, 5), mean_only=True)
    advice = advise()
    groq = advice.ranked[0].measurement
    assert (groq.source, groq.ttft_p50_ms, groq.output_tokens_per_s_basis) == ("probe", Decimal("200"), "p50")
    assert all(r.measurement.comparable for r in advice.ranked)


def test_it_names_the_published_mean_and_marks_a_different_workload(market):
    make_run("groq", ttft_ms="400", tokens_per_s="100", source="llmperf", workload=(550, 150, 5), mean_only=True)
    make_run("together-ai", ttft_ms="150", tokens_per_s="90")
    make_run("fireworks-ai", ttft_ms="150", tokens_per_s="90")
    advice = advise(min_output_tokens_per_s="120")
    assert reasons(advice)["groq"] == ["output 100 tokens/s (mean) < 120 tokens/s"]
    by_provider = {r.provider.slug: r.measurement for r in advice.rows if r.measurement}
    assert by_provider["groq"].comparable is False and by_provider["together-ai"].comparable is True


def test_the_router_exports_name_the_ranked_order(market):
    import json

    import yaml

    from apps.routing.exports import litellm_yaml, openrouter_preferences

    make_run("groq", ttft_ms="420", tokens_per_s="250")
    make_run("together-ai", ttft_ms="150", tokens_per_s="90")
    config = yaml.safe_load(litellm_yaml(advise()))
    assert [(d["model_name"], d["litellm_params"]["model"], d["litellm_params"]["order"])
            for d in config["model_list"]] == [
        (MODEL, "groq/llama3-70b-8192", 1), (MODEL, "together_ai/meta-llama/Llama-3-70b-chat-hf", 2)]
    assert config["model_list"][0]["litellm_params"]["api_key"] == "os.environ/GROQ_API_KEY"
    assert config["model_list"][0]["model_info"] == {"tokenwatch_rank": 1, "provider": "groq", "region": None,
                                                     "monthly_usd": "7.48", "litellm_model_from_cost_map": True}
    assert "SLA: none (ranked by cost alone)" in litellm_yaml(advise())
    assert "SLA: max_ttft_ms=300;" in litellm_yaml(advise(max_ttft_ms="300"))
    assert json.loads(json.dumps(openrouter_preferences(advise()))) == {"order": ["groq", "together"],
                                                                         "allow_fallbacks": True}
    assert openrouter_preferences(advise(max_ttft_ms="300")) == {"order": ["together"], "allow_fallbacks": False}
