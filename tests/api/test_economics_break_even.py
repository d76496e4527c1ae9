"""/api/v1/economics/break-even/: self-hosting vs the cheapest API offer; the monthly volume where it pays."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.benchmarks.models import BenchmarkRun, HardwarePrice
from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/economics/break-even/"


def test_it_finds_the_break_even_volume_from_numbers(client_user, economics):
    body = client_user.get(URL, {"model": "gpt-4o", "usd_per_hour": "31.92", "tokens_per_s": "3800",
                                 "utilisation": "0.5"}).json()
    # Cheapest API offer: OpenAI, blended (3 x 2.5 + 10) / 4 = 4.375; self-hosting at 4.67 per 1M never wins.
    assert body["api"]["provider"] == "OpenAI" and body["api"]["blended_usd_per_mtok"] == "4.375"
    assert Decimal(body["self_hosting"]["usd_per_mtok"]).quantize(Decimal("0.01")) == Decimal("4.67")
    assert body["break_even_mtok_per_month"] is None
    assert body["results"] and {"mtok_per_month", "self_host_usd_per_month", "api_usd_per_month"} == set(
        body["results"][0])


def test_it_takes_throughput_and_price_from_a_run_and_a_hardware_price(client_user, economics):
    run = BenchmarkRun.objects.get(serving_stack="Groq LPU System")
    price = HardwarePrice.objects.get(offering__instance_type="gpu_8x_h100_sxm5")
    body = client_user.get(URL, {"benchmark": run.pk, "hardware_price": price.pk}).json()
    assert body["model"] == "llama-3-70b-instruct"  # the run's model
    assert (body["self_hosting"]["tokens_per_s"], body["self_hosting"]["usd_per_hour"]) == ("18000", "31.92")
    against_gpt4o = client_user.get(URL, {"benchmark": run.pk, "hardware_price": price.pk, "model": "gpt-4o"}).json()
    # 31.92 / (18000 x 3600) x 1e6 = 0.49 per 1M, below OpenAI's 4.375: break-even at 31.92 x 730 / 4.375.
    assert Decimal(against_gpt4o["break_even_mtok_per_month"]).quantize(Decimal("0.01")) == Decimal("5326.08")


def test_it_never_takes_a_zero_or_labelled_price_as_the_cheapest_offer(client_user, economics):
    body = client_user.get(URL, {"model": "llama-3-70b-instruct", "usd_per_hour": "31.92",
                                 "tokens_per_s": "18000"}).json()
    # Fireworks' unlabelled zero input price and Ollama's free label are not offers to break even against.
    assert body["api"]["provider"] == "Groq" and body["api"]["blended_usd_per_mtok"] == "0.64"
    # 31.92 / (18000 x 3600) x 1e6 = 0.49 per 1M, below Groq's 0.64: break-even at 31.92 x 730 / 0.64.
    assert Decimal(body["break_even_mtok_per_month"]).quantize(Decimal("0.01")) == Decimal("36408.75")


@pytest.mark.parametrize(("query", "parameter"), [
    ({"usd_per_hour": "1", "tokens_per_s": "1"}, "model"),
    ({"model": "llama-3-70b-instruct", "tokens_per_s": "1"}, "usd_per_hour"),
    ({"model": "llama-3-70b-instruct", "usd_per_hour": "1"}, "tokens_per_s"),
    ({"model": "nope", "usd_per_hour": "1", "tokens_per_s": "1"}, "model"),
    ({"benchmark": "999999", "usd_per_hour": "1"}, "benchmark"),
    ({"model": "llama-3-70b-instruct", "hardware_price": "999999", "tokens_per_s": "1"}, "hardware_price"),
    ({"model": "llama-3-70b-instruct", "usd_per_hour": "0", "tokens_per_s": "1"}, "usd_per_hour"),
    ({"model": "llama-3-70b-instruct", "usd_per_hour": "1", "tokens_per_s": "1", "utilisation": "2"},
     "utilisation"),
])
def test_it_names_a_bad_parameter(client_user, economics, query, parameter):
    response = client_user.get(URL, query)
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_it_exports_the_cost_curves_as_csv(client_user, economics):
    rows = csv_rows(client_user.get(URL, {"model": "llama-3-70b-instruct", "usd_per_hour": "31.92",
                                          "tokens_per_s": "18000", "format": "csv"}))
    volumes = [Decimal(r["mtok_per_month"]) for r in rows]
    assert volumes == sorted(volumes) and len(rows) > 10
