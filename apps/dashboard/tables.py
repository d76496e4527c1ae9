"""Tables shown on the pages and exported as CSV/XLSX: one definition, one set of rows.

A :class:`Table` wraps the DataFrame a selector returned with column
definitions (label, unit, kind). The HTML page and the exports read the same
rows in the same order through the same formatting, which is what makes "the
download is exactly the table on screen" true by construction.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Literal

import pandas as pd
from django.utils.text import slugify

from apps.common.timestamps import timestamp_text

Kind = Literal["text", "money", "number", "int", "year", "pct", "date", "datetime", "bool"]
NUMERIC_KINDS = {"money", "number", "int", "year", "pct"}
PAGE_ROWS = 100
# Money is exact where the source is (2.5 stays 2.5); derived figures (blends, monthly costs)
# are rounded to this many places so a 7:3 blend does not print 28 digits.
MONEY_PLACES = 6


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""
    kind: Kind = "text"
    places: int | None = None  # decimal places for number/pct/money (money: at most)
    link: str | None = None  # a frame column holding a URL for this cell (HTML only)
    sortable: bool = True
    title: str = ""  # longer description, shown as the header's tooltip
    wrap: bool = False  # long free text (reasons, notes) wraps; everything else stays on one line
    badge: bool = False  # show the value as a coloured status badge (fresh, stale, failed…)
    # HTML only, like ``link``: frame columns holding the text shown instead of the value (the export
    # writes the value: "⚠ sources differ (+23.1 %)" on screen is "no" in "Sources agree"), the body of
    # an expandable cell (<details>: who says what) and a tooltip.
    shown: str | None = None
    detail: str | None = None
    hint: str | None = None
    mark: bool = False  # style the cell by its value (mark-yes, mark-no)

    @property
    def header(self) -> str:
        """The header as exported: label and unit, e.g. ``Input (USD / 1M tokens)``."""
        return f"{self.label} ({self.unit})" if self.unit else self.label

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


@dataclass(frozen=True)
class Cell:
    text: str  # as shown: "—" for nothing, thousands separators for numbers
    value: str  # as exported to CSV: "" for nothing, plain digits
    numeric: bool = False
    href: str | None = None
    css: str = ""
    detail: str = ""  # HTML (already escaped) of the expandable part, if any
    title: str = ""


@dataclass
class Table:
    """Rows a page shows, with everything an export needs to name and describe them."""

    name: str  # the ?table= key of the export
    title: str
    columns: Sequence[Column]
    frame: pd.DataFrame
    stem: str  # file name stem after "tokenwatch-", e.g. "compare-llama-3-70b"
    as_of: date
    caption: str = ""
    empty_message: str = "No rows match these filters."
    sort: str = ""  # the applied sort key ("-blended" = descending), "" = the selector's order
    sortable: bool = False
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Export-only: what produced these rows (the calculator's model and workload), written as constant
    # columns on every row after "As of", so downloads of different inputs stack and stay distinguishable.
    context: Sequence[tuple[Column, Any]] = ()

    @property
    def filename(self) -> str:
        return f"tokenwatch-{slugify(self.stem)}-{self.as_of.isoformat()}"

    def __len__(self) -> int:
        return len(self.frame)

    def sorted_by(self, sort: str | None) -> Table:
        """The same table ordered by a column key (``-key`` descending); unknown keys are ignored."""
        if not sort or not self.sortable or self.frame.empty:
            return self
        key = sort.lstrip("-")
        column = next((c for c in self.columns if c.key == key and c.sortable), None)
        if column is None:
            return self
        descending = sort.startswith("-")

        def sort_key(series: pd.Series) -> pd.Series:
            if column.numeric:
                return series.map(_as_float)
            if column.kind in ("date", "datetime"):
                return pd.to_datetime(series, utc=True, errors="coerce")
            return series.map(lambda v: "" if _missing(v) else str(v).lower())

        frame = self.frame.sort_values(key, key=sort_key, ascending=not descending, na_position="last",
                                       kind="stable")
        return replace(self, frame=frame.reset_index(drop=True), sort=sort)

    def header_sort(self, column: Column) -> tuple[str, str]:
        """(the sort value a click on this header applies, the header's aria-sort state)."""
        if self.sort == column.key:
            return f"-{column.key}", "ascending"
        if self.sort == f"-{column.key}":
            return column.key, "descending"
        return column.key, "none"

    def records(self) -> Iterator[dict[str, Any]]:
        """Rows as dicts of what the page and the exports read: each column's value and its link, shown text,
        detail and tooltip columns. Frames carry more (slugs, ids, the other blends); converting those too
        was most of the time to_dict took."""
        wanted = dict.fromkeys(key for column in self.columns
                               for key in (column.key, column.link, column.shown, column.detail, column.hint) if key)
        yield from self.frame[[key for key in wanted if key in self.frame.columns]].to_dict("records")

    def rows(self) -> Iterator[list[Cell]]:
        for record in self.records():
            yield [cell(column, record.get(column.key), href=record.get(column.link) if column.link else None,
                        shown=record.get(column.shown) if column.shown else None,
                        detail=record.get(column.detail) if column.detail else None,
                        title=record.get(column.hint) if column.hint else None)
                   for column in self.columns]


# --- formatting shared by the page and the exports -------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    # Most cells are text, whole numbers or dates, none of which can be missing: answered before pd.isna
    # (a page formats thousands of cells).
    if type(value) in _NEVER_MISSING:
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, Decimal) and value.is_nan():
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, bytes, list, dict, tuple)) else False
    except (TypeError, ValueError):
        return False


