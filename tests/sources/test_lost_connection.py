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


def pending_snapshot(filename: str) -> Snapshot:
    """A stored one-model LiteLLM document, not yet ingested."""
    content = json.dumps({"m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                                 "output_cost_per_token": 2e-06}}).encode()
    snapshot, _ = snapshot_store(source=get_source("litellm"), content=content,
                                 observed_at=datetime(2026, 1, 1, tzinfo=UTC), meta=FetchMeta(filename=filename))
    return snapshot


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
    snapshot = pending_snapshot("blip.json")

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


def test_an_ingest_chosen_as_a_deadlock_victim_stays_pending_and_the_task_retries(postgres, monkeypatch):
    """Two ingests of different sources write the same market rows; PostgreSQL breaks a lock cycle by failing
    one of them (40P01). That is nobody's file at fault: the loser is rolled back whole and tried again, not
    marked failed (found by the worker-kill fault drill, where two sources' ingests met)."""
    import threading

    import psycopg
    from django.conf import settings

    from apps.pricing import services as pricing

    real_apply = pricing.prices_apply_snapshot
    calls = []
    other_holds_b = threading.Event()
    other_done = threading.Event()
    db = settings.DATABASES["default"]

    def the_other_ingest() -> None:
        # Another worker's transaction: it takes lock B, then waits for lock A, which this ingest holds.
        with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"],
                             password=db["PASSWORD"] or None, autocommit=False) as other:
            other.execute("SET deadlock_timeout = '10s'")  # so that this ingest, not the other, is the victim
            other.execute("SELECT pg_advisory_xact_lock(7340001)")
            other_holds_b.set()
            other.execute("SELECT pg_advisory_xact_lock(7340000)")
            other.commit()
        other_done.set()

    def apply_into_a_deadlock(**kwargs):
        calls.append(kwargs["snapshot"].pk)
        if len(calls) == 1:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL deadlock_timeout = '50ms'")
                cursor.execute("SELECT pg_advisory_xact_lock(7340000)")  # lock A
                worker = threading.Thread(target=the_other_ingest, daemon=True)
                worker.start()
                assert other_holds_b.wait(10)
                while not _waiting_on_advisory_lock():
                    pass
                cursor.execute("SELECT pg_advisory_xact_lock(7340001)")  # lock B: a cycle; PostgreSQL ends ours
        return real_apply(**kwargs)

    monkeypatch.setattr(pricing, "prices_apply_snapshot", apply_into_a_deadlock)
    snapshot = pending_snapshot("cycle.json")

    with pytest.raises(Retry):
        ingest_snapshot.delay(snapshot.pk)
    assert other_done.wait(10)  # the other transaction went on once ours was rolled back
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.PENDING, snapshot.error
    (run,) = IngestRun.objects.filter(snapshot=snapshot)
    assert run.status == IngestRun.Status.FAILED and "concurrent" in run.message, run.message
    assert "connection was lost" not in run.message

    ingest_snapshot.delay(snapshot.pk)  # the retry
    snapshot.refresh_from_db()
    assert (snapshot.parse_status, snapshot.error) == (Snapshot.Status.OK, "")
    assert Price.objects.filter(offering__source_model_id="m1").count() == 1


def _waiting_on_advisory_lock() -> bool:
    """Is some other session waiting for an advisory lock (the other worker blocked on lock A)?"""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"],
                         password=db["PASSWORD"] or None, autocommit=True) as probe:
        return bool(probe.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                                  "AND objid IN (7340000)").fetchone()[0])
