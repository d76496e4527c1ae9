"""/api/v1/hardware-prices/: hourly instance prices with their validity interval."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/hardware-prices/"


def test_it_lists_hourly_prices_with_hardware(client_user, economics):
    rows = all_pages(client_user, f"{URL}?accelerator=h100&accelerator_count=8")
    assert [(r["instance_type"], r["usd_per_hour"], r["accelerator_memory_gib"], r["hardware"]) for r in rows] == [
        ("gpu_8x_h100_sxm5", "31.92", 80, "8x-h100-80gb-sxm5")]
    row = rows[0]
    assert row["provider"] and row["pricing_model"] == "on-demand" and row["effective_to"] is None
    assert row["source"] == "hardware-csv" and row["effective_from"].startswith("2025-06-01")


def test_it_filters_current_prices_and_orders_by_price(client_user, economics):
    rows = all_pages(client_user, f"{URL}?current=true&ordering=-usd_per_hour&page_size=5")
    prices = [float(r["usd_per_hour"]) for r in rows]
    assert prices == sorted(prices, reverse=True)
    assert all_pages(client_user, f"{URL}?as_of=2025-01-01T00:00:00Z") == []
    assert client_user.get(f"{URL}?pricing_model=free").status_code == 400


def test_it_exports_csv(client_user, economics):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&instance_type=gpu_1x_a10"))
    assert [(r["instance_type"], r["usd_per_hour"]) for r in rows] == [("gpu_1x_a10", "1.29")]
