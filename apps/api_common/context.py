"""A row's context from a related table, read once per data version instead of joined on every page.

A price row names its offering in full (provider slug, name and kind, canonical model and family, raw
id, region, tier, context tier, mode, source), so that every row stands on its own. Joined per page,
that is five joins for ~83 distinct offerings of a 100-row page: on PostgreSQL about 1.3 ms of the
rows statement's 1.5-2 ms (bench/README.md, issue 14), for columns that change only when data is
written (an ingest, a curator's edit). So a :class:`RelatedContext` reads a page's rows in two parts:

1. the list's own columns, the foreign key and the data version (:mod:`apps.common.dataversion`), by
   id, in one statement compiled once (:func:`apps.api_common.rows.rows_by_id`), without joins;
2. the related columns of the offerings the process has not kept for that data version, by id.

What is kept per related row is its part of a page row, ready: a dict of the plan's columns in the plan's
order, the related columns converted and the list's own columns empty. A page row is a copy of it with the
row's own columns written in (``dict.update`` keeps each key where it was), which costs about half what
zipping 26 names with 26 values and converting them did, per row (issue 14; bench/README.md).

Kept values are valid for one data version only, and the version is read in the page's own rows
statement, before any related row it serves is read: the number moves with every write of the data
and once more when its transaction commits, so a page never shows context older than the newest
commit the page's statement could see (the same rule as the dashboard's page cache). On another
version the kept values are dropped. The values are the database's, converted by the same column
converters, so the page is built exactly as from the joined statement (``tests/api/test_context.py``
holds the two to the same bytes). PostgreSQL only (where the rows statement is compiled once); elsewhere,
and for plans with nested lists or values that are not plain immutable scalars, the joined read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, QuerySet
from django.db.models.expressions import RawSQL

from apps.common import dataversion

from .columns import BoundPlan, ColumnPlan
from .rows import rows_by_id

# Kinds whose values are immutable scalars, safe to share between requests (json lists are not).
SHAREABLE_KINDS = frozenset({"text", "optional_text", "int", "bool", "decimal", "datetime", "date", "float"})
# Related rows kept per process and list; beyond that the rest are read per page. A kept row is a dict of the
# plan's columns (~1.2 kB for the 26 of a price row): 50,000 offerings would be ~60 MB a list and process, against
# the few thousand a catalogue holds.
MAX_KEPT = 50_000

# The data version as dataversion.current() reads it, as a column of the rows statement. No parameters:
# the compiled statement's only parameter stays the id array.
VERSION_SQL = f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {dataversion.SEQUENCE}"  # noqa: S608


@dataclass(frozen=True)
class Layout:
    """Where a plan's columns come from: ``own`` and ``related`` are positions in ``plan.flat``; an own row
    (from :meth:`RelatedContext.json_rows`'s statement) holds the own columns in ``own`` order, then the
    foreign key, the data version and the id."""

    own: tuple[int, ...]
    related: tuple[int, ...]
    names: tuple[str, ...]  # every flat column's name, in the plan's order
    own_names: tuple[str, ...]


def _layout(plan: ColumnPlan, prefix: str) -> Layout | None:
    flat = [c for c in plan.columns if c.path is not None]
    if len(flat) != len(plan.columns):
        return None  # nested lists: read joined
    related = tuple(i for i, c in enumerate(flat) if c.path.startswith(prefix))  # type: ignore[union-attr]
    if not related or any(flat[i].kind not in SHAREABLE_KINDS for i in related):
        return None
    own = tuple(i for i in range(len(flat)) if i not in related)
    return Layout(own=own, related=related, names=tuple(c.name for c in flat),
                  own_names=tuple(flat[i].name for i in own))


class RelatedContext:
    """The columns of a list reached through ``relation`` (a foreign key, e.g. ``offering``), kept per
    process for the current data version."""

    def __init__(self, relation: str) -> None:
        self.relation = relation
        self.prefix = f"{relation}__"
        self._layouts: dict[int, Layout | None] = {}
        # Per plan: (data version, related id -> its rows' template). Replaced whole, never edited across versions.
        self._kept: dict[int, tuple[int, dict[Any, dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def json_rows(self, base: QuerySet, bound: BoundPlan, ids: Sequence[int],
                  converters: Sequence[Callable[[Any], Any]], *, key: Hashable) -> list[dict[str, Any]] | None:
        """``bound.json_rows`` of ``bound.json_select(base)`` for these ids, in their order, or None when this
        list must be read joined (not PostgreSQL, or a plan this cannot split). ``converters``: the plan's
        PostgreSQL converters for this request."""
        connection = connections[base.db]
        if connection.vendor != "postgresql":
            return None
        plan = bound.plan
        if id(plan) not in self._layouts:
            self._layouts[id(plan)] = _layout(plan, self.prefix)
        layout = self._layouts[id(plan)]
        if layout is None:
            return None
        if not ids:
            return []
        # A plain Field: psycopg gives the bigint as an int already (an IntegerField would add an int() per row).
        version_column = RawSQL(f"({VERSION_SQL})", (), output_field=Field())  # noqa: S611
        own_rows = rows_by_id(
            base,  # the select below runs once, when the statement is compiled
            lambda qs: bound.json_select(qs.select_related(None), "postgresql", columns=layout.own,
                                         extra=(f"{self.relation}_id", version_column)),
            ids, key=(key, "own"))
        if not own_rows:
            return []
        width = len(layout.own)
        version = own_rows[0][width + 1]
        dataversion.seen(connection)  # a write on this connection after this read draws a new number
        kept = self._current(id(plan), version)
        wanted = {row[width] for row in own_rows}
        # Looked up one by one: ``wanted - kept.keys()`` walks every kept key (a set minus a dict view).
        missing = [i for i in wanted if i not in kept]
        if missing:
            fresh = self._read(base, bound, layout, converters, sorted(missing), key=key)
            if kept is self._current(id(plan), version) and len(kept) + len(fresh) <= MAX_KEPT:
                kept.update(fresh)  # under the GIL; only values read for this same version go in
            else:  # this page's own view: what was kept for its version, and what it read itself
                kept = {i: kept[i] for i in wanted if i in kept} | fresh
        work = bound.converting(converters, layout.own)
        own_names = layout.own_names
        out = []
        for row in own_rows:
            # A related row gone since the page's statement is left out with its rows (offerings are deleted
            # only with their prices), as rows_by_id leaves out rows deleted since their ids were read.
            template = kept.get(row[width])
            if template is None:
                continue
            item = template.copy()
            # zip stops at the own columns (the foreign key, version and id follow); keys keep the plan's order.
            item.update(zip(own_names, row, strict=False))
            for at, name, conv in work:
                value = row[at]
                if value is not None:
                    item[name] = conv(value)
            out.append(item)
        return out

    def _read(self, base: QuerySet, bound: BoundPlan, layout: Layout, converters: Sequence[Callable[[Any], Any]],
              ids: list[Any], *, key: Hashable) -> dict[Any, dict[str, Any]]:
        """The related rows of these ids, each as its page rows' template (see the module's docstring)."""
        related_model = base.model._meta.get_field(self.relation).related_model
        found = rows_by_id(
            related_model._default_manager.all(),
            lambda qs: bound.json_select(qs, "postgresql", columns=layout.related, strip=self.prefix),
            ids, key=(key, "related"))
        blank = dict.fromkeys(layout.names)
        names = [layout.names[i] for i in layout.related]
        # Related columns are of SHAREABLE_KINDS, whose converters do not depend on the request.
        convert = [converters[i] for i in layout.related]
        templates = {}
        for row in found:
            template = blank.copy()
            for name, conv, value in zip(names, convert, row, strict=False):  # the id comes last
                template[name] = None if value is None else conv(value)
            templates[row[-1]] = template
        return templates

    def _current(self, plan_key: int, version: int) -> dict[Any, dict[str, Any]]:
        """The kept map of this data version; an older request (a version behind) gets a map of its own."""
        state = self._kept.get(plan_key)
        if state is not None and state[0] == version:
            return state[1]
        with self._lock:
            state = self._kept.get(plan_key)
            if state is not None and state[0] == version:
                return state[1]
            if state is not None and state[0] > version:
                return {}  # read before a newer version was seen: neither use nor keep the newer map
            fresh: dict[Any, dict[str, Any]] = {}
            self._kept[plan_key] = (version, fresh)
            return fresh
