"""Column plans: a serializer's fields read straight from ``values_list`` rows.

A list endpoint's serializer is the single definition of its columns (names
with units, descriptions, types). For lists, and above all for CSV exports of
a million rows, building model instances and running DRF fields per row is
far too slow, so a plan maps each serializer field to its ORM path and to a
fast converter that gives exactly what the DRF field would give
(``tests/api/test_columns.py`` holds the two to the same output).

Supported fields: plain fields with a dotted ``source`` (``offering.provider.slug``),
``AbsoluteUrlField`` and nested ``many=True`` serializers over a reverse
foreign key (fetched in one query per page or per block of CSV rows).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from typing import Any

import orjson
from django.db import models
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.timestamps import TIMESTAMP_SQL, timestamp_text

from .csv import escape_formula, iter_csv_blocks, text_cell

NESTED_BLOCK_ROWS = 2000


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteUrlField(serializers.Field):
    """An absolute link built from the row's id (``/api/v1/snapshots/7/raw/``)."""

    def __init__(self, view_name: str, **kwargs: Any) -> None:
        self.view_name = view_name
        kwargs["read_only"] = True
        kwargs.setdefault("source", "pk")
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        url = reverse(self.view_name, args=[value])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


def decimal_text(value: Decimal) -> str:
    """A stored decimal without trailing zeros and never in exponent form: 2.5000000000 -> "2.5", 1E+1 -> "10".

    Equal to DRF's ``DecimalField(normalize_output=True)`` for values that already
    fit the field's decimal places (every stored value does).
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _identity(value: Any) -> Any:
    return value


def _none_if_blank(value: str) -> str | None:
    # The null convention: absent text is JSON null (and an empty CSV cell), never "" (see OptionalTextField).
    return value or None


def _json_from_text(text: str) -> Any:
    # orjson: a page of market prices carries 100 evidence lists; json.loads was a third of its CPU.
    return [] if text == "[]" else orjson.loads(text)


def _json_text(value: Any) -> str:
    # The spacing PostgreSQL gives jsonb as text, so both CSV paths write the same cells.
    return escape_formula(json.dumps(value, ensure_ascii=False, default=str))


@dataclass
class Column:
    name: str
    path: str | None  # ORM path for values_list; None for nested lists
    kind: str  # decimal, datetime, date, int, float, bool, text, optional_text, json, url, nested, other
    drf_field: serializers.Field
    nested: NestedPlan | None = None


@dataclass
class NestedPlan:
    """A ``many=True`` serializer over a reverse foreign key: child rows grouped by parent id."""

    child_model: type[models.Model]
    parent_fk: str  # the child's foreign key to the parent, e.g. "model"
    plan: ColumnPlan

    def fetch(self, parent_ids: Sequence[Any], bound: BoundPlan) -> dict[Any, list[dict[str, Any]]]:
        grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        if not parent_ids:
            return grouped
        rows = (self.child_model._default_manager.filter(**{f"{self.parent_fk}__in": list(parent_ids)})
                .values_list(f"{self.parent_fk}_id", *self.plan.paths))
        for parent_id, *values in rows:
            grouped[parent_id].append(bound.json_row(values))
        return grouped


@dataclass
class ColumnPlan:
    columns: list[Column]
    model: type[models.Model] | None = None
    paths: list[str] = field(default_factory=list)  # flat columns, then "pk" if nested lists need it
    # JSON converters per database vendor, for plans whose converters do not depend on the request (no URLs).
    shared_json_converters: dict[str, list[Callable[[Any], Any]]] = field(default_factory=dict, repr=False,
                                                                          compare=False)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def bind(self, request: Any = None) -> BoundPlan:
        return BoundPlan(self, request)


class BoundPlan:
    """A plan with converters ready for one request (absolute URLs need the request's host)."""

    def __init__(self, plan: ColumnPlan, request: Any) -> None:
        self.plan = plan
        self.request = request
        self.flat = [c for c in plan.columns if c.path is not None]
        self.nested = [c for c in plan.columns if c.nested is not None]
        self.nested_bound = {c.name: c.nested.plan.bind(request) for c in self.nested}  # type: ignore[union-attr]

    # A request writes JSON or CSV, never both: each set of converters is built when first used.
    @cached_property
    def json_converters(self) -> list[Callable[[Any], Any]]:
        return [self._json_converter(c) for c in self.flat]

    @cached_property
    def csv_converters(self) -> list[Callable[[Any], str]]:
        return [self._csv_converter(c) for c in self.flat]

    def _url_prefix_suffix(self, column: Column) -> tuple[str, str]:
        marker = "987654321987654321"
        url = reverse(column.drf_field.view_name, args=[marker])  # type: ignore[attr-defined]
        if self.request is not None:
            url = self.request.build_absolute_uri(url)
        prefix, _, suffix = url.partition(marker)
        return prefix, suffix

    def _json_converter(self, column: Column) -> Callable[[Any], Any]:
        kind = column.kind
        if kind == "decimal":
            return decimal_text
        if kind == "datetime":
            return timestamp_text
        if kind == "date":
            return date.isoformat
        if kind in ("int", "text", "json", "bool", "float"):
            return _identity
        if kind == "optional_text":
            return _none_if_blank
        if kind == "url":
            prefix, suffix = self._url_prefix_suffix(column)
            return lambda pk: f"{prefix}{pk}{suffix}"
        return column.drf_field.to_representation

    def _csv_converter(self, column: Column) -> Callable[[Any], str]:
        kind = column.kind
        if kind == "decimal":
            return decimal_text
        if kind == "datetime":
            return timestamp_text
        if kind == "date":
            return date.isoformat
        if kind in ("int", "float"):
            return str
        if kind == "bool":
            return lambda v: "true" if v else "false"
        if kind == "json":
            return _json_text
        if kind == "url":
            prefix, suffix = self._url_prefix_suffix(column)
            return lambda pk: f"{prefix}{pk}{suffix}"
        if kind in ("text", "optional_text"):
            return lambda v: escape_formula(str(v))
        convert = column.drf_field.to_representation
        return lambda v: text_cell(convert(v))

    # --- JSON -----------------------------------------------------------------------

    def json_select(self, queryset, vendor: str, *, columns: Sequence[int] | None = None, strip: str = "",
                    extra: Sequence[Any] = ()):
        """``queryset`` selecting the JSON columns (see ``json_converters_for``) and last the row's id,
        as a values_list queryset.

        On PostgreSQL the server writes decimals and times as the text the converters
        would give (as for CSV), so a page skips parsing and re-formatting them in Python.

        ``columns`` (positions in ``flat``) selects only those, each path read without the prefix
        ``strip`` (from the related table itself), and ``extra`` (paths or expressions) goes between
        them and the id: the split reads of :mod:`apps.api_common.context`.
        """
        chosen = range(len(self.flat)) if columns is None else columns
        names: list[str] = []
        annotations: dict[str, Any] = {}
        for i in chosen:
            column = self.flat[i]
            path = column.path.removeprefix(strip)  # type: ignore[union-attr]
            sql = _postgres_json_sql(column) if vendor == "postgresql" else None
            if sql is None:
                names.append(path)
            else:
                names.append(f"_json_{i}")
                annotations[f"_json_{i}"] = _sql_expression(sql, path)
        for j, item in enumerate(extra):
            if isinstance(item, str):
                names.append(item)
            else:
                names.append(f"_extra_{j}")
                annotations[f"_extra_{j}"] = item
        names.append("pk")
        return queryset.annotate(**annotations).values_list(*names)

    def json_converters_for(self, vendor: str) -> list[Callable[[Any], Any]]:
        # Built once per plan and vendor unless a column's converter needs the request (a URL's host):
        # ~0.1 ms a page otherwise. The list is never modified by its users.
        shared = self.plan.shared_json_converters
        if vendor in shared:
            return shared[vendor]
        converters = self._json_converters_for(vendor)
        if not any(c.kind == "url" for c in self.flat):
            shared[vendor] = converters
        return converters

    def _json_converters_for(self, vendor: str) -> list[Callable[[Any], Any]]:
        if vendor != "postgresql":
            return self.json_converters
        converters = list(self.json_converters)
        for i, column in enumerate(self.flat):
            if column.kind in POSTGRES_TEXT_KINDS:
                converters[i] = _identity
            elif _postgres_json_sql(column) is not None:
                converters[i] = _json_from_text  # the field's final JSON, as text
        return converters

    def converting(self, converters: Sequence[Callable[[Any], Any]], columns: Iterable[int]
                   ) -> list[tuple[int, str, Callable[[Any], Any]]]:
        """(position in ``columns``, name, converter) of those of ``columns`` (indexes into ``flat``) whose value
        changes on the way out: only they cost a call per cell."""
        return [(at, self.flat[i].name, converters[i]) for at, i in enumerate(columns)
                if converters[i] is not _identity]

    def json_row(self, values: Sequence[Any], converters: Sequence[Callable[[Any], Any]] | None = None
                 ) -> dict[str, Any]:
        return self.json_rows([values], converters)[0]

    def json_rows(self, rows: Sequence[Sequence[Any]], converters: Sequence[Callable[[Any], Any]] | None = None
                  ) -> list[dict[str, Any]]:
        """Rows of ``json_select`` (or of ``plan.paths``) as the serializer would write them."""
        converters = self.json_converters if converters is None else converters
        names = [c.name for c in self.flat]
        work = self.converting(converters, range(len(self.flat)))
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=False))
            for i, name, conv in work:
                value = row[i]
                if value is not None:
                    item[name] = conv(value)
            out.append(item)
        if not self.nested:
            return out
        self._attach_nested(rows, out)
        return [self._in_field_order(row) for row in out]

    def _attach_nested(self, rows: Sequence[Sequence[Any]], out: list[dict[str, Any]]) -> None:
        pk_index = len(self.flat)
        ids = [row[pk_index] for row in rows]
        for column in self.nested:
            children = column.nested.fetch(ids, self.nested_bound[column.name])  # type: ignore[union-attr]
            for parent_id, row in zip(ids, out, strict=True):
                row[column.name] = children.get(parent_id, [])

    def _in_field_order(self, row: dict[str, Any]) -> dict[str, Any]:
        return {name: row[name] for name in self.plan.names}

    # --- CSV ------------------------------------------------------------------------

    def csv_cells(self, rows: Iterable[Sequence[Any]]) -> Iterator[list[str]]:
        converters = list(enumerate(self.csv_converters))
        if not self.nested:
            for row in rows:
                yield [("" if row[i] is None else conv(row[i])) for i, conv in converters]
            return
        block: list[Sequence[Any]] = []
        for row in rows:
            block.append(row)
            if len(block) >= NESTED_BLOCK_ROWS:
                yield from self._csv_block_with_nested(block, converters)
                block = []
        if block:
            yield from self._csv_block_with_nested(block, converters)

    def _csv_block_with_nested(self, block: list[Sequence[Any]], converters) -> Iterator[list[str]]:
        pk_index = len(self.flat)
        ids = [row[pk_index] for row in block]
        fetched = {c.name: c.nested.fetch(ids, self.nested_bound[c.name]) for c in self.nested}  # type: ignore
        for row in block:
            cells = {c.name: ("" if row[i] is None else conv(row[i]))
                     for (i, conv), c in zip(converters, self.flat, strict=True)}
            for column in self.nested:
                cells[column.name] = _json_text(fetched[column.name].get(row[pk_index], []))
            yield [cells[name] for name in self.plan.names]

    def csv_blocks(self, rows: Iterable[Sequence[Any]]) -> Iterator[str]:
        header = self.plan.names
        return iter_csv_blocks(header, self.csv_cells(rows), [None] * len(header))


