"""/api/v1/uploads/: staff upload a document; it is checked up front, stored, and ingested on a worker."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.pricing.models import Price
from apps.sources.models import Snapshot
from tests.api.conftest import V1
from tests.conftest import get_source

pytestmark = pytest.mark.django_db
URL = "/api/v1/uploads/"
MARKET_CSV = (b"segment,base_year,base_value_usd_bn,target_year,target_value_usd_bn,stated_cagr_pct,primary_driver,"
              b"source\nAI Inference Infrastructure,2023,30,2027,180,65,Application Scaling,seed-article\n")


def upload(client, source: str, content: bytes, name: str = "prices.json", **fields):
    get_source(source)
    return client.post(URL, {"source": source, "file": SimpleUploadedFile(name, content), **fields},
                       format="multipart")


def test_it_stores_the_file_and_ingests_it_on_a_worker(client_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client_staff, "litellm", json.dumps(V1).encode(), observed_at="2025-01-01")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["queued"] is True and body["duplicate"] is False and body["parse_status"] == "pending"
    # The ingest is queued once, only once the snapshot is committed (the ingest's own commit adds its hooks:
    # the data version, the alerts' market hint).
    assert [c.__qualname__ for c in callbacks].count("snapshot_submit.<locals>.<lambda>") == 1
    snapshot = Snapshot.objects.get(pk=body["snapshot"])
    assert snapshot.parse_status == "ok"
    assert bytes(snapshot.content) == json.dumps(V1).encode()
    assert snapshot.filename == "prices.json" and snapshot.observed_at.isoformat() == "2025-01-01T00:00:00+00:00"
    assert Price.objects.filter(offering__source_model_id="gpt-4o").exists()
    assert client_staff.get(body["snapshot_url"]).json()["parse_status"] == "ok"


def test_it_takes_a_csv_for_a_csv_source(client_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client_staff, "market-csv", MARKET_CSV, name="market.csv", observed_at="2024-06-01")
    assert response.status_code == 202, response.content
    assert Snapshot.objects.get(pk=response.json()["snapshot"]).parse_status == "ok"


def test_it_says_when_the_same_bytes_were_already_ingested(client_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(client_staff, "litellm", json.dumps(V1).encode(), observed_at="2025-01-01")
    again = upload(client_staff, "litellm", json.dumps(V1).encode(), observed_at="2025-01-01")
    assert again.status_code == 200
    assert again.json() | {"snapshot_url": ""} == {"snapshot": first.json()["snapshot"], "snapshot_url": "",
                                                   "parse_status": "ok", "queued": False, "duplicate": True}


@pytest.mark.parametrize(("source", "content", "fields", "parameter", "words"), [
    ("litellm", b'{"gpt-4o": ', {"observed_at": "2025-01-01"}, "file", "not valid JSON"),
    ("litellm", b"<html>502</html>", {"observed_at": "2025-01-01"}, "file", "HTML"),
    ("litellm", b'{"gpt-4o": "\xff\xfe"}', {"observed_at": "2025-01-01"}, "file", "UTF-8"),
    ("litellm", b"   ", {"observed_at": "2025-01-01"}, "file", "empty"),
    ("litellm", b"42", {"observed_at": "2025-01-01"}, "file", "single value"),
    ("market-csv", b"just one line of prose\n", {"observed_at": "2025-01-01"}, "file", "header row"),
    ("litellm", json.dumps(V1).encode(), {}, "observed_at", "no date of its own"),
    ("litellm", json.dumps(V1).encode(), {"observed_at": "last tuesday"}, "observed_at", "date"),
    ("no-such-source", b"{}", {"observed_at": "2025-01-01"}, "source", "No source"),
])
def test_it_refuses_a_bad_upload_up_front_naming_the_field(client_staff, source, content, fields, parameter,
                                                           words):
    get_source("litellm")
    response = client_staff.post(URL, {"source": source, "file": SimpleUploadedFile("x", content), **fields},
                                 format="multipart")
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[parameter])
    assert Snapshot.objects.count() == 0


def test_it_refuses_a_file_over_the_limit(client_staff, monkeypatch):
    monkeypatch.setattr("apps.sources.api.serializers.MAX_UPLOAD_BYTES", 10)
    response = upload(client_staff, "litellm", json.dumps(V1).encode(), observed_at="2025-01-01")
    assert response.status_code == 400 and "limit" in response.json()["file"][0]


def test_it_is_for_staff_only(client_user, anon):
    assert upload(client_user, "litellm", b"{}", observed_at="2025-01-01").status_code == 403
    assert upload(anon, "litellm", b"{}", observed_at="2025-01-01").status_code == 401
    assert Snapshot.objects.count() == 0
