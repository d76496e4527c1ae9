"""/api/v1/offerings/: what each source says each provider sells."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/offerings/"


def test_it_lists_offerings_with_tiers(client_user, prices):
    rows = all_pages(client_user, f"{URL}?provider=openai&model=gpt-4o")
    assert sorted((r["service_tier"], r["min_prompt_tokens"]) for r in rows) == [("batch", 0), ("standard", 0)]
    assert all(r["source"] == "litellm" and r["source_model_id"] == "gpt-4o" for r in rows)


def test_it_filters_unresolved_offerings_and_by_mode(client_user, prices):
    unresolved = all_pages(client_user, f"{URL}?resolved=false")
    assert {r["model"] for r in unresolved} == {None}
    assert [r["source_model_id"] for r in all_pages(client_user, f"{URL}?mode=embedding")] == [
        "text-embedding-3-small"]
    assert client_user.get(f"{URL}?resolved=sometimes").status_code == 400


def test_it_exports_csv(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&provider=google-ai-studio"))
    assert sorted(r["min_prompt_tokens"] for r in rows) == ["0", "128000"]
