"""/api/v1/economics/price-trend/: decline rate and threshold date of the cheapest blended price."""

from __future__ import annotations

import pytest

from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/economics/price-trend/"


def test_it_fits_the_decline_of_the_cheapest_price(client_user, economics):
    body = client_user.get(URL, {"model": "gpt-4o", "threshold_usd_per_mtok": "1", "until": "2026-01-01"}).json()
    # OpenAI's gpt-4o (cheapest offer): blended (3 x 5 + 15) / 4 = 7.5, then (3 x 2.5 + 10) / 4 = 4.375.
    assert [(r["at"][:10], r["usd_per_mtok"]) for r in body["results"]] == [
        ("2025-01-01", "7.5"), ("2025-07-01", "4.375"), ("2026-01-01", "4.375")]
    assert body["points"] == 3 and float(body["annual_decline"]) > 0
    assert body["halving_time_years"] is not None and body["crosses_on"] > "2026-01-01"


def test_it_follows_a_size_class(client_user, economics):
    body = client_user.get(URL, {"size_class": "70b-class"}).json()
    assert body["model"] is None and body["size_class"] == "70b-class"
    # Groq: Fireworks' zero input price, Ollama's free and Replicate's unknown prices are never the cheapest.
    assert {r["provider"] for r in body["results"]} == {"Groq"}


@pytest.mark.parametrize(("query", "parameter"), [({}, "model"), ({"model": "gpt-4o", "size_class": "x"}, "model"),
                                                 ({"model": "nope"}, "model"),
                                                 ({"model": "gpt-4o", "threshold_usd_per_mtok": "0"},
                                                  "threshold_usd_per_mtok"),
                                                 ({"model": "gpt-4o", "since": "2025-02-01", "until": "2025-01-01"},
                                                  "until")])
def test_it_names_a_bad_parameter(client_user, economics, query, parameter):
    response = client_user.get(URL, query)
    assert response.status_code == 400 and parameter in response.json()


def test_it_exports_the_series_as_csv(client_user, economics):
    rows = csv_rows(client_user.get(URL, {"model": "gpt-4o", "format": "csv"}))
    assert [r["usd_per_mtok"] for r in rows][:2] == ["7.5", "4.375"]