_NEVER_MISSING = frozenset({str, int, bool, date, datetime, pd.Timestamp})  # NaT is a type of its own


def _as_float(value: Any) -> float:
    if _missing(value):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def as_decimal(value: Any, places: int) -> Decimal | None:
    """A number as a Decimal rounded to ``places`` (half-even), trailing zeros dropped; None for nothing."""
    if _missing(value):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    except (TypeError, ValueError, InvalidOperation):
        return None
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    normal = rounded.normalize()
    # normalize() turns 100 into 1E+2; quantize back to an exponent of at least 0.
    return normal if normal.as_tuple().exponent <= 0 else normal.quantize(Decimal(1))


def _as_datetime(value: Any) -> datetime | None:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        # Naive UTC (what a spreadsheet cell holds), to the microsecond: the page shows minutes, exports all of it.
        return (value.astimezone(UTC) if value.tzinfo else value).replace(tzinfo=None)
    return None


def _as_date(value: Any) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    return None


def export_value(column: Column, value: Any) -> Any:
    """The typed value an export writes: Decimal/int for numbers, date for dates, str otherwise, None for nothing."""
    if _missing(value):
        return None
    if column.kind == "money":
        return as_decimal(value, column.places if column.places is not None else MONEY_PLACES)
    if column.kind in ("number", "pct"):
        return as_decimal(value, column.places if column.places is not None else 1)
    if column.kind in ("int", "year"):
        return int(value)
    if column.kind == "date":
        return _as_date(value)
    if column.kind == "datetime":
        return _as_datetime(value)
    if column.kind == "bool":
        return "yes" if value else "no"
    return str(value)


def text_value(column: Column, value: Any) -> str:
    """The CSV text of a value: plain digits, ISO dates, date-times as the API writes them
    (``2025-02-06T02:56:03.000000Z``, apps.common.timestamps), "" for nothing."""
    typed = export_value(column, value)
    if isinstance(typed, datetime):
        return timestamp_text(typed)
    return _plain(typed)


def _plain(typed: Any) -> str:
    """The text a page shows for a typed value (date-times to the minute, for reading; exports: text_value)."""
    if typed is None:
        return ""
    if isinstance(typed, Decimal):
        return format(typed, "f")
    if isinstance(typed, datetime):
        return typed.strftime("%Y-%m-%d %H:%M")
    if isinstance(typed, date):
        return typed.isoformat()
    return str(typed)


def link_target(href: Any) -> str | None:
    """The URL a cell links to, or None: only a non-empty string is a URL. A missing one from a frame is None,
    NaN or pd.NA, and str() of those is "nan" or "<NA>", an href that is a 404 (issue 13)."""
    return href if isinstance(href, str) and href.strip() else None


# The longest word a table cell keeps whole when a wide table is squeezed (app.css, td.words): a cell that is one
# word of vocabulary ("standard", "observed", "published", "litellm") reads wrong cut ("stand|ard") and costs a
# narrow column little. Everything else (raw ids, keys, names of several words) may still break where the table
# needs it to, so wide tables keep fitting a laptop (tests/browser/test_table_fit.py). Nine, not more: with ten,
# the keys "openrouter" in both Key and Format pushed the 17 columns of the demo's Sources table 19 px past 1440.
WHOLE_WORD = 9


def _short_words(column: Column, shown: str) -> bool:
    """A text cell of one word of letters, at most WHOLE_WORD of them (numbers, dates, badges and free text that
    wraps have rules of their own)."""
    return (column.kind == "text" and len(shown) <= WHOLE_WORD and shown.isalpha()
            and not (column.wrap or column.badge or column.mark))


def cell(column: Column, value: Any, *, href: str | None = None, shown: str | None = None,
         detail: str | None = None, title: str | None = None) -> Cell:
    typed = export_value(column, value)
    plain = _plain(typed)  # from the one conversion (a page formats thousands of cells)
    if typed is not None and shown is not None and not _missing(shown) and shown:
        shown = str(shown)
    elif typed is None:
        shown = "—"
    elif isinstance(typed, Decimal):
        shown = format(typed, ",f")
        if column.kind == "pct" and not column.unit:
            shown += " %"
    elif isinstance(typed, int) and not isinstance(typed, bool) and column.kind != "year":
        shown = f"{typed:,}"
    else:
        shown = plain
    css = " ".join(filter(None, [
        "num" if column.numeric else "",
        "words" if _short_words(column, shown) else "",
        "date" if column.kind == "date" else "",  # kept on one line where text cells wrap (app.css)
        "wrap" if column.wrap else "",
        f"badge badge-{slugify(plain)}" if column.badge and plain else "",
        f"mark mark-{slugify(plain)}" if column.mark and plain else "",
    ]))
    exported = timestamp_text(typed) if isinstance(typed, datetime) else plain
    return Cell(text=shown, value=exported, numeric=column.numeric,
                href=link_target(href) if typed is not None else None, css=css,
                detail=detail if typed is not None and detail is not None and not _missing(detail) and detail else "",
                title=str(title) if title is not None and not _missing(title) and title else "")
