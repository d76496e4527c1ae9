"""/api/v1/current-prices/: the prices in force now, with the same filters and CSV as /prices/."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/current-prices/"


def test_it_lists_only_prices_in_force_now(client_user, prices):
    rows = all_pages(client_user, URL)
    assert rows and all(r["effective_to"] is None for r in rows)
    gpt4o = [r for r in rows if r["source_model_id"] == "gpt-4o" and r["service_tier"] == "standard"]
    assert [(g["input_usd_per_mtok"], g["output_usd_per_mtok"]) for g in gpt4o] == [("2.5", "10")]
    everything = all_pages(client_user, "/api/v1/prices/?current=true")
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in everything)


def test_it_filters_like_the_price_list(client_user, prices):
    rows = all_pages(client_user, f"{URL}?model=gpt-4o&ordering=input_usd_per_mtok")
    assert [(r["provider"], r["service_tier"], r["input_usd_per_mtok"]) for r in rows] == [
        ("openai", "batch", "2.5"), ("openai", "standard", "2.5"), ("azure-openai", "standard", "5.5")]
    assert client_user.get(f"{URL}?min_input_usd_per_mtok=-").status_code == 400


def test_it_exports_csv(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&provider=groq"))
    assert [(r["provider"], r["input_usd_per_mtok"], r["effective_to"]) for r in rows] == [("groq", "0.59", "")]
