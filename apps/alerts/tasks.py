"""Celery tasks: thin. The database is the source of truth; a message only says "look now" (invariant 8)."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import services

CHUNK = 100  # deliveries per message: 10,000 alerts are 100 messages, not 10,000


def deliveries_enqueue(delivery_ids: list[int]) -> None:
    for start in range(0, len(delivery_ids), CHUNK):
        deliveries_send.delay(delivery_ids[start:start + CHUNK])


@shared_task(acks_late=True)
def market_events_process() -> int:
    """After a snapshot's commit (apps.pricing.market registers it): derive events, evaluate, send."""
    due = services.alerts_process()
    deliveries_enqueue(due)
    return len(due)


def _attempt(delivery_id: int) -> None:
    wait = services.delivery_attempt(delivery_id=delivery_id)
    if wait is not None:
        # The retry is a new message due after the backoff (Celery's countdown); the delivery row counts the
        # tries, so a redelivered or duplicated message cannot add any, and the sweep re-sends a lost one.
        deliver.apply_async((delivery_id,), countdown=wait)


@shared_task(acks_late=True)
def deliveries_send(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        _attempt(delivery_id)


@shared_task(acks_late=True)
def deliver(delivery_id: int) -> None:
    """One delivery's next try, until it is sent or TOKENWATCH_ALERT_MAX_TRIES is spent."""
    _attempt(delivery_id)


@shared_task(acks_late=True)
def alerts_sweep() -> dict[str, int]:
    """Beat, every 5 minutes: events a lost hint left, and deliveries due (pending, retry time passed, or
    claimed by a worker that died)."""
    due = set(services.alerts_process())
    due.update(services.deliveries_due())
    deliveries_enqueue(sorted(due))
    return {"deliveries": len(due)}


CATCH_UP_DAYS = 3


@shared_task(acks_late=True)
def digests_send(day: str | None = None) -> int:
    """Beat, daily: one email per digest watch and UTC day with that day's alerts, for yesterday and the days
    before it that a missed beat left without one (``day``, ISO: that day only). Unique per watch and day."""
    today = timezone.now().date()
    days = [date.fromisoformat(day)] if day else [today - timedelta(days=n) for n in range(1, CATCH_UP_DAYS + 1)]
    due: list[int] = []
    with transaction.atomic():
        for when in days:
            due += services.digests_create(day=when)
    deliveries_enqueue(due)
    return len(due)


def market_changed() -> None:
    """The hook apps.pricing registers with transaction.on_commit when market prices were written."""
    market_events_process.delay()