# --- deriving a plan from a serializer -------------------------------------------------

def _kind(drf_field: serializers.Field) -> str:
    if isinstance(drf_field, AbsoluteUrlField):
        return "url"
    declared = getattr(drf_field, "column_kind", None)
    if declared:
        return declared  # e.g. "other": a field with its own representation, called per cell
    if isinstance(drf_field, serializers.DecimalField):
        if not (drf_field.coerce_to_string and drf_field.normalize_output):
            raise TypeError(f"{drf_field.field_name}: money is a normalised string (use api_common MoneyField)")
        return "decimal"
    if isinstance(drf_field, serializers.DateTimeField):
        return "datetime"
    if isinstance(drf_field, serializers.DateField):
        return "date"
    if isinstance(drf_field, serializers.BooleanField):
        return "bool"
    if isinstance(drf_field, serializers.IntegerField):
        return "int"
    if isinstance(drf_field, serializers.FloatField):
        return "float"
    if isinstance(drf_field, serializers.JSONField | serializers.ListField | serializers.DictField):
        return "json"
    if isinstance(drf_field, serializers.ChoiceField):
        return "text"
    if type(drf_field) in (serializers.CharField, serializers.SlugField, serializers.URLField,
                           serializers.EmailField, serializers.RegexField):
        return "text"
    return "other"


