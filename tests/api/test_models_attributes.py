"""/api/v1/models/: the attributes analysts filter by (modality, open weights, release date, active parameters)."""

from __future__ import annotations

import pytest

from apps.catalog.models import Model
from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/"


def test_it_exposes_the_attributes(client_user, prices):
    rows = {r["slug"]: r for r in all_pages(client_user, URL)}
    llama, gpt = rows["llama-3-70b-instruct"], rows["gpt-4o"]
    assert (llama["modality"], llama["open_weights"], llama["active_parameter_count_b"], llama["released_on"]) == (
        "text", True, None, None)
    assert (gpt["modality"], gpt["open_weights"]) == ("text", False)


def test_it_filters_and_orders_by_the_attributes(client_user, prices):
    Model.objects.filter(slug="gpt-4o").update(modality="vision", released_on="2024-05-13")
    assert [r["slug"] for r in all_pages(client_user, f"{URL}?modality=vision")] == ["gpt-4o"]
    both = {r["slug"] for r in all_pages(client_user, f"{URL}?modality=vision&modality=text")}
    assert {"gpt-4o", "llama-3-70b-instruct"} <= both
    assert {r["slug"] for r in all_pages(client_user, f"{URL}?open_weights=true")} >= {"llama-3-70b-instruct"}
    assert "gpt-4o" not in {r["slug"] for r in all_pages(client_user, f"{URL}?open_weights=true")}
    assert [r["slug"] for r in all_pages(client_user, f"{URL}?released_after=2024-05-01")] == ["gpt-4o"]
    assert all_pages(client_user, f"{URL}?released_before=2024-05-13") == []
    assert {r["slug"] for r in all_pages(client_user, f"{URL}?min_parameters_b=65")} == {"llama-3-70b-instruct"}
    ordered = all_pages(client_user, f"{URL}?ordering=released_on")  # nulls last (first when descending)
    assert ordered[0]["slug"] == "gpt-4o" and ordered[-1]["released_on"] is None
    for bad in ("modality=smell", "open_weights=maybe", "released_after=2024-13-01", "min_parameters_b=lots"):
        assert client_user.get(f"{URL}?{bad}").status_code == 400, bad
    rows = csv_rows(client_user.get(f"{URL}?format=csv&modality=vision"))
    assert len(rows) == 1 and rows[0]["modality"] == "vision" and rows[0]["released_on"] == "2024-05-13"
