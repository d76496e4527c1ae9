"""/api/v1/sources/: where data comes from; staff can queue a fetch now."""

from __future__ import annotations

from unittest import mock

import pytest

from tests.api.conftest import all_pages, csv_rows
from tests.conftest import get_source

pytestmark = pytest.mark.django_db
URL = "/api/v1/sources/"


def test_it_lists_sources_with_licence_and_schedule(client_user):
    get_source("litellm")
    rows = {r["key"]: r for r in all_pages(client_user, URL)}
    assert rows["litellm"]["licence"] == "MIT" and rows["litellm"]["format"] == "litellm"
    assert client_user.get(f"{URL}genai-prices/").json()["key"] == "genai-prices"
    assert [r["key"] for r in csv_rows(client_user.get(f"{URL}?format=csv&source_format=llmperf"))] == ["llmperf"]


def test_it_filters_by_format_and_enabled(client_user):
    get_source("litellm")
    assert [r["key"] for r in all_pages(client_user, f"{URL}?source_format=market-csv")] == ["market-csv"]
    assert all(r["enabled"] for r in all_pages(client_user, f"{URL}?enabled=true"))


def test_it_lets_staff_queue_a_fetch_through_the_task(client_staff):
    get_source("litellm")
    with mock.patch("apps.sources.api.views.fetch_source.delay") as delay:
        response = client_staff.post(f"{URL}litellm/fetch/")
    assert response.status_code == 202, response.content
    assert response.json()["queued"] is True
    delay.assert_called_once_with(get_source("litellm").pk)


def test_it_refuses_a_fetch_without_url_or_from_a_reader(client_staff, client_user):
    get_source("litellm")
    with mock.patch("apps.sources.api.views.fetch_source.delay") as delay:
        assert client_staff.post(f"{URL}market-csv/fetch/").status_code == 409
        assert client_user.post(f"{URL}litellm/fetch/").status_code == 403
        assert client_staff.post(f"{URL}no-such-source/fetch/").status_code == 404
    delay.assert_not_called()
