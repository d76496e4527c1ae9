"""Relaying ``COPY ... TO STDOUT`` output to an HTTP response, at close to the speed of ``psql \\copy``.

Two things make a million-row export cost several times a plain ``\\copy`` (issue 14), and this module
removes both:

- Reading. psycopg's ``Copy.read()`` returns one row per call through a Python generator and its wait
  loop (about 0.6 us a row); :func:`copy_csv_blocks` drains what libpq has buffered with
  ``PGconn.get_copy_data`` in a tight loop and waits on the socket only when the buffer is empty.
- Joining. Columns of a related row (a price's offering: provider, model, source...) were joined and
  formatted by PostgreSQL once per *price*, a third of the server's time for the same few thousand
  offerings. :class:`Splice` takes them as CSV fragments computed once per related row and inserts them
  into each line the server writes for the main table, next to fields that can be found by counting
  commas (numbers, times: never quoted). The bytes are those PostgreSQL would have written
  (``tests/api/test_csv_copy.py`` compares both ways on hostile text).
- Formatting. ``to_char`` for the API's timestamp text cost the server ~0.3 us a value; the timestamps
  that follow the offering in a price line are written raw (the type's own output, as a plain ``\\copy``)
  and rewritten here through a cache of the few distinct instants (:func:`timestamp_cell`).
"""

from __future__ import annotations

import re
import select
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import errors, generators, pq

# Bytes handed to the WSGI server at a time: few enough writes, small enough to keep memory flat.
BLOCK_BYTES = 256 * 1024
_NEEDS_QUOTES = (",", '"', "\n", "\r")


def pg_csv_field(value: str | None) -> bytes:
    """One CSV field as PostgreSQL's COPY (FORMAT csv) writes it: null is nothing, an empty string ``""``,
    text with a comma, quote, CR or LF quoted with quotes doubled, anything else as is."""
    if value is None:
        return b""
    if value == "" or any(ch in value for ch in _NEEDS_QUOTES):
        return ('"' + value.replace('"', '""') + '"').encode()
    return value.encode()


# A timestamptz as PostgreSQL's output function writes it under DateStyle ISO and TimeZone UTC (set by the export
# for its transaction): years of four or more digits, fractional seconds only when not zero and without trailing
# zeros, " BC" for years before 1.
_PG_TIMESTAMPTZ = re.compile(rb"(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00(?: BC)?")
# Distinct timestamps remembered per export; past this the cache starts over (memory stays flat whatever the data).
TIMESTAMP_CACHE_MAX = 20_000


def timestamp_cell(text: bytes) -> bytes:
    """A timestamptz's COPY text (DateStyle ISO, TimeZone UTC) as the cell ``TIMESTAMP_SQL`` (to_char) writes:
    ``2025-03-01 12:34:56.12345+00`` -> ``2025-03-01T12:34:56.123450Z``; infinities are null there, as is null."""
    if text in (b"", b"infinity", b"-infinity"):
        return b""
    match = _PG_TIMESTAMPTZ.fullmatch(text)
    if match is None:  # another DateStyle or time zone: fail rather than write a different text
        raise ValueError(f"unexpected timestamptz text from PostgreSQL: {text!r}")
    date, time_of_day, fraction = match.groups()
    return date + b"T" + time_of_day + b"." + (fraction or b"").ljust(6, b"0") + b"Z"


def _cached_cell(cells: dict[bytes, bytes], text: bytes) -> bytes:
    """``cells[text]``, or ``timestamp_cell(text) + b","`` remembered there: the rows of an export share few
    instants (a snapshot's time is the start, end or confirmation of thousands of prices). A plain dict and this
    on a miss, not a dict subclass with ``__missing__``: the interpreter's fast path for ``d[k]`` takes exact dicts
    only."""
    cell = cells.get(text)
    if cell is None:
        cell = cells[text] = timestamp_cell(text) + b","
    return cell