def _nested_plan(parent_model: type[models.Model], drf_field: serializers.ListSerializer) -> NestedPlan:
    relation = parent_model._meta.get_field(drf_field.source)
    if not relation.one_to_many:
        raise TypeError(f"{drf_field.field_name}: nested lists must follow a reverse foreign key")
    child = drf_field.child
    return NestedPlan(child_model=relation.related_model, parent_fk=relation.field.name,
                      plan=plan_for(type(child)))


@cache
def plan_for(serializer_class: type[serializers.Serializer]) -> ColumnPlan:
    """The column plan of a serializer class (cached: fields are declared once per class)."""
    serializer = serializer_class()
    model = getattr(getattr(serializer_class, "Meta", None), "model", None)
    columns: list[Column] = []
    for name, drf_field in serializer.fields.items():
        if drf_field.write_only:
            continue
        if isinstance(drf_field, serializers.ListSerializer):
            if model is None:
                raise TypeError(f"{serializer_class.__name__}.{name}: nested lists need Meta.model")
            columns.append(Column(name, None, "nested", drf_field, nested=_nested_plan(model, drf_field)))
            continue
        if drf_field.source == "*":
            raise TypeError(f"{serializer_class.__name__}.{name}: source='*' cannot be read from a column")
        path = "__".join(drf_field.source_attrs)
        columns.append(Column(name, path, _kind(drf_field), drf_field))
    paths = [c.path for c in columns if c.path is not None]
    if any(c.nested for c in columns):
        paths.append("pk")
    return ColumnPlan(columns=columns, model=model, paths=paths)  # type: ignore[arg-type]


