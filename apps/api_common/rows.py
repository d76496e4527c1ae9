"""A page's rows by id, from SQL compiled once per list rather than once per request.

A keyset page is found in two statements: the page's ids (the filters and the sort
keys: a small query, compiled per request since the filters vary), then those
rows with every column the serializer shows (five joins and twenty-odd formatted
columns). The second statement is the same for every request of a list except
for its ids, and building and compiling it through the ORM was a third of a
request's Python time. So it is compiled once per process, with the ids as one
array parameter (``id = ANY(%s)``), and then only executed: the same SQL text on
every request, which psycopg also prepares in the server.

Django has no compiled-statement cache (SQLAlchemy's "compiled cache" is the
idea); this is the small part of one that the API needs. Only statements whose
sole parameter is the id array are kept, so nothing from one request (a host
name, a user, a date) can leak into another's SQL. Other databases go through
the ORM on every request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from apps.common.lookups import integer_array


@dataclass(frozen=True)
class CompiledRows:
    sql: str
    # (position in the row, converter functions, expression) as Django's compiler applies them.
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


_compiled: dict[Hashable, CompiledRows | None] = {}
_lock = threading.Lock()


def rows_by_id(base: QuerySet, select: Callable[[QuerySet], QuerySet], ids: Sequence[int], *,
               key: Hashable) -> list[Sequence[Any]]:
    """``select(base)``'s rows for these ids, in the order of ``ids``; each row's last value is its id.

    ``key`` names what ``select(base)`` is (the view and serializer): the same key must
    always give the same SQL. Rows deleted since their ids were read are left out.
    """
    if not ids:
        return []
    connection = connections[base.db]
    compiled = None
    if connection.vendor == "postgresql":
        cache_key = (key, base.db)
        if cache_key not in _compiled:
            with _lock:
                _compiled[cache_key] = _compile(base, select)
        compiled = _compiled[cache_key]
    if compiled is None:
        rows: list[Sequence[Any]] = list(select(base.filter(pk__in=list(ids)).order_by()))
    else:
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [integer_array(ids)])  # the SQL casts it: ``%s::bigint[]``
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(_convert(rows, compiled.converters, connection))
    by_id = {row[-1]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _compile(base: QuerySet, select: Callable[[QuerySet], QuerySet]) -> CompiledRows | None:
    connection = connections[base.db]
    meta = base.model._meta
    column = f"{connection.ops.quote_name(meta.db_table)}.{connection.ops.quote_name(meta.pk.column)}"
    marker: list[int] = []
    # Quoted identifiers from the model's metadata; the ids are a bound parameter.
    in_ids = RawSQL(f"{column} = ANY(%s::bigint[])", (marker,), output_field=BooleanField())  # noqa: S611
    queryset = select(base.filter(in_ids).order_by())  # the rows come back in the order of ``ids``
    compiler = queryset.query.get_compiler(using=base.db)
    sql, params = compiler.as_sql()
    if len(params) != 1 or params[0] is not marker:
        return None  # something else is bound into the SQL: compile it per request instead
    fields = [item[0] for item in compiler.select[: compiler.col_count]]
    converters = compiler.get_converters(fields)
    return CompiledRows(sql=sql, converters=tuple((pos, tuple(funcs), expr)
                                                  for pos, (funcs, expr) in converters.items()))


def _convert(rows, converters, connection):
    # As SQLCompiler.apply_converters, with the connection of the request at hand.
    for row in map(list, rows):
        for pos, funcs, expression in converters:
            value = row[pos]
            for func in funcs:
                value = func(value, expression, connection)
            row[pos] = value
        yield row


@contextmanager
def planned_for_its_values(using: str = "default") -> Iterator[None]:
    """Queries run inside are never prepared, so PostgreSQL plans each for its actual values.

    A prepared statement settles on one generic plan after five runs, chosen blind to the
    parameters: fine for fetching rows by id, wrong for a page's id query, whose best plan
    depends on how selective the values are (``effective_from >= <last week>`` wants the
    date index; with the generic plan it walked the whole table in id order, ~120 ms on a
    million prices). Planning that one-table query costs a fraction of a millisecond.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = previous


def compiled_clear() -> None:
    _compiled.clear()
