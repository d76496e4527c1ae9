"""A real Celery worker process on Redis ingests snapshots: duplicate deliveries
and two concurrent ingests of one source leave exactly the history an in-process
ingest gives."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest

from apps.pricing.models import Price, PriceChange
from apps.sources.models import Snapshot
from apps.sources.services import FetchMeta, snapshot_store
from tests.conftest import SHARED_DATA, get_source
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

FILES = [
    ("litellm/model_prices_2024-04-22_tokencost-569280a.json", datetime(2024, 4, 23, 6, 50, tzinfo=UTC)),
    ("litellm/model_prices_2024-09-23_tokencost-50ea0a0.json", datetime(2024, 9, 22, 18, 43, 44, tzinfo=UTC)),
]


@pytest.fixture
def worker(redis_broker, tmp_path):
    """Start `celery worker` (2 processes) against the test database; stop it afterwards."""
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    log = tmp_path / "worker.log"
    with celery_worker(redis_broker, log, queue=queue) as client:
        yield client, queue, log


def history() -> list[tuple]:
    return sorted(Price.objects.values_list("offering__source_model_id", "offering__service_tier",
                                            "offering__region", "effective_from", "effective_to",
                                            "input_usd_per_mtok", "output_usd_per_mtok"),
                  key=lambda r: tuple(str(v) for v in r))


def test_it_ingests_through_a_real_worker_safely_under_duplicates_and_concurrency(worker):
    if not SHARED_DATA.is_dir():
        pytest.skip("shared data missing")
    client, queue, log = worker
    source = get_source("litellm")
    snapshots = [
        snapshot_store(source=source, content=(SHARED_DATA / path).read_bytes(), observed_at=when,
                       meta=FetchMeta(filename=path))[0]
        for path, when in FILES
    ]
    # Every snapshot delivered twice, all at once: two worker processes race on one source.
    for snapshot in snapshots + snapshots:
        client.send_task("apps.sources.tasks.ingest_snapshot", args=[snapshot.pk], queue=queue)

    def all_done() -> bool:
        statuses = set(Snapshot.objects.values_list("parse_status", flat=True))
        return statuses <= {Snapshot.Status.OK, Snapshot.Status.FAILED} and Snapshot.Status.PENDING not in statuses

    wait_for(all_done, log)
    wait_for(lambda: "succeeded" in log.read_text(errors="replace"), log)
    time.sleep(2)  # let the duplicate deliveries finish too
    assert set(Snapshot.objects.values_list("parse_status", flat=True)) == {Snapshot.Status.OK}, list(
        Snapshot.objects.values_list("error", flat=True))
    from_worker = history()
    changes = PriceChange.objects.count()
    assert len(from_worker) > 600
    assert changes > 0

    # The same snapshots re-applied in-process, in order, give the same history.
    from apps.sources.services import snapshot_reparse

    for snapshot in sorted(snapshots, key=lambda s: s.observed_at):
        snapshot_reparse(snapshot=Snapshot.objects.get(pk=snapshot.pk))
    assert history() == from_worker
    assert PriceChange.objects.count() == changes
