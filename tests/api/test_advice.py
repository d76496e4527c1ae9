"""/api/v1/advice/: routing advice under a latency SLA, its validation, its schema and the router exports."""

from __future__ import annotations

import json

import pytest
import yaml
from django.utils import timezone

from tests.api.conftest import csv_rows
from tests.routing.conftest import MODEL, make_run

pytestmark = pytest.mark.django_db
URL = "/api/v1/advice/"
WORKLOAD = {"model": MODEL, "input_mtok_per_month": "10", "output_mtok_per_month": "2"}


@pytest.fixture
def measured(prices):
    """groq: cheaper, 420 ms to the first token; together-ai: dearer, 150 ms; both probed today."""
    now = timezone.now()
    make_run("groq", ttft_ms="420", tokens_per_s="250", error_rate="0", measured_at=now)
    make_run("together-ai", ttft_ms="150", tokens_per_s="90", error_rate="0", measured_at=now)


def advice(client, **params):
    response = client.get(URL, {**WORKLOAD, **params})
    assert response.status_code == 200, response.content
    return response


def test_it_ranks_by_monthly_cost_without_an_sla(client_user, measured):
    body = advice(client_user).json()
    rows = [(r["rank"], r["provider"], r["monthly_usd"], r["not_ranked_reason"]) for r in body["results"]]
    assert rows[:2] == [(1, "groq", "7.48", None), (2, "together-ai", "10.8", None)]
    assert {r[1]: r[3] for r in rows[2:]} == {
        "fireworks-ai": "zero price (a missing price, not a free offer)",
        "ollama": "labelled price (free)", "replicate": "labelled price (unknown)"}
    groq = body["results"][0]
    assert (groq["speed_source"], groq["speed_is_probe"], groq["ttft_p50_ms"], groq["stale"]) == (
        "probe", True, "420", False)
    assert body["sla"] == {"max_ttft_ms": None, "min_output_tokens_per_s": None, "max_error_rate": None,
                           "max_age_days": 30}


def test_it_ranks_only_what_meets_max_ttft(client_user, measured):
    body = advice(client_user, max_ttft_ms="300").json()
    assert [(r["rank"], r["provider"]) for r in body["results"] if r["rank"]] == [(1, "together-ai")]
    groq = next(r for r in body["results"] if r["provider"] == "groq")
    assert groq["not_ranked_reason"] == "TTFT p50 420 ms > 300 ms"


@pytest.mark.parametrize(("params", "field", "says"), [
    ({"model": "no-such-model"}, "model", "No canonical model"),
    ({"input_mtok_per_month": "-1"}, "input_mtok_per_month", "a number >= 0 below 1000000000"),
    ({"output_mtok_per_month": "lots"}, "output_mtok_per_month", "millions of tokens"),
    ({"max_ttft_ms": "fast"}, "max_ttft_ms", "milliseconds: a number >= 0"),
    ({"min_output_tokens_per_s": "1e3"}, "min_output_tokens_per_s", "tokens per second"),
    ({"max_error_rate": "1.5"}, "max_error_rate", "a share between 0 and 1"),
    ({"input_mtok_per_month": "0.0000001"}, "input_mtok_per_month", "at most 6 decimal places"),
    ({"input_mtok_per_month": "2000000000"}, "input_mtok_per_month", "below 1000000000"),
    ({"max_age_days": "0"}, "max_age_days", "greater than or equal to 1"),
])
def test_it_answers_bad_parameters_with_a_400_naming_them(client_user, prices, params, field, says):
    response = client_user.get(URL, {**WORKLOAD, **params})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert says in " ".join(response.json()[field])


def test_it_needs_the_model_and_the_workload(client_user, prices):
    response = client_user.get(URL)
    assert response.status_code == 400
    assert set(response.json()) == {"model", "input_mtok_per_month", "output_mtok_per_month"}


def test_a_bad_parameter_is_a_json_400_even_when_an_export_was_asked_for(client_user, prices):
    response = client_user.get(URL, {**WORKLOAD, "max_ttft_ms": "x", "format": "litellm-yaml"})
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")


def test_it_exports_csv(client_user, measured):
    response = advice(client_user, max_ttft_ms="300", format="csv")
    assert response["Content-Disposition"].startswith('attachment; filename="tokenwatch-advice-llama-3-70b-instruct')
    rows = csv_rows(response)
    assert [(r["rank"], r["provider"], r["ttft_p50_ms"]) for r in rows[:2]] == [("1", "together-ai", "150"),
                                                                                ("", "fireworks-ai", "")]


def test_it_exports_a_litellm_model_list_in_rank_order(client_user, measured):
    response = advice(client_user, format="litellm-yaml")
    assert response["Content-Type"].startswith("application/yaml")
    assert response["Content-Disposition"].endswith('-litellm-router-llama-3-70b-instruct.yaml"')
    config = yaml.safe_load(response.content)
    assert [(d["model_name"], d["litellm_params"]["model"], d["litellm_params"]["order"])
            for d in config["model_list"]] == [(MODEL, "groq/llama3-70b-8192", 1),
                                                (MODEL, "together_ai/meta-llama/Llama-3-70b-chat-hf", 2)]
    under_sla = yaml.safe_load(advice(client_user, format="litellm-yaml", max_ttft_ms="300").content)
    assert [d["litellm_params"]["model"] for d in under_sla["model_list"]] == [
        "together_ai/meta-llama/Llama-3-70b-chat-hf"]


def test_it_exports_openrouter_provider_preferences(client_user, measured):
    response = advice(client_user, format="openrouter-json")
    assert response["Content-Disposition"].endswith('-openrouter-provider-llama-3-70b-instruct.json"')
    assert json.loads(response.content) == {"order": ["groq", "together"], "allow_fallbacks": True}
    strict = json.loads(advice(client_user, format="openrouter-json", max_ttft_ms="300").content)
    assert strict == {"order": ["together"], "allow_fallbacks": False}


def test_the_schema_documents_the_advice_and_both_exports():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/advice/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "model", "input_mtok_per_month", "output_mtok_per_month", "max_ttft_ms", "min_output_tokens_per_s",
        "max_error_rate", "format"}
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv", "application/yaml",
                            "application/vnd.openrouter.provider+json"}
    assert content["application/yaml"]["schema"]["$ref"].endswith("/LiteLLMConfig")
    assert content["application/vnd.openrouter.provider+json"]["schema"]["$ref"].endswith("/OpenRouterPreferences")
    assert "400" in operation["responses"]
