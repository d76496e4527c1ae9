"""API test data: two small LiteLLM-format snapshots through the real ingest pipeline, and clients.

Small on purpose (a dozen offerings), but real-shaped: a model sold by several
providers, a batch tier, a long-context tier, a cache price, a free local
runtime, a price cut between the snapshots, and a raw id that is a
spreadsheet formula.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source

FORMULA_ID = '=HYPERLINK("http://evil.example","x")'

V1 = {
    "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 5e-06,
               "output_cost_per_token": 1.5e-05, "cache_read_input_token_cost": 2.5e-06,
               "input_cost_per_token_batches": 2.5e-06, "output_cost_per_token_batches": 7.5e-06},
    "azure/gpt-4o": {"litellm_provider": "azure", "mode": "chat", "input_cost_per_token": 5.5e-06,
                     "output_cost_per_token": 1.65e-05},
    "groq/llama3-70b-8192": {"litellm_provider": "groq", "mode": "chat", "input_cost_per_token": 5.9e-07,
                             "output_cost_per_token": 7.9e-07},
    "together_ai/meta-llama/Llama-3-70b-chat-hf": {"litellm_provider": "together_ai", "mode": "chat",
                                                   "input_cost_per_token": 9e-07, "output_cost_per_token": 9e-07},
    "ollama/llama3:70b": {"litellm_provider": "ollama", "mode": "chat", "input_cost_per_token": 0,
                          "output_cost_per_token": 0},
    # A zero input price without a label: listed, never ranked cheapest.
    "fireworks_ai/accounts/fireworks/models/llama-v3-70b-instruct": {
        "litellm_provider": "fireworks_ai", "mode": "chat", "input_cost_per_token": 0,
        "output_cost_per_token": 9e-07},
    # No token price at all: labelled unknown.
    "replicate/meta/meta-llama-3-70b-instruct": {"litellm_provider": "replicate", "mode": "chat"},
    "gemini/gemini-1.5-pro": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 1.25e-06,
                              "output_cost_per_token": 5e-06, "input_cost_per_token_above_128k_tokens": 2.5e-06,
                              "output_cost_per_token_above_128k_tokens": 1e-05},
    # Priced per pixel, not per token: a unit price (its amount arrives as 2.4414E-7).
    "256-x-256/dall-e-2": {"litellm_provider": "openai", "mode": "image_generation",
                           "input_cost_per_pixel": 2.4414e-07, "output_cost_per_pixel": 0.0},
    "text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 2e-08,
                               "output_cost_per_token": 0},
    # A bad row: quarantined with its reason, the rest of the file goes in.
    "broken/model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "a lot"},
    FORMULA_ID: {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                 "output_cost_per_token": 2e-06},
}

# Half a year later OpenAI halves gpt-4o's input price and cuts output by a third.
V2 = json.loads(json.dumps(V1))
V2["gpt-4o"].update({"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05})

V1_AT = datetime(2025, 1, 1, tzinfo=UTC)
V2_AT = datetime(2025, 7, 1, tzinfo=UTC)


def ingest_litellm(document: dict, observed_at: datetime, name: str):
    run = source_ingest_bytes(source=get_source("litellm"), content=json.dumps(document).encode(),
                              trigger="command", observed_at=observed_at, meta=FetchMeta(filename=name))
    assert run.status == "ok", run.message
    return run


@pytest.fixture
def prices(db):
    """The two snapshots ingested; returns their ingest runs."""
    return ingest_litellm(V1, V1_AT, "v1.json"), ingest_litellm(V2, V2_AT, "v2.json")


@pytest.fixture(autouse=True)
def _fresh_throttles(settings):
    # Throttle counters live in the cache; one test's requests must not throttle the next,
    # and tests that page through everything must not hit the production rates.
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": "100000/min", "user": "100000/min"}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("analyst", password="pw-analyst-1")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("curator", password="pw-curator-1", is_staff=True)


def token_client(user) -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def client_user(user) -> APIClient:
    """An authenticated reader (API token)."""
    return token_client(user)


@pytest.fixture
def client_staff(staff) -> APIClient:
    return token_client(staff)


@pytest.fixture
def public_api(settings):
    settings.TOKENWATCH_PUBLIC_API = True


@pytest.fixture
def wsgi_connections_kept():
    """As Django's test client does: keep the test's database connection (and its transaction) open across
    requests made straight to the WSGI application, which would otherwise close it at each request's start
    and end."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def all_pages(client: APIClient, url: str) -> list[dict]:
    """Follow next links to the end."""
    rows: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        rows.extend(body["results"])
        url = body["next"]
    return rows


def csv_rows(response) -> list[dict[str, str]]:
    import csv
    import io

    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@pytest.fixture
def economics(prices):
    """The bundled seed benchmark table, Lambda's hourly prices, an LLMPerf run and the seed market table."""
    from apps.benchmarks.models import BenchmarkRun
    from apps.catalog.models import Model
    from apps.catalog.services import alias_resolve
    from tests.conftest import FIXTURES

    def ingest(key: str, path: str, observed_at: datetime | None):
        run = source_ingest_bytes(source=get_source(key), content=(FIXTURES / path).read_bytes(), trigger="command",
                                  observed_at=observed_at, meta=FetchMeta(filename=path.rsplit("/", 1)[-1]))
        assert run.status == "ok", run.message
        return run

    seed_day = datetime(2024, 1, 1, tzinfo=UTC)
    ingest("benchmarks-csv", "seed-article/benchmarks.csv", seed_day)
    ingest("hardware-csv", "hardware/lambda_gpu_prices.csv", datetime(2025, 6, 1, tzinfo=UTC))
    ingest("llmperf", "llmperf/groq_70b.json", None)
    ingest("market-csv", "seed-article/market_segments.csv", seed_day)
    # A curator names the seed table's "Llama 3 70B" (LLMPerf's llama2-70b stays apart: another model).
    seed = BenchmarkRun.objects.select_related("alias").filter(source_model_id="Llama 3 70B").first()
    if seed.alias.model_id is None:
        alias_resolve(alias=seed.alias, model=Model.objects.get(slug="llama-3-70b-instruct"))


def second_opinion() -> None:
    """A second LiteLLM-format source that prices gpt-4o differently: one disagreement."""
    import json
    from datetime import UTC, datetime

    from apps.sources.models import Source
    from apps.sources.services import FetchMeta, source_ingest_bytes

    mirror = Source.objects.create(key="mirror", name="Mirror", format="litellm")
    content = json.dumps({"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 9e-06,
                                     "output_cost_per_token": 1e-05}}).encode()
    run = source_ingest_bytes(source=mirror, content=content, trigger="command",
                              observed_at=datetime(2025, 8, 1, tzinfo=UTC), meta=FetchMeta(filename="m.json"))
    assert run.status == "ok", run.message
