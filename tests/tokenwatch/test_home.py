from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.django_db


def test_the_overview_needs_a_login_unless_the_demo_setting_allows_anonymous_reads(client, settings, ingest_file):
    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    settings.TOKENWATCH_PUBLIC_API = False
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    settings.TOKENWATCH_PUBLIC_API = True
    response = client.get("/")
    assert response.status_code == 200
    assert "Overview" in response.content.decode()


def test_the_raw_snapshot_download_is_staff_only_and_exact(client, admin_client, ingest_file, shared_data):
    run = ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                      observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    url = f"/snapshots/{run.snapshot_id}/raw/"
    assert client.get(url).status_code == 302  # to the login page
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.content == (shared_data / "litellm/model_prices_2024-04-22_tokencost-569280a.json").read_bytes()
    assert response["X-Content-SHA256"] == run.snapshot.sha256
