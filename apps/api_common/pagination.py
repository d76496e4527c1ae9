"""Ordering and keyset (cursor) pagination that stay stable while rows are inserted.

Every ordering ends with the row id, so the sort key is unique. The cursor
holds the sort key of the last row shown; the next page is "rows after that
key", whatever was inserted or deleted in between. No OFFSET, no COUNT: a
page costs the same at row 10 and at row 10,000,000.

NULLs sort as the largest value in both directions (ascending: last;
descending: first), on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .filters import WHOLE_NUMBER
from .rows import planned_for_its_values

ORDERING_PARAM = "ordering"
INVALID_CURSOR = "Invalid cursor: use the next/previous link of a response as it is."


@dataclass(frozen=True)
class SortKey:
    name: str  # as the API names it (ordering=-effective_from)
    path: str  # ORM path
    descending: bool
    nullable: bool
    field: Any = field(default=None, compare=False)  # the model field at the end of the path, if known

    def checked(self, value: Any) -> Any:
        """A cursor's value for this key as the field reads it; a cursor naming, say, "abc" as an id is refused
        here (the ORM would raise a ValueError, a 500, while building the SQL)."""
        if value is None or self.field is None:
            return value
        try:
            return self.field.to_python(value)
        except (DjangoValidationError, TypeError, ValueError, ArithmeticError):
            raise ValidationError({"cursor": [INVALID_CURSOR]}) from None

    def order_expression(self, *, reverse: bool = False):
        descending = self.descending != reverse
        expr = F(self.path)
        if not self.nullable:
            return expr.desc() if descending else expr.asc()
        return expr.desc(nulls_first=True) if descending else expr.asc(nulls_last=True)

    def after(self, value: Any, *, reverse: bool = False) -> Q:
        """Rows strictly after ``value`` in this key's order (NULL is the largest value)."""
        descending = self.descending != reverse
        if value is None:
            return Q(**{f"{self.path}__isnull": False}) if descending else Q(pk__in=[])
        beyond = Q(**{f"{self.path}__lt" if descending else f"{self.path}__gt": value})
        if self.nullable and not descending:
            beyond |= Q(**{f"{self.path}__isnull": True})
        return beyond

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})


def _final_field(model, path: str) -> Any:
    """The model field a path ends at (``pk``: the primary key), or None when the path is not plain fields."""
    if path == "pk":
        return model._meta.pk
    current, found = model, None
    for part in path.split("__"):
        try:
            found = current._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            return None
        current = found.related_model if found.is_relation else None
    return None if found is None or found.is_relation else found


def _nullable(model, path: str) -> bool:
    """Whether a path can yield NULL: a nullable column, or a nullable foreign key on the way."""
    if path == "pk":
        return False
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return True
        if field.null:
            return True
        if field.is_relation:
            if not (field.many_to_one or field.one_to_one):
                return True
            current = field.related_model
    return False


class KeysetOrdering(BaseFilterBackend):
    """``?ordering=-effective_from,provider``: the view's ``ordering_fields`` (API name -> ORM path), id last.

    An unknown field is a 400 naming ``ordering``; the default is the view's ``ordering``.
    """

    def sort_keys(self, request, view) -> list[SortKey]:
        cached = getattr(request, "_keyset_sort_keys", None)
        if cached is not None:
            return cached
        fields: dict[str, str] = getattr(view, "ordering_fields", None) or {"id": "pk"}
        raw = request.query_params.get(ORDERING_PARAM, "")
        # Exactly the schema's array: comma-separated names from the enum (an empty value is the default order).
        terms = raw.split(",") if raw else list(getattr(view, "ordering", ("id",)))
        # The model only: no per-request copy of the queryset (and its select_related tree) for it.
        model = (view.base_queryset() if hasattr(view, "base_queryset") else view.get_queryset()).model
        keys: list[SortKey] = []
        seen: set[str] = set()
        for term in terms:
            name = term.removeprefix("-")
            if name not in fields:
                allowed = ", ".join(sorted(fields))
                raise ValidationError({ORDERING_PARAM: [f"Unknown field {term!r}; order by one of: {allowed} "
                                                        "(prefix - for descending)."]})
            if name in seen:
                # Rows are already in order of the first mention; a later one (either way) cannot change it.
                continue
            seen.add(name)
            keys.append(SortKey(name, fields[name], term.startswith("-"), _nullable(model, fields[name]),
                                _final_field(model, fields[name])))
        if not any(k.path == "pk" for k in keys):
            keys.append(SortKey("id", "pk", False, False, model._meta.pk))
        request._keyset_sort_keys = keys
        return keys

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        keys = self.sort_keys(request, view)
        return queryset.order_by(*(k.order_expression() for k in keys))

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        fields = getattr(view, "ordering_fields", None) or {"id": "pk"}
        names = sorted(fields)
        term = "-?(?:" + "|".join(re.escape(n) for n in names) + ")"
        default = ",".join(getattr(view, "ordering", ("id",)))
        return [{
            "name": ORDERING_PARAM,
            "required": False,
            "in": "query",
            "description": (f"Sort by these fields, comma-separated; prefix - for descending. Ties are broken by id, "
                            f"and nulls sort last (first when descending). Default: {default}."),
            # The text as the API reads it (a pattern, not an array: "id" is also a one-item list on the wire).
            "schema": {"type": "string", "pattern": f"^(?:{term}(?:,{term})*)?$"},
        }]


