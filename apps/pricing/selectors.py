"""Reads for pricing: querysets and DataFrames. No writes here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Price


def _at(moment: date | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    # A date means "at the end of that day": a price that starts on that day counts.
    return datetime.combine(moment, time.max, tzinfo=UTC)


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
