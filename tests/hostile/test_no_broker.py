"""An upload when the queue cannot be reached (issue 12): no HTTP 500, no snapshot left "pending".

The broker URL points at a loopback port nothing listens on (bound and released by the
test), with eager mode off, as in production with Redis down. Publishing fails after
Celery's publish retries; the upload is then ingested in the request's process.
"""

from __future__ import annotations

import logging
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sources.models import IngestRun, Rejection, Snapshot
from tests.conftest import get_source
from tests.hostile.corpus import CASES, OBSERVED_AT

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_broker(monkeypatch):
    from tokenwatch.celery import app

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    # Publishing reads broker_write_url first (broker_url defers to a CELERY_BROKER_URL in the environment).
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", url)
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_connection_timeout",
                                             "task_publish_retry_policy")}
    app.conf.update(task_always_eager=False, broker_connection_timeout=1,
                    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1})
    # Fresh connection and producer pools for that URL; the app's own are put back untouched afterwards.
    saved_pools = app._pool, app.amqp._producer_pool
    app._pool = app.amqp._producer_pool = None
    yield
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool, app.amqp._producer_pool = saved_pools
    app.conf.update(saved)


@pytest.mark.parametrize("name", ["litellm-1e308.json", "litellm-nul-key.json", "market-1e22.csv"])
def test_an_upload_with_no_reachable_broker_is_ingested_not_left_pending(
        name: str, unreachable_broker, client_staff, django_capture_on_commit_callbacks, caplog) -> None:
    case = CASES[name]
    get_source(case.source)
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_staff.post("/api/v1/uploads/", {
            "source": case.source, "observed_at": OBSERVED_AT, "file": SimpleUploadedFile(name, case.make())},
            format="multipart")
    assert response.status_code == 202, response.content[:300]
    snapshot = Snapshot.objects.get(pk=response.json()["snapshot"])
    assert snapshot.parse_status == Snapshot.Status.OK
    run = IngestRun.objects.get(snapshot=snapshot)
    assert run.status == IngestRun.Status.OK and run.message.endswith(" 1 rejected"), run.message
    assert set(Rejection.objects.values_list("locator", flat=True)) == set(case.quarantined)
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(loud) == 1 and loud[0].exc_info is None, [r.getMessage() for r in loud]
    assert "queue cannot be reached" in loud[0].getMessage() and "\n" not in loud[0].getMessage()
