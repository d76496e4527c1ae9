"""Invariant 8: the database is the source of truth for work; the sweep finishes what was dropped (issue 12)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.pricing.models import Price
from apps.sources.models import IngestRun, Snapshot
from apps.sources.services import FetchMeta, snapshot_store, work_sweep
from apps.sources.tasks import sweep_work
from tests.conftest import get_source

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_left_running_by_a_dead_worker_is_marked_failed():
    source = get_source("litellm")
    old = IngestRun.objects.create(source=source, trigger="task", started_at=timezone.now() - timedelta(hours=1))
    fresh = IngestRun.objects.create(source=source, trigger="task", started_at=timezone.now())
    assert work_sweep().runs_failed == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == IngestRun.Status.FAILED and "stopped before it finished" in old.message
    assert old.finished_at is not None
    assert fresh.status == IngestRun.Status.RUNNING


def test_a_snapshot_whose_message_was_lost_is_ingested_by_the_sweep():
    """Stored, its queue message lost (a broker restart): still pending, until the sweep queues it again."""
    content = json.dumps({"m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                                 "output_cost_per_token": 2e-06}}).encode()
    snapshot, _ = snapshot_store(source=get_source("litellm"), content=content,
                                 observed_at=datetime(2026, 1, 1, tzinfo=UTC), meta=FetchMeta(filename="lost.json"))
    assert snapshot.parse_status == Snapshot.Status.PENDING
    assert work_sweep().snapshots_requeued == 0  # within the grace period: its message may still come
    Snapshot.objects.filter(pk=snapshot.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    assert sweep_work.delay().get() == {"runs_failed": 0, "snapshots_requeued": 1}  # eager: ingested on commit
    snapshot.refresh_from_db()
    assert snapshot.parse_status == Snapshot.Status.OK
    assert Price.objects.filter(offering__source_model_id="m1").count() == 1
    # Queued twice (the late message arrives after all): nothing changes the second time.
    assert work_sweep().snapshots_requeued == 0


def test_beat_runs_the_sweep_every_five_minutes():
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("migrate", "sources", "0005", verbosity=0)
    # Every app forward again, not only sources: unapplying sources' later migrations unapplied the apps that
    # depend on them (catalog, pricing, alerts...), and this test commits (transaction=True), so a later test
    # in the same run found no alerts tables.
    call_command("migrate", verbosity=0)
    task = PeriodicTask.objects.get(name="sweep-work")
    assert (task.task, task.interval.every, task.interval.period, task.enabled) == (
        "apps.sources.tasks.sweep_work", 5, "minutes", True)