@dataclass(frozen=True)
class Splice:
    """Where a related row's cells go in each line COPY writes.

    The server's line is the related row's id, then the main table's fields. ``points`` are the
    insertion places in line order, each ``("L", n)`` (after the main table's n-th field, counted from
    the left over fields that are never quoted) or ``("R", m)`` (before its last m fields, likewise);
    ``fragments[id]`` holds, per point, the bytes to insert: ``,cell,cell``.
    """

    points: tuple[tuple[str, int], ...]
    fragments: dict[bytes, tuple[bytes, ...]]
    # Prices and price changes: no leading id, the line's second field (offering) is the key.
    key_is_second_field: bool = False
    # With key_is_second_field: how many fields after the key are timestamps written raw by the server (its
    # output function, ~4x cheaper than to_char) and formatted here through a cache (0-2).
    leading_timestamps: int = 0


def splice_line(data: bytes, splice: Splice) -> bytes:
    """One server line without its leading id, with the related row's cells inserted (see :class:`Splice`)."""
    cut = data.index(44)
    frags = splice.fragments[data[:cut]]
    pieces = []
    last = cut + 1
    for (side, count), frag in zip(splice.points, frags, strict=True):
        if side == "L":
            pos = cut
            for _ in range(count):
                pos = data.index(44, pos + 1)
            if count == 0:  # before the first field: the cells, then their separator
                pieces.append(frag[1:] + b",")
                continue
        else:
            pos = len(data) - 1  # the newline
            for _ in range(count):
                pos = data.rindex(44, cut, pos)
        pieces.append(data[last:pos])
        pieces.append(frag)
        last = pos
    pieces.append(data[last:])
    return b"".join(pieces)