# --- CSV straight from PostgreSQL ---------------------------------------------------------
#
# On PostgreSQL a CSV export is one ``COPY (SELECT ...) TO STDOUT``: the server
# formats every cell exactly as the converters above would (trim_scale for
# decimals, ISO 8601 "Z" times, the formula guard on text) and Python only
# passes bytes through. That is what makes a million rows a few seconds.

FORMULA_GUARD_SQL = ("NULLIF(CASE WHEN left({x}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
                     "THEN '''' || {x} ELSE {x} END, '')")
# The same guard, evaluating its argument once (for costly expressions).
REGEXP_GUARD_SQL = r"NULLIF(regexp_replace({x}, '^([-=+@\t\r])', '''\1'), '')"
POSTGRES_SQL = {
    "decimal": "trim_scale({x})::text",
    "datetime": TIMESTAMP_SQL,
    "date": "to_char({x}, 'YYYY-MM-DD')",
    "int": "({x})::text",
    "bool": "CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END",
    "text": FORMULA_GUARD_SQL.replace("{x}", "({x})::text"),
    "optional_text": FORMULA_GUARD_SQL.replace("{x}", "({x})::text"),  # "" is an empty cell, as null is
    "json": FORMULA_GUARD_SQL.replace("{x}", "({x})::text"),
}


# Kinds the server can write as their exact JSON value (decimal strings, ISO 8601 times, and optional
# text as null when blank: a page used to call a Python "" -> None converter on 400 cells).
POSTGRES_JSON_SQL = {
    "decimal": POSTGRES_SQL["decimal"],
    "datetime": POSTGRES_SQL["datetime"],
    "date": POSTGRES_SQL["date"],
    "optional_text": "NULLIF(({x})::text, '')",
}
POSTGRES_TEXT_KINDS = frozenset(POSTGRES_JSON_SQL)


def _postgres_json_sql(column: Column) -> str | None:
    """SQL giving the column's JSON value as text, when the server can write it."""
    if column.kind in POSTGRES_JSON_SQL:
        return POSTGRES_JSON_SQL[column.kind]
    if getattr(column.drf_field, "postgres_json", False):
        return column.drf_field.postgres_sql  # type: ignore[attr-defined]
    return None


def _sql_expression(template: str, path: str):
    from django.db.models import F, Func, TextField

    # Func templates are %-formatted: the column goes where {x} was, literal % are not used.
    return Func(F(path), template=template.replace("{x}", "%(expressions)s"), output_field=TextField())


def postgres_copy_query(bound: BoundPlan, queryset) -> tuple[str, tuple] | None:
    """``COPY (SELECT formatted columns ...) TO STDOUT`` for a filtered, ordered queryset; None when a
    column has no SQL form (nested lists, custom fields without ``postgres_sql``)."""
    from django.core.exceptions import EmptyResultSet
    from django.db.models import TextField, Value
    from django.db.models.functions import Cast, Concat

    if bound.nested:
        return None
    annotations = {}
    for i, column in enumerate(bound.flat):
        name = f"_csv_{i}"
        custom = getattr(column.drf_field, "postgres_sql", None)
        if column.kind == "url":
            prefix, suffix = bound._url_prefix_suffix(column)
            annotations[name] = Concat(Value(prefix), Cast(column.path, TextField()), Value(suffix),
                                       output_field=TextField())
        elif custom:
            annotations[name] = _sql_expression(REGEXP_GUARD_SQL.replace("{x}", f"({custom})"), column.path)
        elif column.kind in POSTGRES_SQL:
            annotations[name] = _sql_expression(POSTGRES_SQL[column.kind], column.path)
        else:
            return None
    rows = queryset.annotate(**annotations).values_list(*annotations)
    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (e.g. a year beyond the column's range)
        return "", ()
    return f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", tuple(params)


def postgres_csv_blocks(bound: BoundPlan, copy_query: tuple[str, tuple]) -> Iterator[str | bytes]:
    """The header row, then the server's CSV in blocks of about 64 KB, read as it streams."""
    import csv as csv_module
    import io

    from django.db import connection

    header = io.StringIO()
    csv_module.writer(header, lineterminator="\n").writerow(bound.plan.names)
    yield header.getvalue()
    sql, params = copy_query
    if not sql:
        return
    block = bytearray()
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        for data in copy:
            block += data
            if len(block) >= 65536:
                yield bytes(block)
                block.clear()
    if block:
        yield bytes(block)
