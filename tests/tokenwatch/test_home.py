from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.django_db


def test_it_lists_sources_snapshots_and_current_prices(client, ingest_file):
    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "LiteLLM model cost map" in body
    assert "gpt-4-turbo" in body  # a current chat price of that file


def test_the_raw_snapshot_download_is_staff_only_and_exact(client, admin_client, ingest_file, shared_data):
    run = ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                      observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    url = f"/snapshots/{run.snapshot_id}/raw/"
    assert client.get(url).status_code == 302  # to the login page
    response = admin_client.get(url)
    assert response.status_code == 200
    assert response.content == (shared_data / "litellm/model_prices_2024-04-22_tokencost-569280a.json").read_bytes()
    assert response["X-Content-SHA256"] == run.snapshot.sha256
