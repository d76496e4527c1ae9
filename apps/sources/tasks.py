"""Celery tasks: thin. Load by id, call a service; retries live here."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import IngestRun, Snapshot, Source
from .services import TransientFetchError, snapshot_reparse, source_fetch, work_sweep

logger = logging.getLogger(__name__)


def _reported(run: IngestRun) -> int:
    """The run's line in the worker's log, as `manage.py ingest` prints it: a failure as a warning, anything else
    (created/changed counts, held for review, unchanged) as info. Returns the run's id, the task's result."""
    logger.log(logging.WARNING if run.status == IngestRun.Status.FAILED else logging.INFO, "%s", run.message)
    return run.pk


@shared_task(
    bind=True, acks_late=True, autoretry_for=(TransientFetchError,), retry_backoff=30, retry_backoff_max=1800,
    retry_jitter=True, max_retries=5, soft_time_limit=300, time_limit=360,
)
def fetch_source(self, source_id: int) -> int | None:
    """Fetch one source and ingest it. Duplicate deliveries are harmless: the
    snapshot is unique by sha256, and a second ingest of the same bytes is a no-op."""
    source = Source.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        return None
    return _reported(source_fetch(source=source, trigger=IngestRun.Trigger.TASK, raise_transient=True))


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360, autoretry_for=(OperationalError, InterfaceError),
             retry_backoff=5, retry_backoff_max=300, retry_jitter=True, max_retries=8)
def ingest_snapshot(snapshot_id: int) -> int | None:
    """(Re-)ingest a stored snapshot; used after uploads and parser fixes."""
    snapshot = Snapshot.objects.select_related("source").filter(pk=snapshot_id).first()
    if snapshot is None:
        return None
    if snapshot.parse_status == Snapshot.Status.OK and snapshot.parsed_at is not None:
        # A redelivered message for work already done.
        return None
    if snapshot.parse_status in (Snapshot.Status.HELD, Snapshot.Status.REJECTED):
        # Waiting for, or refused by, a curator: only a review moves it (snapshot_review).
        return None
    return _reported(snapshot_reparse(snapshot=snapshot, trigger=IngestRun.Trigger.TASK))


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def sweep_work(run_deadline_s: float | None = None, pending_grace_s: float | None = None) -> dict[str, int]:
    """Every few minutes (beat, 'sweep-work'): finish what a crash, a broker restart or a database blip dropped.

    The thresholds can be given in the schedule's kwargs (the fault drills sweep with seconds, not minutes).
    """
    thresholds = {}
    if run_deadline_s is not None:
        thresholds["run_deadline"] = timedelta(seconds=run_deadline_s)
    if pending_grace_s is not None:
        thresholds["pending_grace"] = timedelta(seconds=pending_grace_s)
    counts = work_sweep(**thresholds)
    return {"runs_failed": counts.runs_failed, "snapshots_requeued": counts.snapshots_requeued}