# --- cursors -------------------------------------------------------------------------

def _encode_value(value: Any) -> list[Any]:
    if value is None:
        return ["n"]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, Decimal):
        return ["d", str(value)]
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["D", value.isoformat()]
    if isinstance(value, float):
        return ["f", value]
    return ["s", str(value)]


def _decode_value(item: Any) -> Any:
    tag, *rest = item
    if tag == "n":
        return None
    (raw,) = rest
    if tag == "b" and isinstance(raw, bool):
        return raw
    if tag == "i" and isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2**63:
        return raw
    if tag == "d" and isinstance(raw, str):
        value = Decimal(raw)
        if not value.is_finite() or len(value.as_tuple().digits) > 40:
            raise ValueError("bad decimal")
        return value
    if tag == "t" and isinstance(raw, str):
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value
    if tag == "D" and isinstance(raw, str):
        return date.fromisoformat(raw)
    if tag == "f" and isinstance(raw, float):
        return raw
    if tag == "s" and isinstance(raw, str) and "\x00" not in raw:
        return raw
    raise ValueError("bad cursor value")


def encode_cursor(*, keys: list[SortKey], values: list[Any], reverse: bool) -> str:
    payload = {"o": ",".join(("-" if k.descending else "") + k.name for k in keys),
               "v": [_encode_value(v) for v in values], "r": reverse}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, *, keys: list[SortKey]) -> tuple[list[Any], bool]:
    invalid = ValidationError({"cursor": [INVALID_CURSOR]})
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        order = ",".join(("-" if k.descending else "") + k.name for k in keys)
        if not isinstance(payload, dict) or payload.get("o") != order:
            raise ValidationError({"cursor": ["This cursor belongs to another ordering; start again without it."]})
        values = [_decode_value(item) for item in payload["v"]]
        reverse = payload["r"]
        if len(values) != len(keys) or not isinstance(reverse, bool):
            raise invalid
    except ValidationError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, InvalidOperation, UnicodeDecodeError,
            OverflowError, RecursionError):
        raise invalid from None
    return values, reverse


