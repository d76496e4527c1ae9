"""/api/v1/market-segments/: the market segments."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/market-segments/"


def test_it_lists_segments(client_user, economics):
    names = [r["name"] for r in all_pages(client_user, f"{URL}?ordering=name")]
    assert names == ["AI Inference Infrastructure", "AI Training Infrastructure", "AI-as-a-Service (Endpoint APIs)",
                     "General Purpose Cloud Compute"]
    assert [r["name"] for r in all_pages(client_user, f"{URL}?name=inference")] == ["AI Inference Infrastructure"]


def test_it_exports_csv(client_user, economics):
    assert len(csv_rows(client_user.get(f"{URL}?format=csv"))) == 4
