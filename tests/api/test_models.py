"""/api/v1/models/: canonical models with the raw ids (aliases) that name them."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/models/"


def test_it_lists_models_with_their_aliases(client_user, prices):
    rows = {r["slug"]: r for r in all_pages(client_user, URL)}
    llama = rows["llama-3-70b-instruct"]
    assert llama["family"] == "llama" and llama["parameter_count_b"] == "70"
    assert {(a["source"], a["raw_id"]) for a in llama["aliases"]} >= {
        ("litellm", "groq/llama3-70b-8192"), ("litellm", "together_ai/meta-llama/Llama-3-70b-chat-hf")}


def test_it_filters_by_family_and_provider(client_user, prices):
    assert {r["slug"] for r in all_pages(client_user, f"{URL}?family=llama")} == {"llama-3-70b-instruct"}
    offered_by_groq = all_pages(client_user, f"{URL}?provider=groq")
    assert [r["slug"] for r in offered_by_groq] == ["llama-3-70b-instruct"]
    assert client_user.get(f"{URL}?provider=nobody").status_code == 400


def test_it_serves_a_model_by_a_slug_with_dots(client_user, prices):
    response = client_user.get(f"{URL}gemini-1.5-pro/")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "gemini-1.5-pro"
    assert [a["raw_id"] for a in body["aliases"]] == ["gemini/gemini-1.5-pro"]


def test_it_exports_csv_with_aliases_as_json(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&family=llama"))
    assert len(rows) == 1
    aliases = json.loads(rows[0]["aliases"])
    assert "groq/llama3-70b-8192" in {a["raw_id"] for a in aliases}
