"""A database connection lost mid-ingest (a restart, a terminated backend) is not the file's fault: the
snapshot stays pending and the task tries again, instead of being marked failed for good (issue 12;
found by the fault drills in tests/faults, which break a real server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from celery.exceptions import Retry
from django.db import connection

from apps.pricing.models import Price
from apps.sources.models import IngestRun, Snapshot
from apps.sources.services import FetchMeta, snapshot_store
from apps.sources.tasks import ingest_snapshot
from tests.conftest import get_source

pytestmark = pytest.mark.django_db(transaction=True)


def terminate_through_django() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def terminate_through_psycopg() -> None:
    """As the COPY paths meet it: psycopg's own cursor, whose errors Django does not wrap."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.mark.parametrize("terminate", [terminate_through_django, terminate_through_psycopg])
def test_a_connection_terminated_mid_ingest_leaves_the_snapshot_pending_and_the_task_retries(postgres, monkeypatch,
                                                                                              terminate):
    from apps.pricing import services as pricing

    real_apply = pricing.prices_apply_snapshot
    calls = []

    def apply_on_a_terminated_connection(**kwargs):
        calls.append(kwargs["snapshot"].pk)
        if len(calls) == 1:
            # The server ends this very session mid-transaction, as pg_terminate_backend or a fast restart does.
            terminate()
        return real_apply(**kwargs)

    monkeypatch.setattr(pricing, "prices_apply_snapshot", apply_on_a_terminated_connection)
    content = json.dumps({"m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                                 "output_cost_per_token": 2e-06}}).encode()
    snapshot, _ = snapshot_store(source=get_source("litellm"), content=content,
                                 observed_at=datetime(2026, 1, 1, tzinfo=UTC), meta=FetchMeta(filename="blip.json"))

    with pytest.raises(Retry):  # the task asks the broker to run it again shortly
        ingest_snapshot.delay(snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.PENDING  # not failed: the file is fine
    (run,) = IngestRun.objects.filter(snapshot=snapshot)
    assert run.status == IngestRun.Status.FAILED and "connection was lost" in run.message, run.message

    ingest_snapshot.delay(snapshot.pk)  # the retry
    assert len(calls) == 2
    snapshot.refresh_from_db()
    assert (snapshot.parse_status, snapshot.error) == (Snapshot.Status.OK, "")
    assert Price.objects.filter(offering__source_model_id="m1").count() == 1
    assert IngestRun.objects.filter(snapshot=snapshot).order_by("-pk").first().status == IngestRun.Status.OK
