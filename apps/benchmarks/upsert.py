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

import json
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import islice
from typing import Any, TypeVar

from django.db import connection, models, transaction

from apps.sources.models import Snapshot

BATCH = 2000
M = TypeVar("M", bound=models.Model)


@dataclass
class UpsertCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0


def batched(items: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


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


def bulk_insert(model: type[models.Model], rows: list[dict[str, Any]], *, batch_size: int = BATCH) -> None:
    """Insert rows given as {attname: value}; COPY on PostgreSQL, bulk_create elsewhere. Ids are not returned."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return
    with connection.cursor() as cursor:
        _copy(cursor, model._meta.db_table, model, list(rows[0]), rows)


def _copy(cursor: Any, table: str, model: type[models.Model], names: list[str], rows: list[dict[str, Any]]) -> None:
    from psycopg import sql

    fields = [model._meta.get_field(name) for name in names]
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields))
    with cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i in json_columns:
                values[i] = "{}" if values[i] == {} else json.dumps(values[i])
            copy.write_row(values)


class NewRows:
    """PostgreSQL: insert a batch of rows in one round trip, learning which keys already existed.

    First try: COPY straight into the target inside a savepoint, which is one
    write per row and succeeds whenever every key is new (a new file). If a key
    exists, roll back to the savepoint and, from then on, COPY into a temporary
    table shaped like the target and INSERT ... SELECT ... ON CONFLICT DO
    NOTHING RETURNING the key columns: returned keys were created, the others
    exist. ``direct=False`` skips the first try (when ids must come back).
    """

    def __init__(self, model: type[models.Model], names: list[str], conflict: list[str],
                 key_columns: list[str], *, direct: bool = True) -> None:
        from psycopg import sql

        self.model, self.names, self.key_columns = model, names, key_columns
        self.single = len(key_columns) == 1
        self.direct = direct and all(c in names for c in key_columns)
        meta = model._meta
        self.table = meta.db_table

        def ids(fields: list[str]) -> Any:
            return sql.SQL(", ").join(sql.Identifier(meta.get_field(n).column) for n in fields)

        self.temp = f"tw_new_{meta.db_table}"[:63]
        self.cursor = connection.cursor()
        self.create_temp = sql.SQL("DROP TABLE IF EXISTS {t}; CREATE TEMP TABLE {t} AS SELECT {c} FROM {target} "
                                   "WITH NO DATA").format(t=sql.Identifier(self.temp), c=ids(names),
                                                          target=sql.Identifier(self.table)).as_string()
        self.temp_ready = False
        self.insert = sql.SQL("INSERT INTO {target} ({c}) SELECT {c} FROM {t} ON CONFLICT ({k}) DO NOTHING "
                              "RETURNING {key}").format(target=sql.Identifier(self.table), c=ids(names),
                                                        t=sql.Identifier(self.temp), k=ids(conflict),
                                                        key=ids(key_columns)).as_string()
        self.truncate = sql.SQL("TRUNCATE {t}").format(t=sql.Identifier(self.temp)).as_string()

    def insert_new(self, rows: list[dict[str, Any]]) -> set[Any]:
        """Insert the rows whose keys are new; the keys inserted (a value, or a tuple for several key columns)."""
        import psycopg

        if self.direct:
            savepoint = transaction.savepoint()
            try:
                _copy(self.cursor, self.table, self.model, self.names, rows)
            except psycopg.IntegrityError:
                transaction.savepoint_rollback(savepoint)
                self.direct = False  # this source has rows already: stop trying
            else:
                transaction.savepoint_commit(savepoint)
                if self.single:
                    return {row[self.key_columns[0]] for row in rows}
                return {tuple(row[c] for c in self.key_columns) for row in rows}
        if not self.temp_ready:
            self.cursor.execute(self.create_temp)
            self.temp_ready = True
        _copy(self.cursor, self.temp, self.model, self.names, rows)
        self.cursor.execute(self.insert)
        created = {row[0] if self.single else tuple(row) for row in self.cursor.fetchall()}
        self.cursor.execute(self.truncate)
        return created

    def close(self) -> None:
        if self.temp_ready:
            self.cursor.execute(f'DROP TABLE IF EXISTS "{self.temp}"')
        self.cursor.close()


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
