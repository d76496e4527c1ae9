"""A sighting confirms every open price of the document in one UPDATE of last_confirmed_at; no index covers
that column, so on PostgreSQL each update can stay heap-only (HOT, no index entry written) if its page has
room for the new row version (pricing 0010: fillfactor 50; at 80, three in four moved page)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.sources.models import IngestRun
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def updates_of_prices() -> tuple[int, int]:
    """(row updates, of which heap-only) of pricing_price in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_updated('pricing_price'::regclass), "
                       "pg_stat_get_xact_tuples_hot_updated('pricing_price'::regclass)")
        return cursor.fetchone()


def test_a_sighting_confirms_every_open_price_with_heap_only_updates(postgres):
    # Enough offerings to fill tens of pages; each its own model and price.
    doc = json.dumps({f"model-{i:04d}": {"litellm_provider": "openai", "mode": "chat",
                                         "input_cost_per_token": (i + 1) * 1e-08, "output_cost_per_token": 2e-06}
                      for i in range(600)}).encode()
    source, at = get_source("litellm"), datetime(2026, 7, 24, tzinfo=UTC)
    first = source_ingest_bytes(source=source, content=doc, trigger="command", observed_at=at,
                                meta=FetchMeta(filename="a.json"))
    assert first.status == IngestRun.Status.OK, first.message
    before = updates_of_prices()
    again = source_ingest_bytes(source=source, content=doc, trigger="command", observed_at=at + timedelta(hours=6),
                                meta=FetchMeta(filename="a.json"))
    assert again.status == IngestRun.Status.UNCHANGED and "600 prices confirmed" in again.message, again.message
    updated, heap_only = (after - was for after, was in zip(updates_of_prices(), before, strict=True))
    assert updated == 600
    assert heap_only == updated
