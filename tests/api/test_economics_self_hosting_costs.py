"""/api/v1/economics/self-hosting-costs/: cost per 1M tokens from hourly hardware prices and throughput."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/economics/self-hosting-costs/"


def test_it_costs_each_run_on_matching_hardware(client_user, economics):
    body = client_user.get(URL, {"serving_stack": "vLLM"}).json()
    assert body["utilisation"] == "1"
    (row,) = body["results"]
    # 31.92 USD/h / (3800 tokens/s x 3600) x 1e6 = 2.3333 USD per 1M tokens.
    assert (row["instance_type"], row["usd_per_hour"], row["tokens_per_s"]) == ("gpu_8x_h100_sxm5", "31.92", "3800")
    assert Decimal(row["usd_per_mtok"]).quantize(Decimal("0.0001")) == Decimal("2.3333")
    assert row["price_source"] == "hardware-csv" and row["reported_usd_per_mtok"] == "2.7"


def test_it_charges_idle_capacity_at_lower_utilisation(client_user, economics):
    row = client_user.get(URL, {"serving_stack": "vLLM", "utilisation": "0.5"}).json()["results"][0]
    assert Decimal(row["usd_per_mtok"]).quantize(Decimal("0.0001")) == Decimal("4.6667")


@pytest.mark.parametrize(("query", "parameter"), [({"utilisation": "0"}, "utilisation"),
                                                 ({"utilisation": "1.5"}, "utilisation"),
                                                 ({"as_of": "June"}, "as_of"),
                                                 ({"accelerator_count": "many"}, "accelerator_count")])
def test_it_names_a_bad_parameter(client_user, economics, query, parameter):
    response = client_user.get(URL, query)
    assert response.status_code == 400 and parameter in response.json()


def test_it_exports_csv(client_user, economics):
    rows = csv_rows(client_user.get(URL, {"accelerator": "H100", "format": "csv"}))
    assert {r["serving_stack"] for r in rows} == {"Naive PyTorch", "vLLM", "TensorRT-LLM"}