def copy_csv_blocks(cursor, sql: str, params: Sequence, splice: Splice | None = None,
                    block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """``COPY (...) TO STDOUT`` on a Django cursor as blocks of about ``block_bytes``, lines spliced if asked.

    One loop does it all (read, splice, batch): this runs once per exported row, and each generator or call
    layer between libpq and the socket cost more than the splice itself. Lines are read straight from
    libpq's buffer; the socket is waited on only when that is empty.
    """
    raw = cursor.cursor  # psycopg's cursor under Django's wrapper
    connection = raw.connection
    batch: list[bytes] = []
    add = batch.append
    extend = batch.extend
    join = b"".join
    size = 0
    # The shape of the offering-context lists (prices, price changes): cells after the first two fields
    # (id, offering) and cells before the last one (snapshot), unrolled.
    two_and_one = splice is not None and splice.points == (("L", 2), ("R", 1))
    key_second = two_and_one and splice.key_is_second_field  # type: ignore[union-attr]
    fragments = splice.fragments if splice is not None else {}
    leading = splice.leading_timestamps if key_second else 0  # type: ignore[union-attr]
    if key_second:
        # Per offering: ",<id>,<its cells>," (what follows the line's first field, up to the first own field
        # after the key) and ",<its last cells>" (before the last field). A line is then cut with one split from
        # the left and one rpartition from the right, two C calls: searching with index()/rindex() and slicing
        # took twice the Python per row (bench/README.md, issue 14, third pass).
        # The comma before the last field goes with the second fragment (",<cells>,"): one piece less a row.
        # Equal fragments are one object (a source's cells: three objects, not one per offering): less memory
        # touched per row, where the other sessions on the machine keep evicting it (bench/README.md, fourth pass).
        shared: dict[bytes, bytes] = {}
        fragments = {key: (b"," + key + first + b",", shared.setdefault(second + b",", second + b","))
                     for key, (first, second) in fragments.items()}
    cells: dict[bytes, bytes] = {}
    with raw.copy(sql, params) as copy:
        pgconn = connection.pgconn
        fileno = pgconn.socket
        get = pgconn.get_copy_data
        while True:
            nbytes, view = get(1)
            if nbytes > 0:
                data = bytes(view)
                if key_second:
                    # Fields before the key's cells and the timestamps are numbers: never quoted, no comma inside.
                    if leading == 2:
                        ident, key, start, end, rest = data.split(b",", 4)
                        first, second = fragments[key]
                        middle, _, last = rest.rpartition(b",")
                        try:
                            extend((ident, first, cells[start], cells[end], middle, second, last))
                        except KeyError:  # a new instant (nothing was added: the tuple failed first)
                            extend((ident, first, _cached_cell(cells, start), _cached_cell(cells, end), middle,
                                    second, last))
                    elif leading == 1:
                        ident, key, start, rest = data.split(b",", 3)
                        first, second = fragments[key]
                        middle, _, last = rest.rpartition(b",")
                        try:
                            extend((ident, first, cells[start], middle, second, last))
                        except KeyError:
                            extend((ident, first, _cached_cell(cells, start), middle, second, last))
                    else:
                        ident, key, rest = data.split(b",", 2)
                        first, second = fragments[key]
                        middle, _, last = rest.rpartition(b",")
                        extend((ident, first, middle, second, last))
                elif two_and_one:
                    cut = data.index(44)
                    first, second = fragments[data[:cut]]
                    pos = data.index(44, data.index(44, cut + 1) + 1)
                    end = data.rindex(44, pos, nbytes - 1)
                    extend((data[cut + 1:pos], first, data[pos:end], second, data[end:]))
                elif splice is not None:
                    add(splice_line(data, splice))
                else:
                    add(data)
                size += nbytes
                if size >= block_bytes:
                    yield join(batch)
                    batch.clear()
                    size = 0
                    if len(cells) > TIMESTAMP_CACHE_MAX:
                        cells.clear()
            elif nbytes == 0:  # nothing buffered: wait for the server
                select.select([fileno], [], [])
                pgconn.consume_input()
            else:  # -1: the copy is over; take its result as psycopg's own reader would
                results = connection.wait(generators.fetch_many(pgconn))
                copy._finished = True  # what Copy.read() sets at this point (psycopg 3.3)
                for result in results:
                    if result.status != pq.ExecStatus.COMMAND_OK:
                        raise errors.error_from_result(result, encoding=pgconn._encoding)
                break
    if batch:
        yield join(batch)


# --- the export's statements -----------------------------------------------------------------
#
# The cells are those of columns.postgres_copy_query (the all-SQL form, kept as the reference the tests and
# bench/csv_export.py compare with), written more cheaply where the text stays the same: the formula guard
# tests ascii() of the first character (an integer) instead of comparing left(x, 1) with six strings, and a
# field's own SQL is guarded the same way instead of through regexp_replace.

FORMULA_CODES = "61, 43, 45, 64, 9, 13"  # = + - @ TAB CR, as csv.FORMULA_TRIGGERS
GUARD_SQL = f"NULLIF(CASE WHEN ascii({{x}}) IN ({FORMULA_CODES}) THEN '''' || {{x}} ELSE {{x}} END, '')"
# Kinds whose cells are never quoted and hold no comma, so fields can be counted by commas across them.
UNQUOTED_KINDS = frozenset({"int", "decimal", "datetime", "date", "bool"})
# Kinds COPY writes with the same text without a cast to text (its own call of the type's output function):
# one conversion and copy less per cell.
CHEAPER_SQL = {"int": "{x}", "decimal": "trim_scale({x})"}
# Related rows are fetched whole (and held as fragments) only for tables up to this size (estimate).
SPLICE_MAX_RELATED_ROWS = 50_000


def cell_expression(bound: Any, column: Any, path: str, *, in_copy: bool = False) -> Any | None:
    """The column's CSV cell as an SQL expression on ``path``; None when it has no SQL form. ``in_copy``: the
    value is written by COPY itself, which may then skip the cast to text (read back by Python, it may not)."""
    from django.db.models import TextField, Value
    from django.db.models.functions import Cast, Concat

    from .columns import POSTGRES_SQL, _sql_expression

    custom = getattr(column.drf_field, "postgres_sql", None)
    if column.kind == "url":
        prefix, suffix = bound._url_prefix_suffix(column)
        return Concat(Value(prefix), Cast(path, TextField()), Value(suffix), output_field=TextField())
    if custom:
        guarded = GUARD_SQL.replace("{x}", f"({custom})")
        common = getattr(column.drf_field, "postgres_common", None)
        if common is not None:
            # The guard names its text twice per row (the test, then the branch taken): a field whose cell is
            # nearly always one constant the guard leaves as it is (unit_prices: '[]') tests for it first.
            condition, constant = common
            guarded = f"CASE WHEN {condition} THEN {constant} ELSE {guarded} END"
        return _sql_expression(guarded, path)
    if column.kind in ("text", "optional_text", "json"):
        return _sql_expression(GUARD_SQL.replace("{x}", "({x})::text"), path)
    if in_copy and column.kind in CHEAPER_SQL:
        return _sql_expression(CHEAPER_SQL[column.kind], path)
    if column.kind in POSTGRES_SQL:
        return _sql_expression(POSTGRES_SQL[column.kind], path)
    return None


@dataclass
class CopyExport:
    """One list's CSV from PostgreSQL: the header, the COPY statement and, if any, the related rows to splice."""

    header: list[str]
    sql: str  # "" when no row can match
    params: tuple
    related: Any = None  # values_list queryset: (id, cell, cell, ...) of the related rows
    runs: tuple[tuple[int, ...], ...] = ()  # per insertion point, the positions of its cells in ``related``
    points: tuple[tuple[str, int], ...] = ()
    key_is_second_field: bool = False
    leading_timestamps: int = 0  # see Splice

    def blocks(self) -> Iterator[bytes | str]:
        import csv as csv_module
        import io

        from django.db import connection, transaction

        header = io.StringIO()
        csv_module.writer(header, lineterminator="\n").writerow(self.header)
        yield header.getvalue()
        if not self.sql:
            return
        fresh = not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if self.related is not None:
                if fresh:
                    # The related rows and the COPY see one snapshot: no price without its offering.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                fragments = {}
                for pk, *cells in self.related.iterator(chunk_size=5000):
                    fields = [pg_csv_field(cell) for cell in cells]
                    fragments[str(pk).encode()] = tuple(b"".join(b"," + fields[i] for i in run)
                                                        for run in self.runs)
                splice = Splice(points=self.points, fragments=fragments, key_is_second_field=self.key_is_second_field,
                                leading_timestamps=self.leading_timestamps)
            else:
                splice = None
            # The formatted cells lift the whole-table statement's cost estimate past jit_above_cost, and
            # PostgreSQL then compiles it with inlining and optimisation: 0.6-2 s of the backend's CPU per
            # export, more than the compiled expressions save over 1,000,000 rows (bench/README.md, issue 14).
            cursor.execute("SET LOCAL jit = off")
            if self.leading_timestamps:
                # The raw timestamps' text, which timestamp_cell reads: ISO output (the input order is kept), UTC.
                cursor.execute("SELECT set_config('DateStyle', 'ISO', true), set_config('TimeZone', 'UTC', true)")
            yield from copy_csv_blocks(cursor, self.sql, self.params, splice)


def _related_group(bound: Any, model: Any) -> tuple[Any, str] | None:
    """The required forward foreign key most columns reach through (``offering`` for a price), if any."""
    counts: dict[str, int] = {}
    for column in bound.flat:
        if "__" in column.path:
            first = column.path.split("__", 1)[0]
            counts[first] = counts.get(first, 0) + 1
    for name, count in sorted(counts.items(), key=lambda item: -item[1]):
        if count < 2:
            return None
        from django.core.exceptions import FieldDoesNotExist

        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # an annotation: not a column of this table
            continue
        if getattr(field, "many_to_one", False) and not field.null:
            return field, name
    return None


def _table_rows_estimate(model: Any) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return float(row[0]) if row else float("inf")


def export_query(bound: Any, queryset: Any) -> CopyExport | None:
    """The CSV export of a filtered, ordered queryset as COPY; None when a column has no SQL form."""
    from django.core.exceptions import EmptyResultSet

    if bound.nested:
        return None
    header = bound.plan.names
    group = _related_group(bound, queryset.model)
    if group is not None and _table_rows_estimate(group[0].related_model) > SPLICE_MAX_RELATED_ROWS:
        group = None
    placement = _placement(bound, group[1]) if group else None
    if placement is None:
        group = None
    annotations = {}
    own = [c for c in bound.flat if group is None or not c.path.startswith(group[1] + "__")]
    # The fast shape (see copy_csv_blocks) reads the related id from the line when it is its second field.
    key_is_second_field = (placement is not None and placement[1] == (("L", 2), ("R", 1))
                           and own[1].path == group[0].attname)  # type: ignore[index]
    from django.db.models import F

    if group is not None and not key_is_second_field:
        annotations["_csv_key"] = F(group[0].attname)
    raw_timestamps = _leading_timestamps(queryset.model, own) if key_is_second_field else ()
    related_cells = {}
    for i, column in enumerate(bound.flat):
        if group is not None and column.path.startswith(group[1] + "__"):
            expression = cell_expression(bound, column, column.path[len(group[1]) + 2:])
            related_cells[f"_cell_{i}"] = expression
        elif column in raw_timestamps:
            expression = annotations[f"_csv_{i}"] = F(column.path)  # formatted by copy_csv_blocks
        else:
            expression = cell_expression(bound, column, column.path, in_copy=True)
            annotations[f"_csv_{i}"] = expression
        if expression is None:
            return None
    rows = queryset.annotate(**annotations).values_list(*annotations)
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (e.g. a year beyond the column's range)
        return CopyExport(header, "", ())
    copy_sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    if group is None:
        return CopyExport(header, copy_sql, tuple(params))
    runs, points = placement
    related = (group[0].related_model._base_manager.annotate(**related_cells)
               .values_list("pk", *related_cells))
    return CopyExport(header, copy_sql, tuple(params), related=related, runs=runs, points=points,
                      key_is_second_field=key_is_second_field, leading_timestamps=len(raw_timestamps))


def _leading_timestamps(model: Any, own: list) -> tuple:
    """The own columns right after the key (at most two) that are timestamptz fields of the model, which the
    server then writes raw: to_char cost it ~0.3 us a value, half the price line's formatting."""
    from django.core.exceptions import FieldDoesNotExist
    from django.db.models import DateTimeField

    found = []
    # At least one own field must stay between them and the last field: copy_csv_blocks cuts the line there.
    for column in own[2:min(4, len(own) - 2)]:
        try:
            field = model._meta.get_field(column.path)
        except FieldDoesNotExist:  # a relation's path or an annotation
            break
        if column.kind != "datetime" or not isinstance(field, DateTimeField):
            break
        found.append(column)
    return tuple(found)


def _placement(bound: Any, prefix: str) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[str, int], ...]] | None:
    """Runs of related columns and where each goes among the main table's fields; None if a run cannot be
    placed by counting unquoted fields from either end."""
    related = [column.path.startswith(prefix + "__") for column in bound.flat]
    own_kinds = [column.kind for column, is_related in zip(bound.flat, related, strict=True) if not is_related]
    if not own_kinds:
        return None
    runs: list[tuple[int, ...]] = []
    points: list[tuple[str, int]] = []
    own_before = 0
    cell = 0
    i = 0
    while i < len(related):
        if not related[i]:
            own_before += 1
            i += 1
            continue
        run = []
        while i < len(related) and related[i]:
            run.append(cell)
            cell += 1
            i += 1
        if all(kind in UNQUOTED_KINDS for kind in own_kinds[:own_before]):
            points.append(("L", own_before))
        elif all(kind in UNQUOTED_KINDS for kind in own_kinds[own_before:]):
            points.append(("R", len(own_kinds) - own_before))
        else:
            return None
        runs.append(tuple(run))
    return tuple(runs), tuple(points)
