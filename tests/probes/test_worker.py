"""End to end: a real Celery worker on Redis probes two loopback "providers" of different speeds and stores
both runs (the routing-advice end-to-end test builds on the same fixtures)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery

from apps.benchmarks.models import BenchmarkRun
from apps.probes.models import ProbeRun
from tests.conftest import REPO
from tests.probes.conftest import API_KEY
from tests.sources.test_worker import database_url, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def probe_worker(redis_broker, tmp_path, two_providers):
    """`celery worker` against the test database; it may reach 127.0.0.1 and reads the key from its env."""
    queue = f"test-probe-{os.getpid()}-{time.monotonic_ns()}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base", "DATABASE_URL": database_url(),
           "CELERY_BROKER_URL": redis_broker, "DB_CONN_MAX_AGE": "0",
           "TOKENWATCH_PROBE_ALLOWED_HOSTS": "127.0.0.1"}
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tokenwatch", "worker", "-Q", queue, "--concurrency", "2",
         "--pool", "prefork", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    # Not the current app: a new Celery() becomes it by default, and every later test's shared_task .delay()
    # would go to this broker instead of running eagerly.
    yield Celery(broker=redis_broker, set_as_current=False), queue, log
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_a_real_worker_probes_two_providers_and_stores_both_runs(probe_worker, two_providers):
    client, queue, log = probe_worker
    for target in (two_providers.fast, two_providers.slow):
        client.send_task("apps.probes.tasks.probe_target", args=[target.pk], queue=queue)
    wait_for(lambda: ProbeRun.objects.count() == 2, log, timeout=120)
    runs = {run.provider.slug: run for run in BenchmarkRun.objects.select_related("provider", "source")}
    assert set(runs) == {"fast-cloud", "slow-cloud"}
    assert {run.source.key for run in runs.values()} == {"probe"}
    fast, slow = runs["fast-cloud"], runs["slow-cloud"]
    # Two probes at once on a worker beside both servers: the accuracy tests are test_load.py's; here the order.
    assert 90 <= fast.ttft_p50_ms <= 130 and 360 <= slow.ttft_p50_ms <= 480
    assert fast.request_tokens_per_s_p50 > slow.request_tokens_per_s_p50
    assert fast.requests_completed == slow.requests_completed == 8 and fast.error_rate == 0
    assert two_providers.fast_server.stats()["auth_ok"] == 8  # the worker read the key from its environment
    assert API_KEY.encode() not in log.read_bytes()
