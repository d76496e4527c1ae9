"""COPY from columns of values already in PostgreSQL's text form: for writers that hold their rows as columns
(a parser's :class:`~scrapers.csvtools.RecordBatch`).

psycopg's ``Copy.write_row`` formats a row value by value (a dumper per value: ~5 us a row of 32 values, a
fifth of the first-file import once parsing went column-wise). Here each column is turned into text with
one comprehension, the text format's escapes are applied only to a column that needs them (a backslash,
tab, line feed or carriage return in it), and a row is one ``"\\t".join``. The text format is PostgreSQL's
own (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format"): what psycopg writes, for the
types used here (text, integers, booleans, numerics as ``str(Decimal)``, ISO timestamps, uuid as hex).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models

from apps.common import dataversion
from apps.common.bulk import json_text
from scrapers.csvtools import count_none

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def texts(values: Sequence[str]) -> list[str]:
    """A text column, escaped for COPY where needed."""
    joined = "".join(values)
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return [value.translate(_ESCAPES) for value in values]
    return list(values)


def numbers(values: Sequence[int | Decimal | None]) -> list[str]:
    """Integers or (finite) Decimals; None is NULL."""
    nones = count_none(values)
    if nones == len(values):
        return [NULL] * nones
    if not nones:
        return list(map(str, values))
    return [NULL if value is None else str(value) for value in values]


def flags(values: Iterable[bool]) -> list[str]:
    return ["t" if value else "f" for value in values]


class _TimeTexts(dict[datetime | None, str]):
    """Each distinct instant formatted once (a column holds a few hundred dates, not 100,000)."""

    def __missing__(self, value: datetime) -> str:
        text = self[value] = value.isoformat()
        return text


def times(values: Iterable[datetime | None]) -> list[str]:
    """Aware datetimes, as ISO 8601 with their offset; None is NULL."""
    return list(map(_TimeTexts({None: NULL}).__getitem__, values))


def json_objects(values: Iterable[Any]) -> list[str]:
    """JSON text of each value (``{}`` for an empty one, as ``bulk_insert`` writes it), escaped for COPY."""
    return texts([json_text(value or {}) for value in values])


class StreamingCopy:
    """PostgreSQL: one ``COPY ... FROM STDIN`` into the model's table fed text columns (in ``names`` order,
    attnames) batch after batch, so the server stores rows while the caller makes the next batch. The COPY
    occupies the connection: :meth:`pause` ends it before the caller queries; the next write starts another.
    Nothing is checked here: a conflict raises IntegrityError (the caller's savepoint decides)."""

    def __init__(self, model: type[models.Model], names: list[str]) -> None:
        from psycopg import sql

        fields = [model._meta.get_field(name) for name in names]
        self.statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model._meta.db_table), sql.SQL(", ").join(sql.Identifier(f.column) for f in fields))
        self.rows = 0
        self._open: ExitStack | None = None
        self._copy: Any = None

    def write(self, columns: Sequence[Sequence[str]]) -> None:
        if not columns or not columns[0]:
            return
        if self._open is None:
            # COPY does not pass Django's execute wrappers; this queries, so it goes before the COPY starts.
            dataversion.changed(connection.alias)
            self._open = ExitStack()
            cursor = self._open.enter_context(connection.cursor())
            self._copy = self._open.enter_context(cursor.cursor.copy(self.statement))
        # Encoded as the connection's client encoding; libpq sends it as its buffer fills.
        self._copy.write("\n".join(map("\t".join, zip(*columns, strict=True))) + "\n")
        self.rows += len(columns[0])

    def pause(self) -> None:
        """End the COPY in progress (the server has then stored every row written)."""
        if self._open is not None:
            done, self._open, self._copy = self._open, None, None
            done.close()

    def __enter__(self) -> StreamingCopy:
        return self

    def __exit__(self, *exc: Any) -> bool:
        if self._open is None:
            return False
        done, self._open, self._copy = self._open, None, None
        return bool(done.__exit__(*exc))
