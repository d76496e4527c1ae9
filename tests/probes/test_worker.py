"""End to end: a real Celery worker on Redis probes two loopback "providers" of different speeds and stores
both runs (the routing-advice end-to-end test builds on the same fixtures)."""

from __future__ import annotations

import os
import time

import pytest

from apps.benchmarks.models import BenchmarkRun
from apps.probes.models import ProbeRun
from tests.probes.conftest import API_KEY
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def probe_worker(redis_broker, tmp_path, two_providers):
    """`celery worker` against the test database; it may reach 127.0.0.1 and reads the key from its env."""
    queue = f"test-probe-{os.getpid()}-{time.monotonic_ns()}"
    log = tmp_path / "worker.log"
    with celery_worker(redis_broker, log, queue=queue, env={"TOKENWATCH_PROBE_ALLOWED_HOSTS": "127.0.0.1"}) as client:
        yield client, queue, log


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
