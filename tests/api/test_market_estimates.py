"""/api/v1/market-estimates/: segment sizes by year (value_usd_bn) with source."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/market-estimates/"


def test_it_lists_sizes_by_segment_and_year(client_user, economics):
    segment = all_pages(client_user, "/api/v1/market-segments/?name=inference")[0]["slug"]
    rows = all_pages(client_user, f"{URL}?segment={segment}&ordering=year")
    assert [(r["year"], r["value_usd_bn"], r["kind"]) for r in rows] == [(2023, "30", "actual"),
                                                                         (2027, "180", "projection")]
    assert rows[0]["source"] == "market-csv" and rows[0]["segment_name"] == "AI Inference Infrastructure"


def test_it_filters_by_year_range(client_user, economics):
    assert {r["year"] for r in all_pages(client_user, f"{URL}?year_from=2024")} == {2027}
    assert client_user.get(f"{URL}?kind=rumour").status_code == 400


def test_it_exports_csv(client_user, economics):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&year=2023&ordering=-value_usd_bn"))
    assert [r["value_usd_bn"] for r in rows] == ["220", "45", "30", "15"]
