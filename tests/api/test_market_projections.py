"""/api/v1/market-projections/: segments projected forward at an implied or stated CAGR."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/market-projections/"


def inference(rows: list[dict]) -> dict[int, Decimal]:
    return {r["year"]: Decimal(r["value_usd_bn"]) for r in rows if r["segment"] == "AI Inference Infrastructure"}


def test_it_projects_at_the_implied_rate_by_default(client_user, economics):
    body = client_user.get(URL, {"year_from": 2023, "year_to": 2030}).json()
    sizes = inference(body["results"])
    assert sizes[2023] == 30 and sizes[2027].quantize(Decimal("0.01")) == Decimal("180.00")
    assert sizes[2030].quantize(Decimal("0.1")) == Decimal("690.1")
    assert len(body["results"]) == 4 * 8


def test_it_projects_at_the_stated_rate(client_user, economics):
    rows = client_user.get(URL, {"year_from": 2027, "year_to": 2027, "rate": "stated"}).json()["results"]
    # 30 x 1.65^4: the article's own rate overshoots its 180.
    assert inference(rows)[2027].quantize(Decimal("0.1")) == Decimal("222.4")


# A reversed or long span is no longer an error (tests/api/test_schema_agreement.py): the schema could not say it.
@pytest.mark.parametrize("query", [{"rate": "hoped"}, {"year_from": 1000}, {"year_to": 2201}, {"year_from": "2030.5"}])
def test_it_names_a_bad_parameter(client_user, economics, query):
    response = client_user.get(URL, query)
    assert response.status_code == 400 and set(response.json()) <= {"rate", "year_from", "year_to"}


def test_it_exports_csv(client_user, economics):
    rows = csv_rows(client_user.get(URL, {"year_from": 2024, "year_to": 2025, "format": "csv"}))
    assert len(rows) == 8 and set(rows[0]) == {"segment", "year", "rate", "cagr_pct", "value_usd_bn"}
