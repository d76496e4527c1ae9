"""Reads for pricing: querysets and DataFrames. No writes here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Price, PriceChange


def _at(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    # A date means "at the end of that day": a price that starts on that day counts.
    return datetime.combine(moment, time.max, tzinfo=UTC)


def as_of_moment(moment: date | datetime) -> datetime:
    """The instant an as_of parameter names: a date-time itself, a date the end of that day (UTC)."""
    return _at(moment)


def prices_as_of(moment: date | datetime, queryset: QuerySet[Price] | None = None) -> QuerySet[Price]:
    """The prices that held at a moment: effective_from <= t < effective_to (open ends count)."""
    at = _at(moment)
    qs = Price.objects.all() if queryset is None else queryset
    return qs.filter(Q(effective_from__isnull=True) | Q(effective_from__lte=at)).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gt=at)
    )


def prices_current(queryset: QuerySet[Price] | None = None) -> QuerySet[Price]:
    """Prices still in force now (a future-dated change has not started yet)."""
    return prices_as_of(timezone.now(), queryset)


PRICE_CONTEXT = ("offering__provider", "offering__alias__model", "offering__source", "snapshot")


def prices_with_context(queryset: QuerySet[Price] | None = None) -> QuerySet[Price]:
    """Prices with what every row names joined in: provider, canonical model, source and snapshot."""
    qs = Price.objects.all() if queryset is None else queryset
    # The snapshot's raw bytes can be megabytes: never load them with a row.
    return qs.select_related(*PRICE_CONTEXT).defer("snapshot__content")


def price_changes_with_context(queryset: QuerySet[PriceChange] | None = None) -> QuerySet[PriceChange]:
    qs = PriceChange.objects.all() if queryset is None else queryset
    return qs.select_related(*PRICE_CONTEXT).defer("snapshot__content")


def price_changes_recent(queryset: QuerySet[PriceChange] | None = None, *, limit: int = 100) -> list[PriceChange]:
    """The newest changes first (the Atom feed)."""
    return list(price_changes_with_context(queryset).order_by("-changed_at", "-id")[:limit])
