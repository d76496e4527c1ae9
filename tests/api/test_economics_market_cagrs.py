"""/api/v1/economics/market-cagrs/: stated vs implied CAGR, flagged where they disagree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/economics/market-cagrs/"


def test_it_flags_the_stated_rate_its_own_sizes_contradict(client_user, economics):
    rows = {r["segment"]: r for r in client_user.get(URL).json()["results"]}
    inference = rows["AI Inference Infrastructure"]
    assert inference["stated_cagr_pct"] == "65"
    assert Decimal(inference["implied_cagr_pct"]).quantize(Decimal("0.01")) == Decimal("56.51")
    assert Decimal(inference["gap_pp"]).quantize(Decimal("0.01")) == Decimal("8.49")
    assert inference["disagrees"] is True
    assert [s for s, r in rows.items() if r["disagrees"]] == ["AI Inference Infrastructure"]


def test_it_takes_a_tolerance(client_user, economics):
    rows = client_user.get(URL, {"tolerance_pp": "10"}).json()["results"]
    assert not any(r["disagrees"] for r in rows)
    assert client_user.get(URL, {"tolerance_pp": "-1"}).status_code == 400


def test_it_exports_csv(client_user, economics):
    rows = csv_rows(client_user.get(URL, {"format": "csv"}))
    assert {r["disagrees"] for r in rows} == {"true", "false"}
