"""The curator's upload form in the admin: shows the CSV schemas, ingests through the pipeline."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.sources.models import IngestRun, Rejection, Snapshot
from tests.conftest import get_source

pytestmark = pytest.mark.django_db
URL = "admin:sources_source_upload"


def test_it_shows_the_column_schema_of_each_csv_format(admin_client):
    body = admin_client.get(reverse(URL)).content.decode()
    for column in ("throughput_tokens_per_s", "usd_per_hour", "base_value_usd_bn", "primary_offering"):
        assert column in body


def test_it_ingests_an_upload_and_quarantines_bad_rows(admin_client, shared_data):
    source = get_source("market-csv")
    content = (shared_data / "seed-article/market_segments.csv").read_bytes().rstrip(b"\n")
    content += b"\nBroken Segment,20O7,1,2027,2,5,x,seed-article\n"
    response = admin_client.post(reverse(URL), {
        "source": source.pk, "observed_at": "2024-01-01",
        "file": SimpleUploadedFile("segments.csv", content, content_type="text/csv"),
    })
    assert response.status_code == 302
    run = IngestRun.objects.get(trigger=IngestRun.Trigger.UPLOAD)
    assert run.status == IngestRun.Status.OK, run.message
    rejection = Rejection.objects.get(snapshot=run.snapshot)
    assert "line 6" in rejection.locator and "20O7" in rejection.reason


def test_a_broken_upload_gets_one_clear_error_and_changes_nothing(admin_client):
    source = get_source("benchmarks-csv")
    response = admin_client.post(reverse(URL), {
        "source": source.pk, "observed_at": "2024-01-01",
        "file": SimpleUploadedFile("b.csv", b"model,solution\nLlama,vLLM\n", content_type="text/csv"),
    }, follow=True)
    body = response.content.decode()
    assert "missing" in body.lower() and "throughput_tokens_per_s" in body
    assert Snapshot.objects.get().parse_status == Snapshot.Status.FAILED


def test_analysts_cannot_upload(client, django_user_model):
    user = django_user_model.objects.create_user("analyst", password="pw")
    client.force_login(user)
    assert client.get(reverse(URL)).status_code == 302  # to the admin login
