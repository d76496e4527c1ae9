"""Signed webhooks to a real receiver on loopback; the SSRF guard; exactly once however often work repeats."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from apps.alerts import services, tasks
from apps.alerts.models import Alert, Delivery, MarketEvent, Watch
from apps.alerts.webhooks import WebhookError, signature_header, signature_valid, webhook_url_check
from apps.catalog.models import Model
from apps.sources.models import Snapshot
from apps.sources.services import snapshot_reparse
from tests.alerts.conftest import SECRET, doc, ingest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = {"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}
AFTER = {"gpt-4o": (2e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}


@pytest.fixture
def loopback_allowed(settings):
    settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.TOKENWATCH_ALERT_RETRY_BACKOFF_S = 0  # eager Celery retries at once; the backoff is tested apart
    settings.TOKENWATCH_ALERT_MAX_TRIES = 5


def hook_watch(user, url: str, **fields) -> Watch:
    ingest(doc(BEFORE), 1)
    return services.watch_save(watch=Watch(
        owner=user, target="model", model=Model.objects.get(slug="gpt-4o"), condition="change",
        change_pct=Decimal(5), email=False, webhook_url=url, webhook_secret=SECRET, **fields))


def test_it_retries_500s_and_delivers_exactly_once_with_a_valid_signature(user, receiver, loopback_allowed):
    w = hook_watch(user, receiver.url)
    ingest(doc(AFTER), 2)

    assert [r["signature_ok"] for r in receiver.received] == [True, True, True]
    assert len({r["idempotency_key"] for r in receiver.received}) == 1  # the same key on every try
    accepted = receiver.received[-1]
    body = json.loads(accepted["body"])
    delivery = Delivery.objects.get(watch=w)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert body["id"] == accepted["idempotency_key"] == str(delivery.idempotency_key)
    assert body["old"] == {"value": "2.5", "unit": "USD per 1M tokens"}
    assert body["new"] == {"value": "2", "unit": "USD per 1M tokens"}
    assert body["percent_change"] == "-20.00"
    assert body["offering"]["provider"] == "openai" and body["offering"]["model"] == "gpt-4o"
    assert body["source"] == "litellm" and body["snapshot"] == Snapshot.objects.latest("id").pk
    assert body["observed_at"].startswith("2026-01-02") and body["link"].endswith(f"/watches/{w.pk}/")
    assert [r["headers"]["Tokenwatch-Attempt"] for r in receiver.received] == ["1", "2", "3"]

    # Everything again: the sweep, the hint, the delivery task (a duplicated message): nothing more is sent.
    tasks.alerts_sweep()
    tasks.market_events_process()
    tasks.deliveries_send([delivery.pk])
    tasks.deliver(delivery.pk)
    assert len(receiver.received) == 3 and Alert.objects.count() == 1 and Delivery.objects.count() == 1


def test_it_gives_up_after_the_set_number_of_tries(user, receiver, loopback_allowed, settings):
    settings.TOKENWATCH_ALERT_MAX_TRIES = 2
    w = hook_watch(user, receiver.url)
    ingest(doc(AFTER), 2)
    delivery = Delivery.objects.get(watch=w)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 2, 500)
    assert "HTTP 500" in delivery.last_error and delivery.next_retry_at is None
    assert len(receiver.received) == 2


def test_the_backoff_doubles_and_a_failed_try_schedules_the_next(user, receiver, loopback_allowed, settings):
    settings.TOKENWATCH_ALERT_RETRY_BACKOFF_S = 30
    assert [services.backoff_s(n) for n in (1, 2, 3)] == [30, 60, 120]
    w = hook_watch(user, receiver.url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tasks.deliver, "apply_async", lambda *a, **k: None)  # the broker holds the retry message
        ingest(doc(AFTER), 2)
    delivery = Delivery.objects.get(watch=w)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
    assert 25 < (delivery.next_retry_at - delivery.claimed_at).total_seconds() <= 30
    assert services.delivery_attempt(delivery_id=delivery.pk) is None  # not due yet: not sent
    assert len(receiver.received) == 1


def test_re_ingest_and_re_parse_send_nothing_twice(user, receiver, loopback_allowed):
    receiver.answers.clear()
    w = hook_watch(user, receiver.url)
    run = ingest(doc(AFTER), 2)
    ingest(doc(AFTER), 3)  # the same bytes again: seen again
    snapshot_reparse(snapshot=Snapshot.objects.get(pk=run.snapshot_id))
    for snapshot in Snapshot.objects.all():
        snapshot_reparse(snapshot=snapshot)
    tasks.alerts_sweep()
    assert MarketEvent.objects.filter(kind="price").count() == 1
    assert Alert.objects.filter(watch=w).count() == 1 and len(receiver.received) == 1


def test_the_sweep_finds_what_a_lost_hint_left(user, receiver, loopback_allowed, monkeypatch):
    receiver.answers.clear()
    w = hook_watch(user, receiver.url)
    monkeypatch.setattr(tasks.market_events_process, "delay", lambda *a, **k: None)  # the broker lost it
    ingest(doc(AFTER), 2)
    assert not Alert.objects.exists()
    tasks.alerts_sweep()
    assert Alert.objects.filter(watch=w).count() == 1 and len(receiver.received) == 1


def test_a_stale_claim_is_sent_again_by_the_sweep(user, receiver, loopback_allowed, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    receiver.answers.clear()
    w = hook_watch(user, receiver.url)
    monkeypatch.setattr(tasks.deliveries_send, "delay", lambda *a, **k: None)
    ingest(doc(AFTER), 2)
    # A worker claimed it and died before recording the outcome.
    Delivery.objects.filter(watch=w).update(status="sending", attempts=1,
                                            claimed_at=timezone.now() - timedelta(hours=1))
    monkeypatch.undo()
    tasks.alerts_sweep()
    delivery = Delivery.objects.get(watch=w)
    assert (delivery.status, delivery.attempts) == ("delivered", 2) and len(receiver.received) == 1


def test_ssrf_guard_refuses_private_and_plain_http_unless_allowed(settings):
    settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = []
    for url, why in [("https://127.0.0.1/hook", "loopback"), ("https://10.1.2.3/hook", "private"),
                     ("https://169.254.169.254/latest", "link-local"), ("https://[::1]/hook", "loopback"),
                     ("http://93.184.216.34/hook", "https"), ("ftp://example.com/x", "https")]:
        with pytest.raises(WebhookError) as refused:
            webhook_url_check(url)
        assert refused.value.permanent and why in refused.value.message, (url, refused.value.message)
    settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    webhook_url_check("http://127.0.0.1:9/hook")  # the allowed host: plain http and loopback pass
    with pytest.raises(WebhookError):
        webhook_url_check("https://10.1.2.3/hook")  # other hosts still may not


def test_a_refused_webhook_is_never_contacted_and_fails_at_once(user, receiver, loopback_allowed, settings):
    w = hook_watch(user, receiver.url)
    settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = []  # the allow-list changed after the watch was made
    ingest(doc(AFTER), 2)
    delivery = Delivery.objects.get(watch=w)
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "refused" in delivery.last_error and receiver.received == []


def test_the_signature_scheme():
    body = b'{"a":1}'
    header = signature_header("s3cret", 1767225600, body)
    assert header.startswith("t=1767225600,v1=") and len(header.split("v1=")[1]) == 64
    assert signature_valid(header, "s3cret", body)
    assert not signature_valid(header, "other", body) and not signature_valid(header, "s3cret", body + b" ")
    assert not signature_valid("garbage", "s3cret", body)


def test_two_workers_at_once_alert_and_send_once(postgres, user, loopback_allowed, monkeypatch):
    """PostgreSQL: two threads (two connections) process the same change and send the same deliveries."""
    sent: list[int] = []
    monkeypatch.setattr(services, "_send_email", lambda d: sent.append(d.pk))
    ingest(doc(BEFORE), 1)
    services.watch_save(watch=Watch(owner=user, target="model", model=Model.objects.get(slug="gpt-4o"),
                                    condition="change", change_pct=Decimal(5)))
    monkeypatch.setattr(tasks.market_events_process, "delay", lambda *a, **k: None)  # the threads do the work
    ingest(doc(AFTER), 2)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            due = services.alerts_process()
            barrier.wait()
            for pk in due or Delivery.objects.values_list("pk", flat=True):
                services.delivery_attempt(delivery_id=pk)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Alert.objects.count() == 1 and Delivery.objects.count() == 1 and len(sent) == 1
    assert mail.outbox == []


def test_a_webhook_host_that_rebinds_to_loopback_after_the_check_is_never_contacted(
        user, receiver, settings, monkeypatch):
    """DNS rebinding: the name answers a public address to the guard and loopback to whatever looks next."""
    from apps.alerts.webhooks import webhook_post
    from tests.scrapers.rebinding import connects, rebinding_dns

    settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS = []
    port = receiver.url.split(":")[2].split("/")[0]
    answers = rebinding_dns(monkeypatch, "hooks.example.test", ["93.184.216.34", "127.0.0.1"])
    connected = connects(monkeypatch)
    with pytest.raises(WebhookError) as refused:
        webhook_post(url=f"https://hooks.example.test:{port}/hook", body=b"{}", headers={}, timeout_s=2)
    assert refused.value.permanent, refused.value.message
    assert "resolves to 127.0.0.1, a loopback address" in refused.value.message
    assert answers == ["93.184.216.34", "127.0.0.1"] and connected == [] and receiver.received == []
