"""Upsert rows that a snapshot *states* (benchmark runs, market sizes), newest snapshot winning.

A stated fact has a natural key (unique constraint) and the snapshot that
stated it. Applying a snapshot writes each of its rows unless a *newer*
snapshot (by observation time, ties broken by sha256, never by arrival order)
already stated the same key. So:

* the same snapshot applied twice (reparse) changes nothing (invariant 3);
* backfilling an old snapshot after a newer one leaves the newer figures in
  place, the same end state as ingesting in date order (invariant 4);
* a row the snapshot stated before but no longer states (after a parser fix)
  is deleted.

Rows are read and written in batches, so memory does not grow with the file.
New rows go in with PostgreSQL's COPY (:func:`bulk_insert`): Django's
bulk_create spends ~30 microseconds a row preparing values, which is most of a
100,000-row import; COPY streams the same tuples in a fraction of that.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection, models

from apps.common.bulk import BATCH, NewRows, batched, bulk_insert
from apps.sources.models import Snapshot

__all__ = ["BATCH", "NewRows", "UpsertCounts", "batched", "bulk_insert", "fit", "rank", "upsert_stated"]

M = TypeVar("M", bound=models.Model)


@dataclass
class UpsertCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0


def fit(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Quantize Decimals to their column's places, so a stored value compares equal to what is re-applied."""
    for name, value in values.items():
        if isinstance(value, Decimal):
            exponent = _exponent(model, name)
            if exponent is not None:
                values[name] = value.quantize(exponent)
    return values


@lru_cache(maxsize=256)
def _exponent(model: type[models.Model], name: str) -> Decimal | None:
    places = getattr(model._meta.get_field(name), "decimal_places", None)
    return None if places is None else Decimal(1).scaleb(-places)


def rank(snapshot: Snapshot) -> tuple[Any, str]:
    return (snapshot.observed_at, snapshot.sha256)


def upsert_stated(
    *,
    model: type[M],
    snapshot: Snapshot,
    items: Iterable[tuple[Hashable, dict[str, Any]]],
    key_of: Callable[[M], Hashable],
    load: Callable[[list[Hashable]], models.QuerySet[M]],
    fields: list[str],
    conflict: list[str] | None = None,
    key_column: str = "",
    batch_size: int = BATCH,
) -> UpsertCounts:
    """Write (key, values) pairs stated by ``snapshot``; ``load(keys)`` returns the existing rows of those keys.

    ``fields`` are the columns that carry the stated figures (compared and
    updated); ``values`` also holds the natural key's columns. ``snapshot`` is
    set by this function. With ``conflict`` (the unique constraint's columns)
    and ``key_column`` (the one column whose value is the key), PostgreSQL
    inserts new rows without reading first.
    """
    counts = UpsertCounts()
    incoming = rank(snapshot)
    owned = set(model.objects.filter(snapshot=snapshot).values_list("pk", flat=True))
    fast: NewRows | None = None
    try:
        for chunk in batched(items, batch_size):
            for _, values in chunk:
                values["snapshot_id"] = snapshot.pk
            if conflict and connection.vendor == "postgresql":
                if fast is None:
                    fast = NewRows(model, list(chunk[0][1]), conflict, [key_column])
                created = fast.insert_new([values for _, values in chunk])
                counts.created += len(created)
                chunk = [(key, values) for key, values in chunk if key not in created]
                if not chunk:
                    continue
            existing = {key_of(row): row for row in load([key for key, _ in chunk]).select_related("snapshot")
                        .defer("snapshot__content")}
            to_create: list[dict[str, Any]] = []
            to_update: list[M] = []
            for key, values in chunk:
                row = existing.get(key)
                if row is None:
                    to_create.append(values)
                    counts.created += 1
                    continue
                fit(model, values)
                owned.discard(row.pk)
                if rank(row.snapshot) > incoming:  # type: ignore[attr-defined]
                    counts.unchanged += 1  # a newer snapshot states this row; it stays as the newer one says
                    continue
                differs = [name for name in fields if getattr(row, name) != values[name]]
                if differs:
                    for name in fields:
                        setattr(row, name, values[name])
                    counts.changed += 1
                else:
                    counts.unchanged += 1
                if differs or row.snapshot_id != snapshot.pk:  # type: ignore[attr-defined]
                    row.snapshot = snapshot  # type: ignore[attr-defined]
                    to_update.append(row)
            bulk_insert(model, to_create, batch_size=batch_size)
            if to_update:
                model.objects.bulk_update(to_update, [*fields, "snapshot"], batch_size=batch_size)
    finally:
        if fast is not None:
            fast.close()
    if owned:
        counts.deleted, _ = model.objects.filter(pk__in=owned).delete()
    return counts
