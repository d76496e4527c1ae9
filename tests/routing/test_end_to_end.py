"""Issue 15's acceptance, end to end: two loopback "providers" of different speeds and prices, a probe of each
through a real Celery worker on Redis, then /api/v1/advice/ picks the cheaper one without an SLA and the faster
one under a max_ttft_ms only it meets; the router exports parse and name that order."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from apps.probes.models import ProbeRun
from tests.api.conftest import ingest_litellm, token_client
from tests.probes.conftest import api_key, provider_servers, two_providers  # noqa: F401  (fixtures)
from tests.probes.test_worker import probe_worker  # noqa: F401  (fixture)
from tests.workers import wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
MODEL = "llama-3-70b-instruct"
URL = "/api/v1/advice/"
# slow-cloud is the cheaper: 10 M in x 0.5 + 2 M out x 0.5 = 6 USD a month; fast-cloud 10 x 0.9 + 2 x 0.9 = 10.8.
PRICES = {
    "fast_cloud/meta-llama/Llama-3-70b-chat-hf": {"litellm_provider": "fast_cloud", "mode": "chat",
                                                  "input_cost_per_token": 9e-07, "output_cost_per_token": 9e-07},
    "slow_cloud/meta-llama/Llama-3-70b-chat-hf": {"litellm_provider": "slow_cloud", "mode": "chat",
                                                  "input_cost_per_token": 5e-07, "output_cost_per_token": 5e-07},
}


def test_probed_speeds_choose_the_cheaper_without_an_sla_and_the_faster_under_max_ttft(
        probe_worker, two_providers, django_user_model):  # noqa: F811
    from apps.catalog.models import Model, ModelAlias
    from apps.catalog.services import alias_resolve
    from apps.pricing.models import MarketPrice

    ingest_litellm(PRICES, datetime(2026, 1, 1, tzinfo=UTC), "loopback-prices.json")
    # Made-up providers' ids match no identity rule: a curator names their model, as in the admin.
    for alias in ModelAlias.objects.filter(raw_id__in=PRICES, model=None):
        alias_resolve(alias=alias, model=Model.objects.get(slug=MODEL))
    assert set(MarketPrice.objects.filter(model__slug=MODEL).values_list("provider__slug", flat=True)) == {
        "fast-cloud", "slow-cloud"}
    celery, queue, log = probe_worker
    for target in (two_providers.fast, two_providers.slow):
        celery.send_task("apps.probes.tasks.probe_target", args=[target.pk], queue=queue)
    wait_for(lambda: ProbeRun.objects.count() == 2, log, timeout=120)

    client = token_client(django_user_model.objects.create_user("reader", password="pw-reader-1"))
    workload = {"model": MODEL, "input_mtok_per_month": "10", "output_mtok_per_month": "2"}

    def ranked(**params) -> list[tuple[int, str, str]]:
        response = client.get(URL, {**workload, **params})
        assert response.status_code == 200, response.content
        return [(r["rank"], r["provider"], r["speed_source"]) for r in response.json()["results"] if r["rank"]]

    assert ranked() == [(1, "slow-cloud", "probe"), (2, "fast-cloud", "probe")]
    # fast-cloud answers its first token after ~100 ms, slow-cloud after ~400 ms.
    assert ranked(max_ttft_ms="250") == [(1, "fast-cloud", "probe")]
    rejected = client.get(URL, {**workload, "max_ttft_ms": "250"}).json()["results"]
    assert next(r for r in rejected if r["provider"] == "slow-cloud")["not_ranked_reason"].startswith("TTFT p50 ")

    config = yaml.safe_load(client.get(URL, {**workload, "format": "litellm-yaml"}).content)
    assert [(d["litellm_params"]["model"], d["litellm_params"]["order"]) for d in config["model_list"]] == [
        ("slow_cloud/meta-llama/Llama-3-70b-chat-hf", 1), ("fast_cloud/meta-llama/Llama-3-70b-chat-hf", 2)]
    strict = json.loads(client.get(URL, {**workload, "max_ttft_ms": "250", "format": "openrouter-json"}).content)
    assert strict == {"order": ["fast-cloud"], "allow_fallbacks": False}
