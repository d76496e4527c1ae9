"""/api/v1/snapshots/: every document with its hash, and a link to its raw bytes exactly as fetched."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.api.conftest import V1, all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/snapshots/"


def test_it_lists_snapshots_with_counts_and_a_raw_link(client_user, prices):
    rows = all_pages(client_user, f"{URL}?source=litellm&ordering=observed_at")
    assert [r["observed_at"] for r in rows] == ["2025-01-01T00:00:00.000000Z", "2025-07-01T00:00:00.000000Z"]
    first = rows[0]
    assert first["parse_status"] == "ok" and first["reject_count"] == 1
    assert first["raw_url"] == f"http://testserver/api/v1/snapshots/{first['id']}/raw/"
    assert "content" not in first


def test_it_downloads_the_raw_bytes_exactly(client_staff, prices):
    snapshot = all_pages(client_staff, f"{URL}?observed_before=2025-02-01")[0]
    response = client_staff.get(snapshot["raw_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response.content == json.dumps(V1).encode()
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest() == snapshot["sha256"]
    assert response["Content-Disposition"] == 'attachment; filename="v1.json"'


def test_it_keeps_raw_bytes_behind_a_login_even_on_a_public_api(anon, public_api, prices):
    snapshot = all_pages(anon, URL)[0]
    assert anon.get(snapshot["raw_url"]).status_code == 401
    assert anon.get(f"{URL}999999/raw/").status_code == 401


def test_raw_bytes_are_for_staff_only(client_user, prices):
    """Issue 12, finding 5: a non-staff token used to get 200 though the page and README say staff only."""
    snapshot = all_pages(client_user, URL)[0]
    response = client_user.get(snapshot["raw_url"])
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_it_answers_404_for_a_missing_snapshot(client_staff, prices):
    response = client_staff.get(f"{URL}999999/raw/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_it_exports_csv(client_user, prices):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&parse_status=ok"))
    assert len(rows) == 2 and all(r["raw_url"].endswith("/raw/") for r in rows)
    assert client_user.get(f"{URL}?parse_status=great").status_code == 400
