"""The source admin: a source's format is fixed once it has snapshots."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.sources.models import IngestRun, Source
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def _form(source: Source) -> dict[str, object]:
    fields = ("key", "name", "url", "format", "schedule", "licence", "freshness_hours", "priority",
              "shrink_guard_max_ended_pct", "shrink_guard_provider_min", "own_provider_slug")
    data = {f: getattr(source, f) for f in fields if hasattr(source, f)}
    data["enabled"] = "on" if source.enabled else ""
    return {k: ("" if v is None else v) for k, v in data.items()}


def test_the_format_of_a_source_without_snapshots_can_be_chosen(admin_client):
    source = get_source("openrouter")
    body = admin_client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()
    assert 'name="format"' in body


def test_the_format_of_a_source_with_snapshots_is_read_only(admin_client, ingest_file):
    run = ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                      observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    assert run.status == IngestRun.Status.OK, run.message
    source = get_source("litellm")
    url = reverse("admin:sources_source_change", args=[source.pk])
    assert 'name="format"' not in admin_client.get(url).content.decode()
    response = admin_client.post(url, {**_form(source), "format": "genai-prices"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Source.objects.get(pk=source.pk).format == "litellm"
