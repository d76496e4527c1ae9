"""Sightings: the same bytes seen again are a fact kept, and history is a function of them (issue 9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.pricing.models import Price, PriceChange
from apps.sources.models import IngestRun, Sighting, Snapshot
from apps.sources.services import FetchMeta, snapshot_submit, source_ingest_bytes
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def d(day: int) -> datetime:
    return datetime(2026, 3, day, tzinfo=UTC)


def doc(price: float) -> bytes:
    return json.dumps({"m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": price,
                              "output_cost_per_token": price * 2}}).encode()


def ingest(content: bytes, when: datetime | None, key: str = "litellm") -> IngestRun:
    return source_ingest_bytes(source=get_source(key), content=content, trigger="command", observed_at=when,
                               meta=FetchMeta(filename="f.json"))


def rows() -> list[tuple]:
    return list(Price.objects.order_by("effective_from").values_list(
        "effective_from", "effective_to", "input_usd_per_mtok", "first_seen_at", "last_confirmed_at"))


def test_the_same_bytes_later_are_a_sighting_not_a_copy():
    ingest(doc(1e-06), d(1))
    run = ingest(doc(1e-06), d(5))
    assert run.status == IngestRun.Status.UNCHANGED
    assert "seen again at 2026-03-05 00:00: 1 prices confirmed" in run.message
    assert Snapshot.objects.count() == 1
    assert list(Sighting.objects.order_by("observed_at").values_list("observed_at", flat=True)) == [d(1), d(5)]
    assert rows() == [(d(1), None, Decimal("1"), d(1), d(5))]


def test_a_sighting_twice_is_one_and_a_file_with_no_time_records_none():
    ingest(doc(1e-06), d(1))
    ingest(doc(1e-06), d(5))
    again = ingest(doc(1e-06), d(5))
    assert "already seen" in again.message
    assert "no observation time" in ingest(doc(1e-06), None).message
    assert Sighting.objects.count() == 2


def test_an_upstream_revert_is_history():
    """A, B, then A again: A's price holds again from the third look (it used to be skipped as 'same bytes')."""
    ingest(doc(1e-06), d(1))
    ingest(doc(2e-06), d(10))
    ingest(doc(1e-06), d(20))
    assert rows() == [
        (d(1), d(10), Decimal("1"), d(1), d(1)),
        (d(10), d(20), Decimal("2"), d(10), d(10)),
        (d(20), None, Decimal("1"), d(20), d(20)),
    ]


def test_a_late_sighting_of_an_old_document_is_placed_in_time():
    ingest(doc(1e-06), d(1))
    ingest(doc(2e-06), d(10))
    ingest(doc(1e-06), d(5))  # arrives last: A was still served on day 5
    assert rows() == [(d(1), d(10), Decimal("1"), d(1), d(5)), (d(10), None, Decimal("2"), d(10), d(10))]


def test_sightings_in_any_order_give_one_history():
    looks = [(doc(1e-06), d(1)), (doc(2e-06), d(10)), (doc(1e-06), d(20)), (doc(1e-06), d(25)),
             (doc(2e-06), d(12))]
    for content, when in looks:
        ingest(content, when)
    expected = rows()
    PriceChange.objects.all().delete()
    Price.objects.all().delete()
    Snapshot.objects.all().delete()
    for content, when in reversed(looks):
        ingest(content, when)
    assert rows() == expected


def test_stated_sources_confirm_every_interval_the_newest_document_states(shared_data):
    path = shared_data / "llm-prices" / "openai.json"
    first = ingest(path.read_bytes(), d(1), key="llm-prices")
    assert first.status == IngestRun.Status.OK, first.message
    ingest(path.read_bytes(), d(9), key="llm-prices")
    prices = Price.objects.filter(offering__source__key="llm-prices")
    assert prices.count() > 10
    assert set(prices.values_list("last_confirmed_at", flat=True)) == {d(9)}
    assert set(prices.values_list("first_seen_at", flat=True)) == {d(1)}


def test_an_upload_of_known_bytes_is_a_sighting():
    ingest(doc(1e-06), d(1))
    snapshot = snapshot_submit(source=get_source("litellm"), content=doc(1e-06), observed_at=d(7),
                               meta=FetchMeta(filename="upload.json"))
    assert Snapshot.objects.count() == 1 and snapshot.sightings.count() == 2
    assert rows()[0][-1] == d(7)
