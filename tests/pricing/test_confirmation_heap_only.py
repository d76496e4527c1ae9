"""A sighting confirms every open price of the document in one UPDATE of last_confirmed_at; no index covers
that column, so on PostgreSQL each update can stay heap-only (HOT, no index entry written) if its page has
room for the new row version (pricing 0010: fillfactor 50; at 80, three in four moved page). The same sighting
moves each market row's confirmation and evidence, again no indexed column (pricing 0013: fillfactor 50; at
the default 100, 1.5 % stayed heap-only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.pricing.models import MarketPrice
from apps.sources.models import IngestRun
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def updates_of(table: str = "pricing_price") -> tuple[int, int]:
    """(row updates, of which heap-only) of ``table`` in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_get_xact_tuples_updated(%s::regclass), "
                       "pg_stat_get_xact_tuples_hot_updated(%s::regclass)", [table, table])
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
    before = updates_of()
    again = source_ingest_bytes(source=source, content=doc, trigger="command", observed_at=at + timedelta(hours=6),
                                meta=FetchMeta(filename="a.json"))
    assert again.status == IngestRun.Status.UNCHANGED and "600 prices confirmed" in again.message, again.message
    updated, heap_only = (after - was for after, was in zip(updates_of(), before, strict=True))
    assert updated == 600
    assert heap_only == updated


def test_a_sighting_moves_every_market_row_it_confirms_with_heap_only_updates(postgres):
    # Ids of a maker no rule knows resolve to a model each ("maker" rule), so each offering has a market row.
    doc = json.dumps({f"together_ai/acme/model-{i:04d}": {
        "litellm_provider": "together_ai", "mode": "chat", "input_cost_per_token": (i + 1) * 1e-08,
        "output_cost_per_token": 2e-06} for i in range(600)}).encode()
    source, at = get_source("litellm"), datetime(2026, 7, 24, tzinfo=UTC)
    first = source_ingest_bytes(source=source, content=doc, trigger="command", observed_at=at,
                                meta=FetchMeta(filename="a.json"))
    assert first.status == IngestRun.Status.OK, first.message
    assert MarketPrice.objects.count() == 600
    before = updates_of("pricing_marketprice")
    # The next day: a newer confirmation by day, so every market row's last_confirmed_at and evidence move.
    again = source_ingest_bytes(source=source, content=doc, trigger="command", observed_at=at + timedelta(days=1),
                                meta=FetchMeta(filename="a.json"))
    assert again.status == IngestRun.Status.UNCHANGED, again.message
    assert set(MarketPrice.objects.values_list("last_confirmed_at", flat=True)) == {at + timedelta(days=1)}
    updated, heap_only = (after - was for after, was in zip(updates_of("pricing_marketprice"), before, strict=True))
    assert updated == 600
    assert heap_only == updated
