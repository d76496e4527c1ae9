"""/api/v1/providers/: sellers and their kind."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/providers/"


def test_it_lists_providers_with_their_kind(client_user, prices):
    rows = all_pages(client_user, f"{URL}?ordering=slug")
    assert [r["slug"] for r in rows] == sorted(r["slug"] for r in rows)
    by_slug = {r["slug"]: r for r in rows}
    assert by_slug["groq"]["kind"] == "silicon" and by_slug["ollama"]["kind"] == "local-runtime"


def test_it_filters_by_kind_and_serves_one_by_slug(client_user, prices):
    rows = all_pages(client_user, f"{URL}?kind=first-party")
    assert {"openai", "google-ai-studio"} <= {r["slug"] for r in rows}
    assert all(r["kind"] == "first-party" for r in rows)
    assert client_user.get(f"{URL}groq/").json()["name"] == "Groq"
    assert client_user.get(f"{URL}?kind=reseller").status_code == 400


def test_it_exports_csv(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&slug=groq,openai&ordering=-slug"))
    assert [r["slug"] for r in rows] == ["openai", "groq"]
