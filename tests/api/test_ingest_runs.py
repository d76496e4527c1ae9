"""/api/v1/ingest-runs/: every fetch or ingest attempt and its outcome."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/ingest-runs/"


def test_it_lists_runs_with_their_counts(client_user, prices):
    rows = all_pages(client_user, f"{URL}?source=litellm&status=ok&ordering=-started_at")
    assert [r["id"] for r in rows] == [prices[1].pk, prices[0].pk]
    assert rows[1]["created_count"] == prices[0].created_count and rows[1]["rejected_count"] == 1
    assert rows[1]["snapshot"] == prices[0].snapshot_id and rows[1]["trigger"] == "command"


def test_it_filters_by_date_and_trigger(client_user, prices):
    assert all_pages(client_user, f"{URL}?started_before=2000-01-01") == []
    assert all_pages(client_user, f"{URL}?trigger=upload") == []
    assert client_user.get(f"{URL}?trigger=whim").status_code == 400


def test_it_exports_csv(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv"))
    assert {r["status"] for r in rows} == {"ok"} and len(rows) == 2
