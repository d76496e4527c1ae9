"""/api/v1/price-changes/: each move of a price component, filterable by provider, model and size of move."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/price-changes/"


def test_it_lists_changes_with_old_new_and_percent(client_user, prices):
    rows = sorted(all_pages(client_user, URL), key=lambda r: r["component"])
    assert [(r["provider"], r["model"], r["component"], r["old_usd_per_mtok"], r["new_usd_per_mtok"],
             r["percent_change"], r["changed_at"]) for r in rows] == [
        ("openai", "gpt-4o", "input_usd_per_mtok", "5", "2.5", "-50", "2025-07-01T00:00:00.000000Z"),
        ("openai", "gpt-4o", "output_usd_per_mtok", "15", "10", "-33.33", "2025-07-01T00:00:00.000000Z"),
    ]
    assert rows[0]["source"] == "litellm" and rows[0]["snapshot"] == prices[1].snapshot_id


def test_it_filters_by_provider_model_size_and_direction(client_user, prices):
    assert len(all_pages(client_user, f"{URL}?provider=openai&model=gpt-4o")) == 2
    assert all_pages(client_user, f"{URL}?provider=groq") == []
    big = all_pages(client_user, f"{URL}?min_percent_change=40")
    assert [r["component"] for r in big] == ["input_usd_per_mtok"]
    assert len(all_pages(client_user, f"{URL}?min_percent_change=33")) == 2
    assert all_pages(client_user, f"{URL}?direction=up") == []
    assert len(all_pages(client_user, f"{URL}?direction=down&changed_after=2025-07-01")) == 2
    assert all_pages(client_user, f"{URL}?changed_before=2025-07-01") == []
    for bad in ("min_percent_change=-5", "min_percent_change=lots", "direction=sideways", "component=price"):
        response = client_user.get(f"{URL}?{bad}")
        assert response.status_code == 400 and bad.split("=")[0] in response.json()


def test_it_exports_negative_percentages_as_numbers(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&ordering=percent_change"))
    # A negative number is a number, not a formula: no apostrophe.
    assert [r["percent_change"] for r in rows] == ["-50", "-33.33"]