class KeysetPagination(BasePagination):
    """Cursor pagination over ``values_list`` rows, ordered by the sort keys of :class:`KeysetOrdering`."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.page_size = settings.TOKENWATCH_API_PAGE_SIZE
        self.max_page_size = settings.TOKENWATCH_API_MAX_PAGE_SIZE
        self.next_url: str | None = None
        self.previous_url: str | None = None

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not WHOLE_NUMBER.fullmatch(raw):  # int() would also take "1_0", " 5" and "٥"
            raise ValidationError({self.page_size_query_param: ["Enter a whole number."]})
        size = int(raw)
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def paginate_queryset(self, queryset: QuerySet, request, view=None, *,
                          fetch: Callable[[list[Any]], list[Any]]) -> list[Any]:
        """This page's rows of ``queryset`` (filtered, not yet narrowed to columns).

        Two statements: the page's ids and sort keys from a query with only the filters
        and the sort keys (on prices an index holds provider, id and dates, so most pages'
        ids come from the index alone, without reading the rows a filter rejects), then
        ``fetch(ids)``: those rows, in that order, as the page writes them (see
        ``apps.api_common.rows``); the paginator reads nothing of them.
        """
        def find(keys: list[SortKey], size: int, values: list[Any] | None, reverse: bool) -> list[Sequence[Any]]:
            ids_qs = queryset.annotate(**{f"_sort_key_{i}": F(k.path) for i, k in enumerate(keys)})
            ids_qs = ids_qs.order_by(*(k.order_expression(reverse=reverse) for k in keys))
            if values is not None:
                condition = Q(pk__in=[])
                prefix = Q()
                for key, value in zip(keys, values, strict=True):
                    condition |= prefix & key.after(value, reverse=reverse)
                    prefix &= key.equal(value)
                ids_qs = ids_qs.filter(condition)
            with planned_for_its_values(ids_qs.db):
                return list(ids_qs.values_list("pk", *(f"_sort_key_{i}" for i in range(len(keys))))[: size + 1])

        return self.paginate(request, view, find=find, fetch=fetch)

    def paginate(self, request, view, *,
                 find: Callable[[list[SortKey], int, list[Any] | None, bool], list[Sequence[Any]]],
                 fetch: Callable[[list[Any]], list[Any]]) -> list[Any]:
        """A page whose ids and sort keys ``find(keys, size, cursor values, reverse)`` reads: at most
        ``size + 1`` rows of (id, *sort key values) after the cursor's position, in the page's order
        (reversed for a previous page). The ORM's way is :meth:`paginate_queryset`; a lean list can
        read them with its own SQL and share the cursors, links and checks here.
        """
        keys = KeysetOrdering().sort_keys(request, view)
        size = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        values, reverse = decode_cursor(token, keys=keys) if token else (None, False)
        if values is not None:
            values = [key.checked(value) for key, value in zip(keys, values, strict=True)]
        found = find(keys, size, values, reverse)
        more = len(found) > size
        found = found[:size]
        if reverse:
            found.reverse()
        ids = [row[0] for row in found]
        page = fetch(ids)

        url = request.build_absolute_uri()
        has_next = more if not reverse else True
        has_previous = (values is not None) if not reverse else more
        # The cursors hold the sort keys of the page's first and last rows (the rows' other values are not read).
        self.next_url = (replace_query_param(url, self.cursor_query_param,
                                             encode_cursor(keys=keys, values=list(found[-1][1:]), reverse=False))
                         if has_next and found else None)
        if has_previous and found:
            self.previous_url = replace_query_param(
                url, self.cursor_query_param, encode_cursor(keys=keys, values=list(found[0][1:]), reverse=True))
        elif has_previous and not found and values is not None:
            # Past the end (or before the start): offer the way back to the first page.
            self.previous_url = remove_query_param(url, self.cursor_query_param)
        else:
            self.previous_url = None
        return page

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response({"next": self.next_url, "previous": self.previous_url, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "description": ("A page of rows. No total count: this table grows with every fetch (millions of rows), "
                            "and counting the rows a filter matches would cost more than the page; follow next "
                            "to the end, or take ?format=csv for every row at once."),
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {"type": "string", "format": "uri", "nullable": True,
                         "description": "Link to the next page; null on the last page."},
                "previous": {"type": "string", "format": "uri", "nullable": True,
                             "description": "Link to the previous page; null on the first page."},
                "results": {**schema, "description": "The rows of this page."},
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Opaque position from a previous response's next/previous link.",
             "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Rows per page, 1 to {self.max_page_size} (default {self.page_size}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                        "default": self.page_size}},
        ]


class CountedKeysetPagination(KeysetPagination):
    """Keyset pages that also say how many rows match: ``{"count", "next", "previous", "results"}``.

    For tables whose size the catalogue bounds (providers, models, aliases, offerings, market rows,
    benchmarks, hardware prices, market sizes, sources: thousands of rows, not millions), where a
    COUNT of the filtered rows costs a few milliseconds. The time series (prices, price changes,
    snapshots, ingest runs, rejections) keep :class:`KeysetPagination`, without a count.
    """

    def paginate_queryset(self, queryset: QuerySet, request, view=None, *,
                          fetch: Callable[[list[Any]], list[Any]]) -> list[Any]:
        page = super().paginate_queryset(queryset, request, view, fetch=fetch)
        self.count = queryset.count()  # after the page: a bad cursor or page_size is a 400 without counting
        return page

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response({"count": self.count, "next": self.next_url, "previous": self.previous_url,
                         "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        return {
            **paged,
            "description": "A page of rows, with the number of rows the filters match on all pages.",
            "required": ["count", *paged["required"]],
            "properties": {"count": {"type": "integer", "minimum": 0,
                                     "description": "Rows matching the filters, on all pages together."},
                           **paged["properties"]},
        }
