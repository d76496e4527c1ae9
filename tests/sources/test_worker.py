"""A real Celery worker process on Redis ingests snapshots: duplicate deliveries
and two concurrent ingests of one source leave exactly the history an in-process
ingest gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from celery import Celery
from django.db import connection

from apps.pricing.models import Price, PriceChange
from apps.sources.models import Snapshot
from apps.sources.services import FetchMeta, snapshot_store
from tests.conftest import REPO, SHARED_DATA, get_source

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

FILES = [
    ("litellm/model_prices_2024-04-22_tokencost-569280a.json", datetime(2024, 4, 23, 6, 50, tzinfo=UTC)),
    ("litellm/model_prices_2024-09-23_tokencost-50ea0a0.json", datetime(2024, 9, 22, 18, 43, 44, tzinfo=UTC)),
]


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(redis_broker, tmp_path):
    """Start `celery worker` (2 processes) against the test database; stop it afterwards."""
    queue = f"test-{os.getpid()}-{time.monotonic_ns()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": redis_broker,
        "DB_CONN_MAX_AGE": "0",
    }
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tokenwatch", "worker", "-Q", queue, "--concurrency", "2",
         "--pool", "prefork", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    client = Celery(broker=redis_broker, set_as_current=False)  # later tests keep the eager app
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    yield client, queue, log
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def wait_for(predicate, log, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; worker log:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.25)


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
