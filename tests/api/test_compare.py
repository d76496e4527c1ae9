"""/api/v1/compare/: every offering of a model ranked by a workload's effective cost; zero and labelled prices last."""

from __future__ import annotations

import pytest

from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/compare/"


def compare(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_it_ranks_offerings_by_effective_cost_and_leaves_zero_and_labelled_prices_unranked(client_user, prices):
    body = compare(client_user, model="llama-3-70b-instruct", input_tokens=1000, output_tokens=500,
                   requests_per_month=1000)
    rows = [(r["rank"], r["provider"], r["usd_per_request"], r["usd_per_month"], r["not_ranked_reason"])
            for r in body["results"]]
    assert rows == [
        # 1000 x 0.59 + 500 x 0.79 = 985 USD per 1M requests' worth of tokens -> 0.000985 per request.
        (1, "groq", "0.000985", "0.985", None),
        (2, "together-ai", "0.00135", "1.35", None),
        (None, "fireworks-ai", "0.00045", "0.45", "zero price (a missing price, not a free offer)"),
        (None, "ollama", "0", "0", "labelled price (free)"),
        (None, "replicate", None, None, "labelled price (unknown)"),
    ]
    assert body["workload"] == {"input_tokens": 1000, "output_tokens": 500, "cached_share": "0", "batch": False,
                                "requests_per_month": 1000, "input_ratio": 3, "output_ratio": 1}
    groq = body["results"][0]
    # Blended 3:1 = (3 x 0.59 + 0.79) / 4.
    assert groq["blended_usd_per_mtok"] == "0.64"
    assert groq["source"] == "litellm" and groq["source_model_id"] == "groq/llama3-70b-8192"


def test_it_prices_cached_input_and_picks_the_batch_tier_when_offered(client_user, prices):
    before_the_cut = {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 0, "as_of": "2025-03-01"}
    plain = compare(client_user, **before_the_cut)["results"]
    assert [(r["provider"], r["service_tier"], r["usd_per_request"]) for r in plain] == [
        ("openai", "standard", "0.005"), ("azure-openai", "standard", "0.0055")]
    # Half the input read from the cache: 500 x 5 + 500 x 2.5 (cache price) for openai; azure states no
    # cache price, so its input price applies to cached tokens too.
    cached = compare(client_user, **before_the_cut, cached_share="0.5")["results"]
    assert [(r["provider"], r["usd_per_request"]) for r in cached] == [("openai", "0.00375"),
                                                                      ("azure-openai", "0.0055")]
    batch = compare(client_user, model="gpt-4o", input_tokens=1000, output_tokens=1000, batch="true")["results"]
    assert [(r["provider"], r["service_tier"], r["usd_per_request"]) for r in batch] == [
        ("openai", "batch", "0.01"), ("azure-openai", "standard", "0.022")]


def test_it_uses_the_long_context_price_above_its_threshold(client_user, prices):
    short = compare(client_user, model="gemini-1.5-pro", input_tokens=128000, output_tokens=0)["results"]
    long = compare(client_user, model="gemini-1.5-pro", input_tokens=128001, output_tokens=0)["results"]
    assert [(r["min_prompt_tokens"], r["input_usd_per_mtok"]) for r in short] == [(0, "1.25")]
    assert [(r["min_prompt_tokens"], r["input_usd_per_mtok"]) for r in long] == [(128000, "2.5")]


def test_it_compares_as_of_a_past_date(client_user, prices):
    rows = compare(client_user, model="gpt-4o", input_tokens=1000, output_tokens=0, as_of="2025-03-01")["results"]
    assert rows[0]["provider"] == "openai" and rows[0]["input_usd_per_mtok"] == "5"


@pytest.mark.parametrize(("query", "parameter"), [
    ({"input_tokens": 1, "output_tokens": 1}, "model"),
    ({"model": "no-such-model", "input_tokens": 1, "output_tokens": 1}, "model"),
    ({"model": "gpt-4o", "output_tokens": 1}, "input_tokens"),
    ({"model": "gpt-4o", "input_tokens": -1, "output_tokens": 1}, "input_tokens"),
    ({"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1, "cached_share": "1.5"}, "cached_share"),
    ({"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1, "batch": "perhaps"}, "batch"),
    ({"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1, "as_of": "2025-02-30"}, "as_of"),
    ({"model": "gpt-4o", "input_tokens": 1, "output_tokens": 1, "input_ratio": 0, "output_ratio": 0},
     "output_ratio"),
    ({"model": "gpt\x00", "input_tokens": 1, "output_tokens": 1}, "model"),
])
def test_it_names_a_bad_parameter(client_user, prices, query, parameter):
    response = client_user.get(URL, query)
    assert response.status_code == 400
    assert parameter in response.json()


def test_it_exports_the_ranking_as_csv(client_user, prices):
    response = client_user.get(URL, {"model": "llama-3-70b-instruct", "input_tokens": 1000, "output_tokens": 500,
                                     "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="tokenwatch-compare-llama-3-70b')
    rows = csv_rows(response)
    assert [(r["rank"], r["provider"], r["usd_per_request"]) for r in rows][:2] == [
        ("1", "groq", "0.000985"), ("2", "together-ai", "0.00135")]
    assert rows[-1]["rank"] == "" and rows[-1]["usd_per_request"] == ""
