"""What every dashboard page shares: the :class:`Page` and :class:`Chart` a template gets, rendering, downloads,
pagination, link columns, units, and the market-price-or-source-rows switch (issue 10).

A page module binds the API's FilterSet and the page's option forms to the query string, asks selectors for
DataFrames, wraps them as :class:`Table` (what the page shows and the CSV/XLSX download writes) and
:class:`Chart` (a figure from a chart builder plus a one-sentence summary). ``?download=csv&table=<name>`` on
any page returns that table with the same filters and sort.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from .. import agreement, charts
from .. import selectors as sel
from ..exports import FORMATS, export_info, export_response
from ..tables import PAGE_ROWS, Column, Table

MONEY_UNIT = "USD / 1M tokens"
# A price's two dates, one meaning each: "Snapshot (observed)" read as the price's age, and a price the
# newest file still states looked two years old.
FIRST_SEEN = "When tokenwatch first saw a document state this price"
LAST_CONFIRMED = "The newest look at a document that still states this price (a re-fetch of the same file counts)"
DEFAULT_COMPARE_MODEL = "llama-3-70b-instruct"  # the seed article's model, sold by many providers


@dataclass
class Chart:
    id: str
    title: str
    figure: go.Figure | None = None
    summary: str = ""
    empty: str = "Nothing to draw for these filters."
    note: str = ""

    @property
    def json(self) -> str:
        return charts.figure_json(self.figure) if self.figure is not None else "null"


@dataclass
class Page:
    """What a template gets besides its own bits: tables by name, charts, and messages about the filters."""

    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def download_response(request: HttpRequest, tables: list[Table]) -> HttpResponse | None:
    """The CSV/XLSX of one of the page's tables when the query string asks for it (``download``, ``table``)."""
    fmt = request.GET.get("download")
    if not fmt:
        return None
    name = request.GET.get("table") or (tables[0].name if tables else "")
    table = next((t for t in tables if t.name == name), None)
    if fmt not in FORMATS or table is None:
        raise Http404("No such download: use download=csv or download=xlsx and a table shown on this page.")
    if fmt == "xlsx":  # the About sheet: where the table comes from (the CSV's rows carry their own context)
        return export_response(table, fmt, export_info(request, table, page=page_title(request)))
    return export_response(table, fmt)


# The page a URL name is, as the navigation names it (for the About sheet of a download).
PAGE_TITLES = {"home": "Overview", "model-list": "Models", "model-detail": "Model", "provider-list": "Providers",
               "provider-detail": "Provider"}


def page_title(request: HttpRequest) -> str:
    match = request.resolver_match
    name = match.url_name if match is not None and match.url_name else ""
    title = PAGE_TITLES.get(name, name.replace("-", " ").capitalize())
    slug = match.kwargs.get("slug") if match is not None else None
    return f"{title}: {slug}" if slug else title


def render_page(request: HttpRequest, template: str, page: Page, **context: Any) -> HttpResponse:
    context.update(page=page, tables={t.name: t for t in page.tables},
                   charts={c.id: c for c in page.charts}, errors=page.errors, notes=page.notes)
    return render(request, template, context)


