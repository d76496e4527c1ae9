"""A sighting that fails in the database (its history rebuild, or a blip) fails as an ingest does: one line in the
run, nothing changed, a retry for what a retry can fix; never a traceback (the command included)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, InterfaceError, OperationalError

from apps.pricing import services as pricing
from apps.pricing.models import Price
from apps.sources.models import IngestRun, Sighting
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def doc(price: float) -> bytes:
    return json.dumps({"m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": price,
                              "output_cost_per_token": price * 2}}).encode()


def ingest(content: bytes, day: int) -> IngestRun:
    return source_ingest_bytes(source=get_source("litellm"), content=content, trigger="command",
                               observed_at=datetime(2026, 3, day, tzinfo=UTC), meta=FetchMeta(filename="f.json"))


def rebuild_fails(exc: Exception):
    def rebuild(**kwargs):
        raise exc
    return rebuild


@pytest.fixture
def history():
    """Two documents; the first seen again before the second is a sighting that rebuilds the history."""
    ingest(doc(1e-06), 1)
    ingest(doc(2e-06), 5)
    return list(Price.objects.order_by("pk").values_list("pk", "effective_from", "effective_to"))


def test_a_sighting_whose_rebuild_fails_is_a_failed_run_with_one_line(history, monkeypatch):
    monkeypatch.setattr(pricing, "price_history_rebuild", rebuild_fails(IntegrityError(
        'update or delete on table "pricing_marketprice" violates foreign key constraint\nDETAIL: Key (id)=(1)')))
    run = ingest(doc(1e-06), 3)
    assert run.status == IngestRun.Status.FAILED
    assert "recording this sighting failed and nothing was changed" in run.message and "\n" not in run.message
    assert "IntegrityError" in run.message
    assert not Sighting.objects.filter(observed_at=datetime(2026, 3, 3, tzinfo=UTC)).exists()  # rolled back
    assert list(Price.objects.order_by("pk").values_list("pk", "effective_from", "effective_to")) == history


def test_a_sighting_that_meets_a_database_blip_is_retried(history, monkeypatch):
    lost = InterfaceError("connection already closed")  # as Django says it when the server went away
    monkeypatch.setattr(pricing, "price_history_rebuild", rebuild_fails(lost))
    with pytest.raises((OperationalError, InterfaceError)):  # what the tasks retry on
        ingest(doc(1e-06), 3)
    run = IngestRun.objects.order_by("-pk").first()
    assert run.status == IngestRun.Status.FAILED and "connection was lost" in run.message, run.message
    monkeypatch.undo()
    assert ingest(doc(1e-06), 3).status == IngestRun.Status.UNCHANGED  # the retry records it
    assert Sighting.objects.filter(observed_at=datetime(2026, 3, 3, tzinfo=UTC)).exists()


def test_the_command_says_in_one_line_that_the_database_failed(history, monkeypatch, tmp_path):
    path = tmp_path / "again.json"
    path.write_bytes(doc(1e-06))
    monkeypatch.setattr(pricing, "price_history_rebuild", rebuild_fails(InterfaceError("connection already closed")))
    with pytest.raises(CommandError) as excinfo:
        call_command("ingest", "litellm", "--file", str(path), "--observed-at", "2026-03-03")
    message = str(excinfo.value)
    assert message.startswith("again.json: ") and "database" in message and "run the command again" in message
    assert "\n" not in message
