"""Choose a provider (/advice/): the form, the ranking under an SLA, the reasons, the charts and the router exports."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import pytest
import yaml
from django.utils import timezone

from tests.routing.conftest import MODEL, make_run, market  # noqa: F401  (market: the fixture)

pytestmark = pytest.mark.django_db
URL = "/advice/"


@pytest.fixture
def measured(market, settings):  # noqa: F811
    settings.TOKENWATCH_PUBLIC_API = True
    now = timezone.now()
    make_run("groq", ttft_ms="420", tokens_per_s="250", error_rate="0", measured_at=now)
    make_run("together-ai", ttft_ms="150", tokens_per_s="90", error_rate="0", measured_at=now)
    make_run("fireworks-ai", ttft_ms="100", tokens_per_s="300", measured_at=now - timedelta(days=90))


def get(client, **params):
    response = client.get(URL, {"model": MODEL, "input_mtok": "10", "output_mtok": "2", **params})
    assert response.status_code == 200
    return response


def test_it_is_in_the_navigation(client, measured):
    assert b'href="/advice/"' in client.get("/").content


def test_it_ranks_by_cost_without_an_sla(client, measured):
    response = get(client)
    ranked = response.context["tables"]["ranked"].frame
    assert list(ranked["provider"]) == ["groq", "together-ai"]
    assert "Groq</strong>: <strong class=\"num\">7.48 USD</strong> a month" in response.content.decode()


def test_under_max_ttft_it_ranks_the_faster_one_and_says_why_not_the_other(client, measured):
    response = get(client, max_ttft_ms="300")
    ranked = response.context["tables"]["ranked"].frame
    rejected = response.context["tables"]["not-ranked"].frame.set_index("provider")
    assert list(ranked["provider"]) == ["together-ai"]
    assert rejected.loc["groq", "not_ranked_reason"] == "TTFT p50 420 ms > 300 ms"
    assert rejected.loc["fireworks-ai", "not_ranked_reason"].startswith("zero price")
    html = response.content.decode()
    assert "TTFT p50 420 ms &gt; 300 ms" in html
    assert 'data-download="litellm-yaml"' in html and 'data-download="openrouter-json"' in html


def test_a_bad_value_is_a_message_not_an_error_page(client, measured):
    response = get(client, max_ttft_ms="fast", max_error_rate="2")
    errors = " ".join(response.context["errors"])
    assert "max_ttft_ms: Enter a number." in errors and "max_error_rate" in errors
    # The bad limits fall back to "no limit": both priced offerings ranked.
    assert list(response.context["tables"]["ranked"].frame["provider"]) == ["groq", "together-ai"]


def test_an_unknown_model_is_a_404(client, measured):
    assert client.get(URL, {"model": "no-such-model"}).status_code == 404


def test_the_charts_draw_the_sla_and_the_frontier(client, measured):
    charts = get(client, max_ttft_ms="300", min_output_tokens_per_s="80").context["charts"]
    ttft = json.loads(charts["ttft"].json)
    for chart in ("ttft", "speed"):  # built without Plotly's checks for speed: every property must be valid
        go.Figure(json.loads(charts[chart].json))
    assert [s["x0"] for s in ttft["layout"]["shapes"]] == [300.0]
    names = [t.get("name") for t in ttft["data"]]
    assert names == ["Pareto frontier", "Meets the SLA (ranked)", "Not ranked"]
    frontier = ttft["data"][0]
    assert (frontier["x"], frontier["y"]) == ([150.0, 420.0], [10.8, 7.48])  # together-ai, then groq
    speed = json.loads(charts["speed"].json)
    assert [s["x0"] for s in speed["layout"]["shapes"]] == [80.0]
    assert "SLA line is at 80 tokens/s" in charts["speed"].summary


def test_the_router_exports_download_in_rank_order(client, measured):
    response = get(client, export="litellm-yaml")
    assert response["Content-Disposition"].endswith(f'litellm-router-{MODEL}.yaml"')
    models = [d["litellm_params"]["model"] for d in yaml.safe_load(response.content)["model_list"]]
    assert models == ["groq/llama3-70b-8192", "together_ai/meta-llama/Llama-3-70b-chat-hf"]
    strict = json.loads(get(client, export="openrouter-json", max_ttft_ms="300").content)
    assert strict == {"order": ["together"], "allow_fallbacks": False}
    assert client.get(URL, {"model": MODEL, "export": "pdf"}).status_code == 404


def test_the_csv_download_is_the_table_on_screen(client, measured):
    import csv
    import io

    response = get(client, max_ttft_ms="300", download="csv", table="not-ranked")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["Provider"]: r["Why not ranked"] for r in rows}["Groq"] == "TTFT p50 420 ms > 300 ms"


def test_the_pareto_frontier_keeps_only_what_nothing_beats():
    from apps.dashboard.charts_advice import pareto_frontier

    points = pd.DataFrame({"x": [100.0, 200.0, 300.0, 150.0], "y": [9.0, 5.0, 7.0, 12.0]})
    # Lower x is better (TTFT): 100 ms at $9 and 200 ms at $5; 300 ms at $7 and 150 ms at $12 are beaten.
    assert list(pareto_frontier(points, lower_is_better=True).index) == [0, 1]
    # Higher x is better (tokens/s): 300 at $7 and 200 at $5; the others are beaten by 200 at $5.
    assert sorted(pareto_frontier(points, lower_is_better=False).index) == [1, 2]