def paginate(request: HttpRequest, table: Table, *, param: str = "page") -> Table:
    total = len(table.frame)
    pages = max(1, -(-total // PAGE_ROWS))
    try:
        number = min(max(int(request.GET.get(param, "1")), 1), pages)
    except ValueError:
        number = 1
    table.extra.update(page=number, pages=pages, total=total, page_param=param)
    if pages > 1:
        table.frame = table.frame.iloc[(number - 1) * PAGE_ROWS: number * PAGE_ROWS].reset_index(drop=True)
        table.stem = f"{table.stem}-page-{number}"
    return table


def options_html(choices: Iterable[tuple[Any, Any]], chosen: Any) -> SafeString:
    """The ``<option>`` elements of a select, marked ``selected`` where the value is among ``chosen`` (one value
    or a list), as the template loop ``{% for v, l in choices %}<option value="{{ v }}"{{ chosen|selected:v }}>``
    wrote them. Built in Python: that loop over the ~1,100 models took ~27 ms of a Trends or Compare page."""
    values = chosen if isinstance(chosen, (list, tuple, set)) else [chosen]
    wanted = {str(v) for v in values}
    return mark_safe("".join(  # noqa: S308 - every value and label is escaped here
        f'<option value="{conditional_escape(value)}"{" selected" if str(value) in wanted else ""}>'
        f"{conditional_escape(label)}</option>" for value, label in choices))


def selected_filters(data: QueryDict) -> dict[str, list[str]]:
    """Every query-string value by name, for templates to mark what is chosen."""
    return {key: data.getlist(key) for key in data}


def current_time() -> datetime:
    return timezone.now()


def blend_label(ratio: tuple[int, int]) -> str:
    return f"{ratio[0]}:{ratio[1]}"


def component_unit(component: str, ratio: tuple[int, int]) -> str:
    if component == "blended":
        return f"USD per 1M tokens, blended {blend_label(ratio)}"
    return f"USD per 1M {component} tokens"


@lru_cache(maxsize=16384)
def _reverse_slug(view: str, slug: str) -> str:
    """URLs never change while a process runs: each (view, slug) is reversed once per process."""
    return reverse(view, args=[slug])


def _links(frame: pd.DataFrame, view: str, slug: str, out: str) -> pd.DataFrame:
    """A URL column from a slug column, reversing each distinct slug once (a provider's full history has
    thousands of rows and a few dozen models: reverse() per row was a third of its page)."""
    if frame.empty:
        return frame.assign(**{out: []})
    slugs = frame[slug]
    urls = {s: _reverse_slug(view, s) for s in slugs.unique() if isinstance(s, str) and s}
    # Only a non-empty string is a slug: "", None and NaN (a concat or merge fills a missing slug with NaN,
    # which is truthy and printed as href="nan") have no page to link to (issue 13). An object column keeps
    # None: pandas 3 makes a list of strings and Nones a string column, None turned into NaN.
    return frame.assign(**{out: pd.Series([urls.get(s) if isinstance(s, str) else None for s in slugs],
                                          index=frame.index, dtype=object)})


def link_models(frame: pd.DataFrame, slug: str = "model_slug", out: str = "model_url") -> pd.DataFrame:
    return _links(frame, "model-detail", slug, out)


def link_providers(frame: pd.DataFrame, slug: str = "provider_slug", out: str = "provider_url") -> pd.DataFrame:
    return _links(frame, "provider-detail", slug, out)


def name_unresolved(request: HttpRequest, frame: pd.DataFrame, *, model: str = "model", url: str = "model_url",
                    raw: str = "source_model_id") -> pd.DataFrame:
    """Rows whose offering has no canonical model (an unresolved alias) named by the source's own id for it,
    as text; for staff, a link to that id in the curation queue (the admin's unresolved aliases, searched for
    it), where a curator resolves it. A placeholder name linked to nowhere was a 404 (issue 13)."""
    if frame.empty:
        return frame
    missing = frame[model].map(lambda name: not isinstance(name, str) or not name)
    if not missing.any():
        return frame
    frame = frame.copy()
    frame.loc[missing, model] = frame.loc[missing, raw]
    queue = ""
    if getattr(request.user, "is_staff", False):
        queue = reverse("admin:catalog_modelalias_changelist")
    frame.loc[missing, url] = [f"{queue}?{urlencode({'queue': 'unresolved', 'q': raw_id})}" if queue else None
                               for raw_id in frame.loc[missing, raw]]
    return frame


def offering_columns(ratio: tuple[int, int]) -> list[Column]:
    """One offering's price, as the Compare page and the model and provider pages list it."""
    # Prices first, long raw ids last: the columns a buyer compares stay on screen on a laptop.
    return [
        Column("provider", "Provider", link="provider_url"),
        Column("region", "Region"),
        Column("service_tier", "Tier"),
        Column("min_prompt_tokens", "Context tier", unit="above N prompt tokens", kind="int"),
        Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
        Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
        Column("cached_input_usd_per_mtok", "Cached input", unit=MONEY_UNIT, kind="money"),
        Column("blended_usd_per_mtok", f"Blended {blend_label(ratio)}", unit=MONEY_UNIT, kind="money"),
        Column("price_label", "Label", title="free, variable, unknown or zero: never ranked as the cheapest"),
        Column("source", "Source"),
        Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
        Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
        Column("effective_from", "Since", kind="date"),
        Column("provider_kind", "Kind"),
        Column("source_model_id", "Offering id"),
    ]


# --- market prices or source rows (issue 10) ----------------------------------------------------
# Where a user compares, each offering is one row: its market price, chosen from the sources by the
# policy in apps.pricing.market, with a mark where they disagree. ?per_source=1 shows every source's
# row instead, as the evidence (kept in the URL, so in the downloads too).

PER_SOURCE = "per_source"
CHOSEN_SOURCE = ("The source whose price is shown. Of every source's current statement, the newest confirmation "
                 "wins; source priority breaks ties.")
SOURCES_AGREE = Column(
    "sources_agree", "Sources agree", kind="bool", shown="agreement", detail="evidence_html", hint="evidence_title",
    mark=True, title="yes when every source with a current price gives the same values; ⚠ marks where they differ "
                     "(open it to see who says what)")
MAX_GAP = Column("max_gap_pct", "Max gap", unit="%", kind="pct", places=1,
                 title="The largest difference between two sources on one price component, as a share of the lower")
OTHER_SOURCES = Column("other_sources", "Other sources", wrap=True,
                       title="What each other source says: input/output in USD per 1M tokens (other components "
                             "named) and, in brackets, its last confirmation")


def wants_per_source(request: HttpRequest) -> bool:
    return request.GET.get(PER_SOURCE, "").lower() in ("1", "true", "on", "yes")


def as_market(columns: list[Column], *, after: str) -> list[Column]:
    """A source-row table's columns for market rows: after ``after`` (the prices) the mark, the chosen
    source and the gap, where a laptop shows them; the other sources' values last."""
    out: list[Column] = []
    for column in columns:
        if column.key == "source":
            continue
        out.append(column)
        if column.key == after:
            out += [SOURCES_AGREE, Column("source", "Chosen source", title=CHOSEN_SOURCE), MAX_GAP]
    return [*out, OTHER_SOURCES]


def market_frame(offers: list[sel.MarketOffer], *, ratio: tuple[int, int], source_rows: pd.DataFrame,
                 extra: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = sel.market_offering_prices(offers, ratio=ratio, source_rows=source_rows)
    if extra is not None and not extra.empty:
        frame = pd.concat([frame, extra], ignore_index=True) if not frame.empty else extra
    return agreement.annotate(frame)
