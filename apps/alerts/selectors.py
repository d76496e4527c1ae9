"""Reads for alerts: one's own watches, their alerts and deliveries."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Alert, Delivery, Watch


def watches_of(*, user) -> QuerySet[Watch]:
    """The user's watches, newest first, with their alert counts (another user's watches never appear)."""
    return (Watch.objects.filter(owner=user).select_related("model", "provider")
            .annotate(alert_count=Count("alerts", distinct=True)))


def watch_alerts(*, watch: Watch, limit: int = 100) -> QuerySet[Alert]:
    return (watch.alerts.select_related("event__provider", "event__model", "event__source")
            .order_by("-created_at", "-id")[:limit])


def deliveries_of(*, user) -> QuerySet[Delivery]:
    return Delivery.objects.filter(watch__owner=user).select_related("watch")


def watch_deliveries(*, watch: Watch, limit: int = 100) -> QuerySet[Delivery]:
    return watch.deliveries.order_by("-created_at", "-id")[:limit]
