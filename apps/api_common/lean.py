"""A lean way to a hot list's page ids: the common query strings read without a FilterSet or the ORM.

A filtered page of /api/v1/prices/ (``?provider=acme&effective_from_after=2024-01-01``, then its
cursors) is what BI tools ask for all day. On the general path each request binds a FilterSet
(a Django form, deep copies of its filters), builds and compiles a queryset for the page's ids
and has PostgreSQL plan it afresh: about a third of the page's CPU, for a query whose shape
never changes. A :class:`LeanList` names the few parameters a list's hot queries use, each as
one SQL comparison on the list's own table; a request that uses only those (each once, with a
value the lean parser accepts: a known slug, a valid moment) in the default id order has its ids
read by one statement written for it (PostgreSQL still plans it for its values, as before).

Anything else (another filter or ordering, a repeated or empty parameter, an unknown slug, a bad
value) goes the general way, so errors, and every rule a FilterSet holds, stay where they are.
The cursors, links and page-size checks are the paginator's in both cases
(:meth:`KeysetPagination.paginate`), and the rows come from the same compiled statement, so the
response is the same bytes (``tests/api/test_lean.py`` holds the two paths to that on a corpus
of query strings).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Model, QuerySet

from .filters import MomentField, key_map, start_of
from .pagination import ORDERING_PARAM, SortKey
from .rows import planned_for_its_values

# Parameters the paginator and the renderer read; ``format`` only as json (the renderer is already chosen).
PAGING_PARAMS = frozenset({"cursor", "page_size"})

Find = Callable[[list[SortKey], int, list[Any] | None, bool], list[Sequence[Any]]]


OPERATORS = {"exact": "=", "gte": ">="}


@dataclass(frozen=True)
class LeanFilter:
    """One query parameter as ``<field's column> <lookup> %s``; ``parse`` gives the Python value, or None
    to decline. The value reaches the database as the model field prepares it (as the ORM would)."""

    field: str
    lookup: str  # a key of OPERATORS
    parse: Callable[[str], Any]


def slug_to_id(queryset_factory: Callable[[], QuerySet], field: str) -> Callable[[str], int | None]:
    """A key users type (``slug``) to the row's id, from the per-process map the FilterSet also uses.

    A key the map lacks (new, unknown, or with a NUL) is declined: the FilterSet then finds it or
    answers the 400 naming it.
    """

    def parse(value: str) -> int | None:
        known = key_map(queryset_factory(), field)
        return None if known is None else known.get(value)

    return parse


_MOMENT = MomentField(required=False)


def moment_from(value: str) -> Any:
    """``effective_from_after`` as MomentFilter reads it: a date means its first instant (UTC)."""
    try:
        moment = _MOMENT.clean(value)
    except ValidationError:
        return None
    return None if moment is None else start_of(moment)


@dataclass(frozen=True)
class LeanList:
    model: type[Model]
    filters: dict[str, LeanFilter]

    def find(self, request: Any, view: Any) -> Find | None:
        """The page-id reader for this request, or None when it must take the general path."""
        if tuple(getattr(view, "ordering", ("id",))) != ("id",):
            return None
        meta = self.model._meta
        using = self.model._default_manager.db
        connection = connections[using]
        conditions: list[str] = []
        params: list[Any] = []
        for name, values in request.query_params.lists():
            if name in PAGING_PARAMS:
                if len(values) != 1:
                    return None
                continue
            if name == "format" and values == ["json"]:
                continue
            spec = self.filters.get(name)
            if spec is None or len(values) != 1 or values[0] == "" or name == ORDERING_PARAM:
                return None
            value = spec.parse(values[0])
            if value is None:
                return None
            field = meta.get_field(spec.field)
            conditions.append(f"{connection.ops.quote_name(field.column)} {OPERATORS[spec.lookup]} %s")
            params.append(field.get_db_prep_value(value, connection, prepared=False))
        table, pk = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)

        def find(keys: list[SortKey], size: int, values: list[Any] | None, reverse: bool) -> list[Sequence[Any]]:
            where, args = list(conditions), list(params)
            if values is not None:
                (after,) = values
                if not isinstance(after, int) or isinstance(after, bool):
                    # A cursor the general path would turn into SQL its own way (or refuse): no cursor
                    # from this API holds anything but an integer id here.
                    raise Decline
                where.append(f"{pk} {'<' if reverse else '>'} %s")
                args.append(after)
            # Identifiers come from the model's metadata and the LeanList's own table; values are parameters.
            # The column names of the general path's ids query, so logs and tests read them alike.
            sql = (f'SELECT {pk} AS "pk", {pk} AS "_sort_key_0" FROM {table}'  # noqa: S608
                   f"{' WHERE ' + ' AND '.join(where) if where else ''}"
                   f" ORDER BY {pk} {'DESC' if reverse else 'ASC'} LIMIT %s")
            # Planned for its values, as the general path's ids query: with a generic plan, recent dates
            # without a provider walk the whole table in id order (see rows.planned_for_its_values).
            with planned_for_its_values(using), connection.cursor() as cursor:
                cursor.execute(sql, [*args, size + 1])
                return cursor.fetchall()

        return find


class Decline(Exception):
    """Raised inside ``find`` when the page turns out to need the general path after all."""
