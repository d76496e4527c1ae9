"""A real Celery worker (2 processes, Redis) handles a duplicated hint and delivers through retries once."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from apps.alerts import services, tasks
from apps.alerts.models import Alert, Delivery, Watch
from apps.catalog.models import Model
from tests.alerts.conftest import SECRET, doc, ingest
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(redis_broker, tmp_path):
    """`celery worker` on the default queue of the test broker (the worker's own retries go there too)."""
    log = tmp_path / "worker.log"
    env = {"TOKENWATCH_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "TOKENWATCH_ALERT_RETRY_BACKOFF_S": "0.2",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    with celery_worker(redis_broker, log, env=env) as client:
        yield client, log


def test_a_duplicated_hint_on_a_real_worker_alerts_and_delivers_once(worker, receiver, settings, monkeypatch):
    client, log = worker
    settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    ingest(doc({"gpt-4o": (2.5e-06, 1e-05)}), 1)  # the baseline, in-process
    watch = services.watch_save(watch=Watch(
        owner=_user(), target="model", model=Model.objects.get(slug="gpt-4o"), condition="change",
        change_pct=Decimal(5), email=False, webhook_url=receiver.url, webhook_secret=SECRET))
    monkeypatch.setattr(tasks.market_events_process, "delay", lambda *a, **k: None)  # the worker does it
    ingest(doc({"gpt-4o": (2e-06, 1e-05)}), 2)
    for _ in range(2):  # the hint delivered twice, to two worker processes at once
        client.send_task("apps.alerts.tasks.market_events_process")

    wait_for(lambda: Delivery.objects.filter(watch=watch, status="delivered").exists(), log, timeout=60)
    time.sleep(1.5)  # anything doubled would arrive by now
    assert Alert.objects.filter(watch=watch).count() == 1
    delivery = Delivery.objects.get(watch=watch)
    assert (delivery.attempts, delivery.response_code) == (3, 200)
    assert [r["signature_ok"] for r in receiver.received] == [True, True, True]
    assert len({r["idempotency_key"] for r in receiver.received}) == 1


def _user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("wanda", email="wanda@example.com")
