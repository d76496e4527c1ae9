"""Bulk writes that Django's ORM makes slow: COPY on PostgreSQL, bulk_create elsewhere.

Django's bulk_create spends ~30 microseconds a row preparing values and building one
large INSERT, which was most of an ingest; COPY streams the same tuples in a fraction
of that. Used by the price and hardware appliers alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

import orjson
from django.db import connection, models, transaction

from . import dataversion

BATCH = 2000


class JsonText(str):
    """A JSON column's value already encoded (the canonical text a caller compared by): written as is by COPY
    instead of being decoded and encoded again for every row."""


def batched(items: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def bulk_insert(model: type[models.Model], rows: list[dict[str, Any]], *, batch_size: int = BATCH) -> None:
    """Insert rows given as {attname: value} (every column the table needs: like COPY, no Python-side defaults);
    COPY on PostgreSQL, one prepared INSERT run over every row (executemany) elsewhere. Ids are not returned."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        # bulk_create builds model instances and a many-row INSERT (most of an embedded ingest); the
        # embedded database takes a prepared statement per row in-process, with the fields' own encoding.
        meta = model._meta
        fields = [meta.get_field(name) for name in rows[0]]
        # Identifiers come from the model and are quoted by the backend; every value is a bound parameter.
        statement = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            connection.ops.quote_name(meta.db_table), ", ".join(connection.ops.quote_name(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)))
        with connection.cursor() as cursor:
            for chunk in batched(rows, batch_size):
                cursor.executemany(statement, [[f.get_db_prep_save(_decoded(row[f.attname]), connection)
                                                for f in fields] for row in chunk])
        return
    with connection.cursor() as cursor:
        _copy(cursor, model._meta.db_table, model, list(rows[0]), rows)


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, JsonText) else value


def _json_text(value: Any) -> str:
    if isinstance(value, JsonText):
        return value
    if value == {} or value == []:  # most rows: no extra units, no evidence beyond the chosen
        return "{}" if value == {} else "[]"
    try:
        # orjson: a tenth of json.dumps's time for the market's evidence lists, one per row. The column is
        # jsonb, which keeps the parsed value, not the text, so the two encoders store the same thing.
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):  # what orjson refuses (a Decimal, a lone surrogate): as before
        return json.dumps(value)


def _copy(cursor: Any, table: str, model: type[models.Model], names: list[str], rows: list[dict[str, Any]]) -> None:
    from psycopg import sql

    fields = [model._meta.get_field(name) for name in names]
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    time_columns = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
    # psycopg dumps an aware datetime in ~4 us (its offset is asked of the tzinfo in Python), a tenth of a
    # price row's cost; the rows of one write share a few instants (every new price starts at the same
    # sighting), so each distinct one is written out once, as ISO 8601 text that PostgreSQL reads back exactly.
    times: dict[datetime, str] = {}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields))
    if not table.startswith("tw_new_"):  # a COPY into a temporary table changes nothing yet
        dataversion.changed(cursor.db.alias)
    with cursor.cursor.copy(statement) as copy:
        for row in rows:
            values = [row[name] for name in names]
            for i in json_columns:
                values[i] = _json_text(values[i])
            for i in time_columns:
                moment = values[i]
                if moment is not None:
                    text = times.get(moment)
                    if text is None:
                        text = times[moment] = moment.isoformat()
                    values[i] = text
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


def insert_ignoring_conflicts(model: type[models.Model], rows: list[dict[str, Any]], *, conflict: list[str],
                              batch_size: int = BATCH, expect_new: bool = False) -> None:
    """Insert rows ({attname: value}) whose conflict key is new; rows whose key exists (a concurrent worker
    got there first) are skipped. COPY through a temporary table on PostgreSQL; ids are not returned.

    ``expect_new``: the caller checked that the keys did not exist, so a conflict can only come from a
    concurrent writer; COPY then goes straight into the table (in a savepoint, falling back to the temporary
    table when a key does exist), which writes every row once instead of twice.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], batch_size=batch_size, ignore_conflicts=True)
        return
    fast = NewRows(model, list(rows[0]), conflict=conflict, key_columns=conflict, direct=expect_new)
    try:
        for chunk in batched(rows, batch_size):
            fast.insert_new(chunk)
    finally:
        fast.close()


def bulk_update_rows(model: type[models.Model], rows: list[dict[str, Any]], fields: list[str],
                     *, batch_size: int = BATCH) -> None:
    """Update rows given as {"id": pk, field: value, ...}: on PostgreSQL COPY into a temporary table and one
    UPDATE ... FROM it (bulk_update's CASE over every row and column grows with rows x columns); elsewhere
    bulk_update."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        # An embedded database answers in-process: one prepared UPDATE per row (executemany) is milliseconds,
        # where bulk_update's CASE expressions took seconds for a thousand rows.
        meta = model._meta
        model_fields = [meta.get_field(name) for name in fields]
        # Identifiers come from the model and are quoted by the backend; every value is a bound parameter.
        statement = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
            connection.ops.quote_name(meta.db_table),
            ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in model_fields),
            connection.ops.quote_name(meta.pk.column))
        params = [[f.get_db_prep_save(row[f.attname], connection) for f in model_fields] + [row["id"]]
                  for row in rows]
        with connection.cursor() as cursor:
            for chunk in batched(params, batch_size):
                cursor.executemany(statement, chunk)
        return
    from psycopg import sql

    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    temp = f"tw_upd_{meta.db_table}"[:63]
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {t}; CREATE TEMP TABLE {t} AS SELECT {c} FROM {target} WITH NO "
                               "DATA").format(
            t=sql.Identifier(temp), target=sql.Identifier(meta.db_table),
            c=sql.SQL(", ").join(sql.Identifier(c) for c in ["id", *columns])).as_string(cursor.connection))
        for chunk in batched(rows, batch_size):
            _copy(cursor, temp, model, ["id", *fields], chunk)
        cursor.execute(sql.SQL("UPDATE {target} AS t SET {sets} FROM {t} AS s WHERE t.id = s.id").format(
            target=sql.Identifier(meta.db_table), t=sql.Identifier(temp),
            sets=sql.SQL(", ").join(sql.SQL("{c} = s.{c}").format(c=sql.Identifier(c)) for c in columns),
        ).as_string(cursor.connection))
        cursor.execute(sql.SQL("DROP TABLE {t}").format(t=sql.Identifier(temp)).as_string(cursor.connection))


# --- COPY from tuples -----------------------------------------------------------------------------------


def copy_tuples(model: type[models.Model], names: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """PostgreSQL: COPY rows given as tuples (values in ``names`` order, attnames; JSON columns as JSON text)
    straight into the model's table; returns the number of rows.

    For callers that build each row once: no dict per row, no lookup by name (``bulk_insert`` takes dicts).
    No ids come back and nothing is checked here: the caller knows every key is new (a conflict raises
    IntegrityError, to be caught in a savepoint).
    """
    from psycopg import sql

    fields = [model._meta.get_field(name) for name in names]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields))
    count = 0
    dataversion.changed(connection.alias)  # COPY does not pass Django's execute wrappers
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        write = copy.write_row  # psycopg formats each row in C
        for row in rows:
            write(row)
            count += 1
    return count


def json_text(value: Any) -> str:
    """A JSON column's value as the text COPY writes (``{}`` without calling the encoder)."""
    return _json_text(value)
