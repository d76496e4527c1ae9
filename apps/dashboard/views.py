"""The analyst dashboard: plain view functions, one per page.

Each view binds the API's FilterSet and the page's option forms to the query
string, asks selectors for DataFrames, wraps them as :class:`Table` (what the
page shows and the CSV/XLSX download writes) and :class:`Chart` (a figure from
a chart builder plus a one-sentence summary). ``?download=csv&table=<name>``
on any page returns that table with the same filters and sort.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from apps.benchmarks import selectors as bench
from apps.benchmarks.filtersets import BenchmarkRunFilterSet
from apps.benchmarks.models import BenchmarkRun, HardwarePrice
from apps.catalog.filtersets import ProviderFilterSet
from apps.catalog.models import Model, Provider
from apps.market import selectors as market_selectors
from apps.market.filtersets import SizeEstimateFilterSet
from apps.market.models import Segment
from apps.pricing.filtersets import PriceFilterSet
from apps.pricing.market import market_rows_as_of
from apps.pricing.models import MarketPrice, Price
from apps.pricing.selectors import prices_current
from apps.sources.filtersets import RejectionFilterSet, SnapshotFilterSet, SourceFilterSet
from apps.sources.models import Rejection, Snapshot, Source

from . import agreement, charts
from . import selectors as sel
from .access import analyst_view
from .exports import FORMATS, export_response
from .forms import (
    BlendForm,
    BreakEvenForm,
    ClassTrendForm,
    MarketForm,
    TrendOptionsForm,
    WorkloadForm,
    bind,
    error_messages,
)
from .tables import PAGE_ROWS, Column, Table

if TYPE_CHECKING:
    from django.db.models import QuerySet

DEFAULT_CLASSES = ["7-8b-class", "70b-class", "300b-plus-class", "frontier-closed"]
DEFAULT_TREND_MODELS = ["llama-3-70b-instruct"]  # the seed article's model, sold by many providers
DEFAULT_COMPARE_MODEL = "llama-3-70b-instruct"
MAX_SERIES = 40

MONEY_UNIT = "USD / 1M tokens"
# A price's two dates, one meaning each: "Snapshot (observed)" read as the price's age, and a price the
# newest file still states looked two years old.
FIRST_SEEN = "When tokenwatch first saw a document state this price"
LAST_CONFIRMED = "The newest look at a document that still states this price (a re-fetch of the same file counts)"


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


def _download(request: HttpRequest, tables: list[Table]) -> HttpResponse | None:
    fmt = request.GET.get("download")
    if not fmt:
        return None
    name = request.GET.get("table") or (tables[0].name if tables else "")
    table = next((t for t in tables if t.name == name), None)
    if fmt not in FORMATS or table is None:
        raise Http404("No such download: use download=csv or download=xlsx and a table shown on this page.")
    return export_response(table, fmt)


def _render(request: HttpRequest, template: str, page: Page, **context: Any) -> HttpResponse:
    context.update(page=page, tables={t.name: t for t in page.tables},
                   charts={c.id: c for c in page.charts}, errors=page.errors, notes=page.notes)
    return render(request, template, context)


def _paginate(request: HttpRequest, table: Table, *, param: str = "page") -> Table:
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


def _blend_label(ratio: tuple[int, int]) -> str:
    return f"{ratio[0]}:{ratio[1]}"


def _component_unit(component: str, ratio: tuple[int, int]) -> str:
    if component == "blended":
        return f"USD per 1M tokens, blended {_blend_label(ratio)}"
    return f"USD per 1M {component} tokens"


def _url(name: str, *args: object) -> str:
    return reverse(name, args=args)


@lru_cache(maxsize=16384)
def _reverse_slug(view: str, slug: str) -> str:
    """URLs never change while a process runs: each (view, slug) is reversed once per process."""
    return reverse(view, args=[slug])


def _links(frame: pd.DataFrame, view: str, slug: str, out: str) -> pd.DataFrame:
    """A URL column from a slug column, reversing each distinct slug once (a provider's full history has
    thousands of rows and a few dozen models: reverse() per row was a third of its page)."""
    if frame.empty:
        return frame.assign(**{out: []})
    urls = {s: _reverse_slug(view, s) for s in frame[slug].dropna().unique() if s}
    return frame.assign(**{out: frame[slug].map(urls).astype(object).where(frame[slug].map(bool), None)})


def _link_models(frame: pd.DataFrame, slug: str = "model_slug", out: str = "model_url") -> pd.DataFrame:
    return _links(frame, "model-detail", slug, out)


def _link_providers(frame: pd.DataFrame, slug: str = "provider_slug", out: str = "provider_url") -> pd.DataFrame:
    return _links(frame, "provider-detail", slug, out)


def _now() -> datetime:
    return timezone.now()


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


def _per_source(request: HttpRequest) -> bool:
    return request.GET.get(PER_SOURCE, "").lower() in ("1", "true", "on", "yes")


def _as_market(columns: list[Column], *, after: str) -> list[Column]:
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


# Filters that pick which source statements count (not which offerings): with one, the market is
# computed from the statements left (the policy on fewer sources), not read from the stored rows.
MARKET_KEY_FILTERS = {"provider", "provider_kind", "model", "family", "size_class", "region", "service_tier",
                      "min_prompt_tokens", "current", "as_of"}


def _evidence_filters(data: QueryDict) -> list[str]:
    return [name for name in PriceFilterSet.base_filters
            if name not in MARKET_KEY_FILTERS and any(v for v in data.getlist(name))]


def _market_frame(offers: list[sel.MarketOffer], *, ratio: tuple[int, int], source_rows: pd.DataFrame,
                  extra: pd.DataFrame | None = None) -> pd.DataFrame:
    frame = sel.market_offering_prices(offers, ratio=ratio, source_rows=source_rows)
    if extra is not None and not extra.empty:
        frame = pd.concat([frame, extra], ignore_index=True) if not frame.empty else extra
    return agreement.annotate(frame)


# --- overview ----------------------------------------------------------------------------------

CHANGE_COLUMNS = [
    Column("changed_at", "Date", kind="date"),
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model", link="model_url"),
    Column("source_model_id", "Offering id"),
    Column("component", "Component"),
    Column("old_usd_per_mtok", "Old", unit=MONEY_UNIT, kind="money"),
    Column("new_usd_per_mtok", "New", unit=MONEY_UNIT, kind="money"),
    Column("percent_change", "Change", unit="%", kind="pct"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title="When a document first stated the new price"),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]


@analyst_view
def home(request: HttpRequest) -> HttpResponse:
    """The overview: headline figures, the cost trend of chosen size classes, latest changes, source health."""
    now, as_of = _now(), sel.today()
    page = Page()
    changes = _link_providers(_link_models(sel.latest_changes(limit=15)))
    page.tables.append(Table("changes", "Latest price changes", CHANGE_COLUMNS, changes, stem="overview-changes",
                             as_of=as_of, empty_message="No price has changed yet: changes appear once a source has "
                                                        "shown two different prices for an offering."))
    upcoming = _link_providers(_link_models(sel.upcoming_changes(limit=10)))
    page.tables.append(Table("upcoming", "Announced changes (future dates)", CHANGE_COLUMNS, upcoming,
                             stem="overview-upcoming", as_of=as_of,
                             empty_message="No source announces a future price change."))
    if (response := _download(request, page.tables)) is not None:
        return response

    classes_all = sel.size_classes()
    form, options = bind(ClassTrendForm, request.GET, size_classes=classes_all, default_classes=DEFAULT_CLASSES)
    page.errors += error_messages(form)
    ratio = (options["ratio_in"], options["ratio_out"])
    classes = options["classes"] or [c for c in DEFAULT_CLASSES if c in classes_all]
    in_classes = sel.base_chat_prices().filter(offering__alias__model__size_class__in=classes)
    per_source = _per_source(request)
    since = sel.history_start()
    frame = sel.chart_frame(in_classes, "blended", ratio) if per_source else \
        sel.market_chart_frame(in_classes, "blended", ratio, until=now, since=since)
    steps = sel.price_steps(frame, group="class", until=now, since=since)
    unit = _component_unit("blended", ratio)
    trend = Chart("class-trend", "Cheapest source row per size class" if per_source else
                  "Cheapest market price per size class", empty=(
        "No plain per-token prices for these size classes yet: pick other classes or load price data."))
    if not steps.empty:
        trend.figure = charts.price_steps_figure(steps, unit=unit, scale=options["scale"])
        trend.summary = charts.price_steps_summary(steps, unit=unit)
        missing = sorted(set(classes) - set(steps["series"]))
        if missing:
            trend.note = f"No plain prices for: {', '.join(missing)}."
    page.charts.append(trend)

    health = sel.source_health(now=now)
    warnings = sel.source_warnings(health)
    counts = {**health["freshness"].value_counts().to_dict(), "failed": int(health["last_run_failed"].sum()),
              "held": int(health["held"].sum())}
    headline = sel.headline(now=now, steps=steps if ratio == (3, 1) else None, per_source=per_source)
    return _render(request, "dashboard/home.html", page, form=form, headline=headline, options=options,
                   per_source=per_source,
                   classes_all=classes_all, classes=classes, warnings=warnings.to_dict("records"),
                   freshness=counts, as_of=as_of, unit=unit)


# --- price trends --------------------------------------------------------------------------------

STEP_TABLE_COLUMNS = [
    Column("label", "Series"),
    Column("provider", "Provider"),
    Column("source_model_id", "Offering id"),
    Column("region", "Region"),
    Column("start", "From", unit="UTC", kind="date"),
    Column("end_shown", "To", unit="UTC, empty = current", kind="date"),
    Column("usd_exact", "Price", unit=MONEY_UNIT, kind="money"),
    Column("change_pct", "Change", unit="%", kind="pct"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]


def _trend_defaults(data: QueryDict) -> QueryDict:
    """Like-for-like defaults (standard tier, base context) unless the query string says otherwise."""
    data = data.copy()
    if not data.get("service_tier"):
        data["service_tier"] = "standard"
    if not data.get("min_prompt_tokens"):
        data["min_prompt_tokens"] = "0"
    return data


CHOOSERS = ("model", "provider", "classes", "family", "size_class", "source_model_id", "offering")


@analyst_view
def trends(request: HttpRequest) -> HttpResponse:
    """Price history of chosen models, providers or classes as step lines over each price's validity."""
    now = _now()
    page = Page()
    classes_all = sel.size_classes()
    form, options = bind(TrendOptionsForm, request.GET, size_classes=classes_all)
    data = _trend_defaults(request.GET)
    # A filter that cannot be used is named in a message and dropped here, so a mistyped model
    # falls back to the starting selection instead of silently charting every price there is.
    probe = PriceFilterSet(data, queryset=Price.objects.none())
    page.errors += error_messages(form, probe.form)
    for name in probe.form.errors:
        data.pop(name, None)
    chose = any(data.getlist(name) for name in CHOOSERS) or bool(options["classes"])
    if not chose:
        defaults = list(Model.objects.filter(slug__in=DEFAULT_TREND_MODELS).values_list("slug", flat=True))
        if not defaults:
            defaults = [s for s, _ in sel.model_choices()[:1]]
        data.setlist("model", defaults)
        page.notes.append("Showing a starting selection, the cheapest offer of each provider of one model: pick "
                          "models, providers or size classes below.")
    filterset = PriceFilterSet(data, queryset=Price.objects.all())
    prices = filterset.qs
    if options["classes"]:
        prices = prices.filter(offering__alias__model__size_class__in=options["classes"])
    ratio = (options["ratio_in"], options["ratio_out"])
    component = options["component"]
    lines = options["lines"]
    models_chosen, providers_chosen = data.getlist("model"), data.getlist("provider")
    if lines == "auto":
        if options["classes"] and not models_chosen and not providers_chosen:
            lines = "class"
        elif len(models_chosen) == 1:
            lines = "provider"
        elif models_chosen:
            lines = "model"
        elif providers_chosen:
            lines = "offering" if len(providers_chosen) == 1 and (data.get("family") or data.get("size_class")) \
                else "model" if len(providers_chosen) == 1 else "provider"
        else:
            lines = "model"
    all_rows = prices.count()
    plain = sel.chart_frame(prices, component, ratio)
    steps = sel.price_steps(plain, group=lines, until=now, since=sel.history_start())
    if not steps.empty:
        series = list(dict.fromkeys(steps["series"]))
        if len(series) > MAX_SERIES:
            latest = steps.sort_values("end").groupby("series").last()["usd_per_mtok"].sort_values()
            keep = set(latest.index[:MAX_SERIES])
            steps = steps[steps["series"].isin(keep)]
            page.notes.append(f"Showing the {MAX_SERIES} cheapest of {len(series)} lines: narrow the filters to "
                              "see the rest.")
    unit = _component_unit(component, ratio)
    chart = Chart("trend", "Price history", empty=_trend_empty(all_rows, len(plain), component))
    if not steps.empty:
        chart.figure = charts.price_steps_figure(steps, unit=unit, scale=options["scale"])
        chart.summary = charts.price_steps_summary(steps, unit=unit)
        labelled = all_rows - len(plain)
        if labelled:
            chart.note = (f"{labelled} price intervals without a plain {component} price (labelled free, variable "
                          "or unknown, or zero) are not drawn.")
    page.charts.append(chart)
    table_frame = steps.assign(
        end_shown=[None if o else e for o, e in zip(steps["open_end"], steps["end"], strict=True)],
        change_pct=[(v - p) / p * 100 if p == p and p else None
                    for v, p in zip(steps["usd_per_mtok"], steps["previous_usd_per_mtok"], strict=True)],
    ) if not steps.empty else pd.DataFrame(columns=[c.key for c in STEP_TABLE_COLUMNS])
    stem = "trends-" + "-".join((models_chosen or providers_chosen or options["classes"] or ["all"])[:3])
    page.tables.append(_paginate(request, Table(
        "steps", "Price intervals drawn", STEP_TABLE_COLUMNS, table_frame.reset_index(drop=True), stem=stem,
        as_of=sel.today(), caption=f"One row per step of each line: {unit}.",
        empty_message="No price intervals match these filters.")))
    if (response := _download(request, page.tables)) is not None:
        return response
    return _render(request, "dashboard/trends.html", page, form=form, options=options, lines=lines, unit=unit,
                   classes_all=classes_all, model_choices=sel.model_choices(), provider_choices=sel.provider_choices(),
                   source_choices=sel.source_choices(priced=True), selected=_selected(data), filterset=filterset)


def _trend_empty(all_rows: int, plain_rows: int, component: str) -> str:
    if all_rows == 0:
        return "No prices match these filters: choose other models, providers or classes, or widen the tier."
    return (f"{all_rows} price intervals match, but none has a plain {component} price to draw (they are labelled "
            "free, variable or unknown, or zero).")


def _selected(data: QueryDict) -> dict[str, list[str]]:
    return {key: data.getlist(key) for key in data}


# --- provider comparison -----------------------------------------------------------------------------


def _offering_columns(ratio: tuple[int, int]) -> list[Column]:
    # Prices first, long raw ids last: the columns a buyer compares stay on screen on a laptop.
    return [
        Column("provider", "Provider", link="provider_url"),
        Column("region", "Region"),
        Column("service_tier", "Tier"),
        Column("min_prompt_tokens", "Context tier", unit="above N prompt tokens", kind="int"),
        Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
        Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
        Column("cached_input_usd_per_mtok", "Cached input", unit=MONEY_UNIT, kind="money"),
        Column("blended_usd_per_mtok", f"Blended {_blend_label(ratio)}", unit=MONEY_UNIT, kind="money"),
        Column("price_label", "Label", title="free, variable, unknown or zero: never ranked as the cheapest"),
        Column("source", "Source"),
        Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
        Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
        Column("effective_from", "Since", kind="date"),
        Column("provider_kind", "Kind"),
        Column("source_model_id", "Offering id"),
    ]


WORKLOAD_COLUMNS = [
    Column("rank", "Rank", kind="int"),
    Column("provider", "Provider", link="provider_url"),
    Column("region", "Region"),
    Column("tier_used", "Tier used"),
    Column("monthly_usd", "Monthly cost", unit="USD / month", kind="money", places=2),
    Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
    Column("cached_input_usd_per_mtok", "Cached input", unit=MONEY_UNIT, kind="money"),
    Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
    Column("source_model_id", "Offering id"),
]
EXCLUDED_COLUMNS = [
    Column("provider", "Provider", link="provider_url"),
    Column("source_model_id", "Offering id"),
    Column("region", "Region"),
    Column("service_tier", "Tier"),
    Column("price_label", "Label"),
    Column("reason", "Why not ranked", wrap=True),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]


def _default_model() -> str | None:
    if Model.objects.filter(slug=DEFAULT_COMPARE_MODEL).exists():
        return DEFAULT_COMPARE_MODEL
    choices = sel.model_choices()
    return choices[0][0] if choices else None


@analyst_view
def compare(request: HttpRequest) -> HttpResponse:
    """One canonical model across providers: every offering, a bar chart, price vs speed, a workload calculator."""
    page = Page()
    data = request.GET.copy()
    models = [m for m in data.getlist("model") if m]
    if len(models) > 1:
        page.errors.append(f"model: the comparison shows one model at a time; showing {models[0]}.")
    slug = models[0] if models else _default_model()
    if slug is None:
        return _render(request, "dashboard/compare.html", page, model=None, model_choices=[])
    data.setlist("model", [slug])
    filterset = PriceFilterSet(data, queryset=Price.objects.all())
    blend_form, blend = bind(BlendForm, request.GET)
    workload_form, work = bind(WorkloadForm, request.GET)
    page.errors += error_messages(filterset.form, blend_form, workload_form)
    model = Model.objects.filter(slug=slug).first()
    if model is None:
        raise Http404(f"No canonical model {slug!r}.")
    prices = filterset.qs
    as_of_value = filterset.form.cleaned_data.get("as_of") if filterset.is_bound else None
    as_of = _as_date(as_of_value) or sel.today()
    ratio = (blend["ratio_in"], blend["ratio_out"])
    per_source, narrowed = _per_source(request), _evidence_filters(data)
    # Every source's statement in force (the evidence); the market rows are chosen from these.
    offerings = sel.offering_prices(prices if as_of_value else prices_current(prices), ratio=ratio)
    if not per_source and (as_of_value or narrowed):
        # The market as it stood then, or as the chosen sources alone say: the policy run on those statements.
        offerings = _market_frame(sel.offers_from_rows(market_rows_as_of(as_of_value or _now(), prices)),
                                  ratio=ratio, source_rows=offerings)
        if not as_of_value:
            page.notes.append(f"Market prices from the statements these filters keep ({', '.join(narrowed)}): "
                              "other sources have no say.")
    elif not per_source:
        stored = MarketPrice.objects.filter(price_id__in=[int(i) for i in offerings["price_id"]])
        offerings = _market_frame(sel.offers_from_stored(stored), ratio=ratio, source_rows=offerings)
    if not request.GET.get("download"):  # who says what is HTML only: a download has it as "Other sources"
        offerings = agreement.with_evidence(offerings)
    offerings = _link_providers(offerings)
    columns = _offering_columns(ratio)
    if offerings.empty or not offerings["min_prompt_tokens"].any():
        columns = [c for c in columns if c.key != "min_prompt_tokens"]  # no long-context tiers: say nothing
    stem = f"compare-{model.slug}" + ("-per-source" if per_source else "")
    if per_source:
        title, rows_are = f"Every source's row for {model.name}", "Every source's current statement, one row each"
    else:
        columns = _as_market(columns, after="blended_usd_per_mtok")
        title, rows_are = (f"Every offering of {model.name}", "One row per offering (provider, region, tier): its "
                           "market price, from the source with the newest confirmation; ⚠ marks offerings the "
                           "sources disagree on (open it to see who says what)")
    table = Table("offerings", title, columns, offerings, stem=stem, as_of=as_of, sortable=True,
                  caption=f"{rows_are}. Prices in force on {as_of.isoformat()}; blended = ({ratio[0]} × input + "
                          f"{ratio[1]} × output) / {ratio[0] + ratio[1]}.",
                  empty_message=f"No provider lists a price for {model.name} on {as_of.isoformat()} with these "
                                "filters.").sorted_by(request.GET.get("sort"))
    workload = sel.Workload(input_mtok_per_month=work["input_mtok"], output_mtok_per_month=work["output_mtok"],
                            cached_share_pct=work["cached_pct"], batch=bool(work["batch"]))
    ranked, excluded = sel.monthly_costs(offerings, workload,
                                         key=sel.SOURCE_OFFER_KEY if per_source else sel.MARKET_OFFER_KEY)
    ranked, excluded = _link_providers(ranked), _link_providers(excluded)
    workload_columns, excluded_columns = WORKLOAD_COLUMNS, EXCLUDED_COLUMNS
    if not per_source:
        workload_columns = _as_market(WORKLOAD_COLUMNS, after="output_usd_per_mtok")
        excluded_columns = _as_market(EXCLUDED_COLUMNS, after="price_label")
    page.tables += [
        table,
        Table("workload", "Monthly cost of your workload", workload_columns, ranked,
              stem=f"{stem}-workload", as_of=as_of,
              caption=(f"{work['input_mtok']:,} M input tokens ({work['cached_pct']} % cached) and "
                       f"{work['output_mtok']:,} M output tokens a month"
                       + (", batch tier where offered" if workload.batch else "") + "."),
              empty_message="No offering has the input and output prices this workload needs."),
        Table("not-ranked", "Not ranked", excluded_columns, excluded, stem=f"{stem}-not-ranked",
              as_of=as_of, empty_message="Every offering was ranked."),
    ]
    if (response := _download(request, page.tables)) is not None:
        return response

    unit = f"USD per 1M tokens, blended {_blend_label(ratio)}"
    bars = Chart("bars", "Blended price by offering", empty=(
        f"No offering of {model.name} has a plain input and output price to compare."))
    rankable = offerings[sel.rankable(offerings) & (offerings["min_prompt_tokens"] == 0)] if not offerings.empty \
        else offerings
    if not rankable.empty:
        bars.figure = charts.offering_bars_figure(rankable, value="blended_usd_per_mtok", unit=unit)
        bars.summary = charts.offering_bars_summary(rankable, value="blended_usd_per_mtok", unit=unit)
        left = len(offerings) - len(rankable)
        if left:
            bars.note = (f"{left} offerings are not drawn: labelled or zero prices, missing components, or "
                         "long-context tiers (they are in the table).")
    speed = sel.price_vs_speed(offerings, sel.speed_for_model(model))
    speed_chart = Chart("speed", "Price against measured speed", empty=(
        f"No benchmark measures {model.name} at a provider that lists a price for it, so there is no speed to "
        "plot. LLMPerf covers Llama 2 models; see the Benchmarks page."))
    if not speed.empty:
        speed_chart.figure = charts.price_vs_speed_figure(speed, unit=unit)
        speed_chart.summary = charts.price_vs_speed_summary(speed)
    cost_chart = Chart("monthly", "Monthly cost, cheapest first", empty="No offering can be ranked for this workload.")
    if not ranked.empty:
        cost_chart.figure = charts.monthly_cost_figure(ranked)
        cost_chart.summary = charts.monthly_cost_summary(ranked)
        if len(ranked) > 15:
            cost_chart.note = f"The 15 cheapest of {len(ranked)} ranked offerings; the table has them all."
    page.charts += [bars, speed_chart, cost_chart]
    return _render(request, "dashboard/compare.html", page, model=model, model_choices=sel.model_choices(),
                   top=ranked.head(5).to_dict("records"), ranked_count=len(ranked), per_source=per_source,
                   blend_form=blend_form, blend=blend, workload_form=workload_form, work=work, as_of=as_of,
                   as_of_given=bool(as_of_value), filterset=filterset, selected=_selected(request.GET),
                   kind_choices=Provider.Kind.choices, source_choices=sel.source_choices(priced=True))


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return None


# --- benchmarks -------------------------------------------------------------------------------------

SEED_COLUMNS = [
    Column("serving_stack", "Serving stack"),
    Column("hardware", "Hardware"),
    Column("model", "Model"),
    Column("tokens_per_s", "Throughput", unit="output tokens/s", kind="number", places=0),
    Column("p99_latency_ms", "P99 latency", unit="ms", kind="number", places=0),
    Column("reported_usd_per_mtok", "Cost", unit=MONEY_UNIT, kind="money"),
    Column("cost_is_estimate", "Estimate", kind="bool"),
    Column("implied_usd_per_hour", "Implied hardware price", unit="USD / hour", kind="money", places=2),
    Column("source", "Source"),
    Column("source_label", "Published by"),
    Column("observed_at", "Snapshot", unit="observed", kind="date"),
]
LLMPERF_COLUMNS = [
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model"),
    Column("request_tokens_per_s_mean", "Per-request speed", unit="tokens/s, mean", kind="number", places=1),
    Column("ttft_p50_ms", "TTFT", unit="ms, median", kind="number", places=0),
    Column("p99_latency_ms", "P99 end-to-end latency", unit="ms", kind="number", places=0),
    Column("tokens_per_s", "System throughput", unit="tokens/s", kind="number", places=1),
    Column("error_rate", "Errors", unit="%", kind="pct"),
    Column("mostly_failed", "Mostly failed", kind="bool"),
    Column("workload", "Workload"),
    Column("measured_at", "Measured", kind="date"),
    Column("source", "Source"),
]
HOSTING_COLUMNS = [
    Column("serving_stack", "Serving stack"),
    Column("hardware", "Hardware"),
    Column("provider", "Hardware provider"),
    Column("instance_type", "Instance"),
    Column("pricing_model", "Pricing"),
    Column("regions", "Regions", wrap=True),
    Column("usd_per_hour", "Hourly price", unit="USD / hour", kind="money", places=4),
    Column("tokens_per_s", "Throughput", unit="tokens/s", kind="number", places=0),
    Column("utilisation_pct", "Utilisation", unit="%", kind="pct", places=0),
    Column("usd_per_mtok", "Cost", unit=MONEY_UNIT, kind="money", places=4),
    Column("reported_usd_per_mtok", "Reported cost", unit=MONEY_UNIT, kind="money"),
    Column("price_source", "Price source"),
    Column("price_observed_at", "Price observed", kind="date"),
]
CURVE_COLUMNS = [
    Column("mtok_per_month", "Volume", unit="M tokens / month", kind="number", places=1),
    Column("self_host_usd_per_month", "Self-host", unit="USD / month", kind="money", places=2),
    Column("api_usd_per_month", "API", unit="USD / month", kind="money", places=2),
]
_SIZE = re.compile(r"(\d+)b", re.IGNORECASE)


def _size_b(model: str, parameter_count: object) -> int | None:
    if parameter_count is not None and parameter_count == parameter_count:
        return int(parameter_count)
    match = _SIZE.search(model or "")
    return int(match.group(1)) if match else None


@analyst_view
def benchmarks(request: HttpRequest) -> HttpResponse:
    """Seed benchmark spreads, LLMPerf runs, self-hosting cost from hardware prices, and the break-even curve."""
    page = Page()
    as_of = sel.today()
    seed_runs = list(bench.benchmark_runs(source_key="benchmarks-csv"))
    seed = bench.runs_frame(seed_runs)
    if not seed.empty:
        implied = bench.implied_hourly_prices(seed_runs)
        seed = seed.merge(implied[["run_id", "implied_usd_per_hour"]], on="run_id", how="left") \
            if not implied.empty else seed.assign(implied_usd_per_hour=None)
    spreads = bench.run_spreads(seed_runs) if seed_runs else None

    filterset = BenchmarkRunFilterSet(request.GET, queryset=bench.benchmark_runs(source_key="llmperf"))
    runs = list(filterset.qs.select_related("alias__model", "provider", "hardware", "source", "snapshot")
                .defer("snapshot__content"))
    llm = bench.runs_frame(runs)
    if not llm.empty:
        params = {r.pk: (r.alias.model.parameter_count_b if r.alias.model_id else None) for r in runs}
        llm["model"] = [m or sid for m, sid in zip(llm["model"], [r.source_model_id for r in runs], strict=True)]
        llm["size_b"] = [_size_b(m, params.get(rid)) for m, rid in zip(llm["model"], llm["run_id"], strict=True)]
        llm["provider_slug"] = [r.provider.slug if r.provider_id else "" for r in runs]
        llm["request_tokens_per_s_mean"] = [r.request_tokens_per_s_mean for r in runs]
        llm["workload"] = [f"{r.input_tokens} in / {r.output_tokens} out, {r.concurrency} concurrent" for r in runs]
        llm["error_rate"] = [r.error_rate * 100 if r.error_rate is not None else None for r in runs]
        llm = _link_providers(llm.sort_values(["provider", "size_b"], kind="stable").reset_index(drop=True))

    hosts = [r for r in seed_runs if r.hardware_id and r.tokens_per_s]
    run_choices = [(r.pk, f"{r.serving_stack or r.source_model_id} on {r.hardware} ({r.tokens_per_s:,.0f} tokens/s)")
                   for r in hosts]
    be_form = BreakEvenForm(request.GET, runs=run_choices)
    be_form.is_valid()
    run_id = be_form.cleaned_data.get("run") if "run" not in be_form.errors else None
    run = next((r for r in hosts if r.pk == run_id), None) or (
        next((r for r in hosts if (r.serving_stack or "").lower() == "vllm"), None) or (hosts[0] if hosts else None))
    hw_prices = list(bench.matching_hardware_prices(run)) if run else []
    hw_prices.sort(key=lambda p: (p.usd_per_hour, p.offering.region))
    hw_choices = _hardware_choices(hw_prices)
    api_model = _api_model(run)
    api_offers = _api_offers(api_model)
    api_choices = [(int(r["price_id"]), f"{r['provider']}{' (' + r['region'] + ')' if r['region'] else ''} · "
                                        f"{charts.money(r['blended_usd_per_mtok'])}/1M blended · {r['source']}")
                   for r in api_offers]
    be_form, be = bind(BreakEvenForm, request.GET, runs=run_choices, hardware_prices=hw_choices,
                       api_prices=api_choices)
    page.errors += error_messages(filterset.form, be_form)
    utilisation = Decimal(be["utilisation_pct"]) / 100
    hosting = sel.same_price_once(bench.self_hosting_costs(runs=hosts, utilisation=utilisation))
    chosen_price = next((p for p in hw_prices if p.pk == be["hardware_price"]), hw_prices[0] if hw_prices else None)
    chosen_api = next((r for r in api_offers if r["price_id"] == be["api_price"]),
                      api_offers[0] if api_offers else None)
    result = None
    if run is not None and chosen_price is not None:
        result = _self_host_vs(run=run, usd_per_hour=chosen_price.usd_per_hour, utilisation=utilisation,
                               api=chosen_api)

    page.tables += [
        Table("seed", "The seed article's serving stacks", SEED_COLUMNS, seed, stem="benchmarks-seed", as_of=as_of,
              empty_message="No seed benchmark table loaded (source benchmarks-csv)."),
        Table("llmperf", "LLMPerf runs", LLMPERF_COLUMNS, llm, stem="benchmarks-llmperf", as_of=as_of,
              empty_message="No LLMPerf runs match these filters."),
        Table("hosting", "Cost per 1M tokens from hardware prices", HOSTING_COLUMNS, hosting,
              stem="benchmarks-self-hosting", as_of=as_of,
              caption=f"usd_per_mtok = usd_per_hour / (tokens_per_s × {be['utilisation_pct']} % × 3600) × 1e6.",
              empty_message="No benchmark run matches an instance in the hardware price sheets."),
        Table("break-even", "Self-host vs API by monthly volume", CURVE_COLUMNS,
              result.curve if result is not None else pd.DataFrame(), stem="benchmarks-break-even", as_of=as_of,
              empty_message="No break-even curve: it needs a run with hardware, a price for that hardware and an "
                            "API price for the model."),
    ]
    if (response := _download(request, page.tables)) is not None:
        return response

    bubbles = Chart("seed", "Throughput vs P99 latency vs cost", empty=(
        "No seed benchmark runs with throughput and latency: upload the benchmarks CSV."))
    plotted = seed[seed["tokens_per_s"].notna() & seed["p99_latency_ms"].notna()] if not seed.empty else seed
    if not plotted.empty:
        bubbles.figure = charts.benchmark_bubbles_figure(plotted)
        bubbles.summary = charts.benchmark_bubbles_summary(plotted, spreads)
        if spreads is not None and not spreads.comparable:
            bubbles.note = "Not comparable: " + "; ".join(spreads.reasons) + "."
    perf = Chart("llmperf", "LLMPerf: per-request speed vs time to first token",
                 empty="No LLMPerf runs match these filters.")
    if not llm.empty and llm["ttft_p50_ms"].notna().any():
        drawn = llm[llm["ttft_p50_ms"].notna() & llm["request_tokens_per_s_mean"].notna()]
        perf.figure = charts.llmperf_figure(drawn)
        perf.summary = charts.llmperf_summary(drawn)
        perf.note = "Marker size grows with model size (7B, 13B, 70B). All runs share one workload: " + \
            "; ".join(sorted(set(llm["workload"]))) + "."
    host_chart = Chart("hosting", "Cost per 1M tokens on rented hardware",
                       empty="No benchmark run matches an instance in the hardware price sheets.")
    if not hosting.empty:
        host_chart.figure = charts.self_host_cost_figure(hosting)
        host_chart.summary = charts.self_host_cost_summary(hosting)
    curve = Chart("break-even", "Self-host vs API: monthly cost", empty=(
        "No break-even curve: it needs a benchmark run with hardware, an hourly price for that hardware and an API "
        "price for the model."))
    if result is not None and run is not None and chosen_price is not None:
        hosting_label = (f"{run.serving_stack} on {chosen_price.offering.provider.name} "
                         f"{chosen_price.offering.instance_type} at {charts.money(chosen_price.usd_per_hour)}/h, "
                         f"{be['utilisation_pct']} % utilised")
        api_label = (f"{result.api.provider} {result.api.source_model_id} at "
                     f"{charts.money(result.api.blended_usd_per_mtok)}/1M" if result.api else "no API price")
        curve.figure = charts.break_even_figure(result.curve, break_even=result.break_even_mtok_per_month,
                                                api_label=api_label, hosting_label=hosting_label)
        curve.summary = charts.break_even_summary(
            break_even=result.break_even_mtok_per_month, api_label=api_label, hosting_label=hosting_label,
            self_host_usd_per_mtok=result.hosting.usd_per_mtok,
            api_usd_per_mtok=result.api.blended_usd_per_mtok if result.api else None)
    page.charts += [bubbles, perf, host_chart, curve]
    return _render(request, "dashboard/benchmarks.html", page, spreads=spreads, filterset=filterset, be_form=be_form,
                   be=be, run=run, api_model=api_model, result=result, chosen_price=chosen_price,
                   chosen_api=chosen_api,
                   selected=_selected(request.GET), provider_choices=_llmperf_providers(),
                   size_classes=sel.size_classes())


def _hardware_choices(prices: list[HardwarePrice]) -> list[tuple[int, str]]:
    seen: dict[tuple[object, ...], int] = {}
    choices = []
    for price in prices:
        offering = price.offering
        key = (offering.provider_id, offering.instance_type, offering.pricing_model, price.usd_per_hour)
        if key in seen:
            continue
        seen[key] = price.pk
        choices.append((price.pk, f"{offering.provider.name} {offering.instance_type} ({offering.pricing_model}) "
                                  f"{charts.money(price.usd_per_hour)}/h · {offering.source.key}"))
    return choices


def _api_offers(model: Model | None) -> list[dict[str, Any]]:
    """The model's plain, standard-tier, base-context offers in force now, cheapest blended (3:1) first."""
    if model is None:
        return []
    offers = sel.offering_prices(prices_current(Price.objects.filter(offering__alias__model=model)), ratio=(3, 1))
    offers = offers[sel.rankable(offers) & (offers["service_tier"] == "standard") & (offers["min_prompt_tokens"] == 0)]
    offers = offers.assign(_f=offers["blended_usd_per_mtok"].map(float)).sort_values("_f", kind="stable")
    return offers.drop(columns=["_f"]).to_dict("records")


def _self_host_vs(*, run: BenchmarkRun, usd_per_hour: Decimal, utilisation: Decimal,
                  api: dict[str, Any] | None) -> bench.SelfHostVsApi:
    """The economics colleague's break-even, against the API offer the user picked (the cheapest by default)."""
    from apps.benchmarks import economics

    hosting = economics.SelfHosting(usd_per_hour=usd_per_hour, tokens_per_s=run.tokens_per_s, utilisation=utilisation)
    offer = None
    if api is not None:
        offer = bench.ApiOffer(
            price_id=api["price_id"], offering_id=api["offering_id"], provider=api["provider"],
            source_model_id=api["source_model_id"], service_tier=api["service_tier"],
            input_usd_per_mtok=api["input_usd_per_mtok"], output_usd_per_mtok=api["output_usd_per_mtok"],
            blended_usd_per_mtok=api["blended_usd_per_mtok"], source=api["source"],
            effective_from=api["effective_from"])
    break_even = (economics.break_even_mtok_per_month(hosting=hosting, api_usd_per_mtok=offer.blended_usd_per_mtok)
                  if offer is not None else None)
    return bench.SelfHostVsApi(api=offer, hosting=hosting, break_even_mtok_per_month=break_even,
                               curve=bench.cost_curve(hosting=hosting, api=offer, break_even=break_even))


def _api_model(run: BenchmarkRun | None) -> Model | None:
    """The model whose API prices a self-hosted run is compared with: the run's own, else Llama 3 70B Instruct."""
    if run is not None and run.alias.model_id:
        return run.alias.model
    return Model.objects.filter(slug=DEFAULT_COMPARE_MODEL).first()


def _llmperf_providers() -> list[tuple[str, str]]:
    return list(Provider.objects.filter(benchmark_runs__source__key="llmperf").distinct().order_by("name")
                .values_list("slug", "name"))


# --- market --------------------------------------------------------------------------------------------

SIZE_COLUMNS = [
    Column("segment", "Segment"),
    Column("year", "Year", kind="year"),
    Column("kind", "Kind"),
    Column("value_usd_bn", "Size", unit="USD bn", kind="number", places=3),
    Column("driver", "Driver", wrap=True),
    Column("source", "Source"),
    Column("source_label", "Published by"),
    Column("observed_at", "Snapshot", unit="observed", kind="date"),
]
CAGR_COLUMNS = [
    Column("segment", "Segment"),
    Column("start_year", "From", kind="year"),
    Column("end_year", "To", kind="year"),
    Column("start_usd_bn", "Start size", unit="USD bn", kind="number", places=3),
    Column("end_usd_bn", "End size", unit="USD bn", kind="number", places=3),
    Column("stated_cagr_pct", "Stated CAGR", unit="%", kind="pct", places=2),
    Column("implied_cagr_pct", "Implied CAGR", unit="%", kind="pct", places=2),
    Column("gap_pp", "Gap", unit="percentage points", kind="number", places=2),
    Column("disagrees", "Disagree", kind="bool", badge=True, title="More than one percentage point apart"),
    Column("source", "Source"),
    Column("observed_at", "Snapshot", unit="observed", kind="date"),
]
PROJECTION_COLUMNS = [
    Column("segment", "Segment"),
    Column("year", "Year", kind="year"),
    Column("rate", "Rate"),
    Column("cagr_pct", "CAGR", unit="%", kind="pct", places=2),
    Column("value_usd_bn", "Projected size", unit="USD bn", kind="number", places=1),
]
SHARE_COLUMNS = [
    Column("year", "Year", kind="year"),
    Column("segment", "Segment"),
    Column("value_usd_bn", "Size", unit="USD bn", kind="number", places=1),
    Column("total_usd_bn", "Total", unit="USD bn", kind="number", places=1),
    Column("share_pct", "Share", unit="%", kind="pct", places=1),
    Column("projected", "Projected", kind="bool"),
]


@analyst_view
def market(request: HttpRequest) -> HttpResponse:
    """Segment sizes, stated vs implied CAGR, projections to a chosen year, and shares of the total."""
    page = Page()
    as_of = sel.today()
    form, options = bind(MarketForm, request.GET)
    filterset = SizeEstimateFilterSet(request.GET, queryset=market_selectors.size_estimates())
    page.errors += error_messages(form, filterset.form)
    rows = [{"segment": s.segment.name, "year": s.year, "value_usd_bn": s.value_usd_bn, "kind": s.kind,
             "driver": s.driver, "source": s.source.key, "source_label": s.source_label,
             "observed_at": s.snapshot.observed_at} for s in filterset.qs]
    sizes = pd.DataFrame(rows, columns=[c.key for c in SIZE_COLUMNS])
    segments = set(sizes["segment"])
    year, rate = options["project_to"], options["rate"]
    cagr = market_selectors.cagr_table()
    cagr = cagr[cagr["segment"].isin(segments)].reset_index(drop=True)
    base_year = int(sizes["year"].min()) if not sizes.empty else year
    years = list(range(min(base_year, year), max(base_year, year) + 1))
    projected = market_selectors.projections(years=years, rate=rate)
    projected = projected[projected["segment"].isin(segments)].reset_index(drop=True)
    share_years = sorted({*(int(y) for y in sizes["year"]), year}) if not sizes.empty else []
    shares = market_selectors.segment_shares(years=share_years, rate=rate) if share_years else pd.DataFrame()
    if not shares.empty:
        shares = shares[shares["segment"].isin(segments)].reset_index(drop=True)
    if rate == "stated" and not projected.empty and projected["segment"].nunique() < len(segments):
        page.notes.append("Segments without a stated CAGR from their base year are not projected at the stated rate.")
    page.tables += [
        Table("sizes", "Segment sizes by year", SIZE_COLUMNS, sizes, stem="market-sizes", as_of=as_of,
              empty_message="No market sizes loaded: upload a market CSV (source market-csv)."),
        Table("cagr", "Stated vs implied growth", CAGR_COLUMNS, cagr, stem="market-cagr", as_of=as_of,
              empty_message="No source states a growth rate for these segments."),
        Table("projections", f"Projection to {year}", PROJECTION_COLUMNS,
              projected[projected["year"] == year].reset_index(drop=True) if not projected.empty else projected,
              stem=f"market-projection-{year}", as_of=as_of,
              empty_message="No segment has a base size and a growth rate to project from."),
        Table("shares", "Share of the total", SHARE_COLUMNS, shares, stem="market-shares", as_of=as_of,
              empty_message="No sizes to share out."),
    ]
    if (response := _download(request, page.tables)) is not None:
        return response
    size_chart = Chart("sizes", "Segment sizes: actual and projected", empty=(
        "No market sizes loaded: upload a market CSV (source market-csv)."))
    if not sizes.empty:
        size_chart.figure = charts.market_sizes_figure(sizes)
        size_chart.summary = charts.market_sizes_summary(sizes)
    cagr_chart = Chart("cagr", "Stated vs implied CAGR", empty="No source states a growth rate for these segments.")
    if not cagr.empty:
        cagr_chart.figure = charts.cagr_figure(cagr)
        cagr_chart.summary = charts.cagr_summary(cagr)
    projection_chart = Chart("projection", f"Projection to {year} ({rate} CAGR)", empty=(
        "No segment has a base size and a growth rate to project from."))
    if not projected.empty:
        projection_chart.figure = charts.projection_figure(projected, sizes, rate=rate)
        projection_chart.summary = charts.projection_summary(projected, year=year, rate=rate)
    share_chart = Chart("shares", "Share of the total", empty="No sizes to share out.")
    if not shares.empty:
        share_chart.figure = charts.share_figure(shares)
        share_chart.summary = charts.share_summary(shares)
        if rate == "stated" and shares["projected"].any():
            share_chart.note = "Years without stated sizes are filled by projection (hatched)."
    page.charts += [size_chart, cagr_chart, projection_chart, share_chart]
    return _render(request, "dashboard/market.html", page, form=form, options=options, filterset=filterset,
                   segment_choices=list(Segment.objects.values_list("slug", "name")),
                   selected=_selected(request.GET))


# --- sources -----------------------------------------------------------------------------------------

SOURCE_TABLE_COLUMNS = [
    Column("name", "Source"),
    Column("key", "Key"),
    Column("format", "Format"),
    Column("freshness", "Freshness", badge=True,
           title="By the date of the newest data against the source's limit, not by when it was last fetched"),
    # The data's date and the last look side by side: a file fetched a minute ago can be months old.
    Column("data_as_of", "Newest data", unit="UTC", kind="date",
           title="The document's own date where its format states one, else when it was last seen"),
    Column("last_fetched_at", "Last fetched", unit="UTC", kind="datetime",
           title="When tokenwatch last got a document from the source (a fetch or a file; the same bytes count)"),
    Column("held", "Held for review", kind="int", title="Snapshots waiting for a curator to accept or reject"),
    Column("freshness_note", "Why", wrap=True),
    Column("last_run_at", "Last attempt", unit="UTC", kind="datetime",
           title="The last fetch or file ingest, whatever its outcome"),
    Column("last_run_status", "Outcome", badge=True),
    Column("schedule", "Schedule", unit="cron, UTC"),
    Column("snapshots", "Snapshots", kind="int"),
    Column("failed_snapshots", "Failed", kind="int"),
    Column("offerings", "Offerings", kind="int"),
    Column("rejections", "Rejected rows", kind="int"),
    Column("latest_snapshot_id", "Latest snapshot", kind="int", link="raw_url"),
    Column("licence", "Licence"),
]
HELD_COLUMNS = [
    Column("source", "Source"),
    Column("observed_at", "Observed", unit="UTC", kind="datetime"),
    Column("id", "Snapshot", kind="int", link="review_url"),
    Column("filename", "File"),
    Column("record_count", "Records", kind="int"),
    Column("error", "Reason", wrap=True),
]
SNAPSHOT_COLUMNS = [
    Column("source", "Source"),
    Column("observed_at", "Observed", unit="UTC", kind="date"),
    Column("id", "Snapshot", kind="int", link="raw_url"),
    Column("filename", "File"),
    Column("parse_status", "Status", badge=True),
    Column("record_count", "Records", kind="int"),
    Column("reject_count", "Rejected", kind="int"),
    Column("created_count", "Created", kind="int"),
    Column("changed_count", "Changed", kind="int"),
    Column("unchanged_count", "Unchanged", kind="int"),
    Column("error", "Error", wrap=True),
    Column("sha256", "SHA-256"),
]
REJECTION_COLUMNS = [
    Column("source", "Source"),
    Column("snapshot_id", "Snapshot", kind="int", link="raw_url"),
    Column("observed_at", "Observed", kind="date"),
    Column("filename", "File"),
    Column("locator", "Locator"),
    Column("reason", "Reason", wrap=True),
    Column("raw_excerpt", "Excerpt", wrap=True),
]


@analyst_view
def sources(request: HttpRequest) -> HttpResponse:
    """Every source's health, its snapshots, and every quarantined row with its locator and reason."""
    page = Page()
    as_of = sel.today()
    source_filter = SourceFilterSet(request.GET, queryset=Source.objects.all())
    snapshot_filter = SnapshotFilterSet(request.GET, queryset=Snapshot.objects.all())
    rejection_filter = RejectionFilterSet(request.GET, queryset=Rejection.objects.all())
    page.errors += error_messages(source_filter.form, snapshot_filter.form, rejection_filter.form)
    keys = set(source_filter.qs.values_list("key", flat=True))
    chosen = set(request.GET.getlist("source"))
    health = sel.source_health()
    health = health[health["key"].isin(keys & chosen if chosen else keys)]
    # What needs a person first: no data, a failed fetch, old data; then the healthy and the unloaded.
    severity = {"never": 0, "stale": 2, "fresh": 3, "manual": 4}
    order = [1 if failed and fresh != "never" else severity[fresh]
             for failed, fresh in zip(health["last_run_failed"], health["freshness"], strict=True)]
    health = health.assign(_order=order).sort_values(["_order", "key"], kind="stable")
    health = health.drop(columns=["_order"]).reset_index(drop=True)
    staff = request.user.is_staff

    def raw(ids: pd.Series) -> list[str | None]:
        return [reverse("snapshot-raw", args=[int(i)]) if staff and i == i and i is not None else None for i in ids]

    health["raw_url"] = raw(health["latest_snapshot_id"])
    snaps = pd.DataFrame(list(snapshot_filter.qs.order_by("-observed_at", "-id").values(
        "id", "source__key", "observed_at", "filename", "parse_status", "record_count", "reject_count",
        "created_count", "changed_count", "unchanged_count", "error", "sha256")),
        columns=["id", "source__key", "observed_at", "filename", "parse_status", "record_count", "reject_count",
                 "created_count", "changed_count", "unchanged_count", "error", "sha256"]).rename(
        columns={"source__key": "source"})
    snaps["raw_url"] = raw(snaps["id"])
    rejections = sel.rejection_frame(rejection_filter.qs)
    rejections["raw_url"] = raw(rejections["snapshot_id"])
    held = sel.held_frame(snapshot_filter.qs)
    # Staff open the snapshot's admin page (its sightings, rejections, bytes); the Accept and Reject actions
    # run from the admin's list of held snapshots, linked in the page's held-for-review notice.
    held["review_url"] = [reverse("admin:sources_snapshot_change", args=[int(i)]) if staff else None
                          for i in held["id"]]
    page.tables += [
        Table("sources", "Sources", SOURCE_TABLE_COLUMNS, health, stem="sources", as_of=as_of,
              caption="Fresh or stale by the date of each source's newest data; last fetched is when tokenwatch "
                      "last looked."),
        Table("held", "Held for review", HELD_COLUMNS, held, stem="sources-held", as_of=as_of,
              caption="Snapshots that would end too much of a source's current prices are held, not applied, "
                      "until a curator accepts or rejects them." + (
                          " A snapshot's number opens it in the admin." if staff else ""),
              empty_message="No snapshot is held for review."),
        _paginate(request, Table("snapshots", "Snapshots", SNAPSHOT_COLUMNS, snaps, stem="sources-snapshots",
                                 as_of=as_of, empty_message="No snapshots match these filters."),
                  param="snapshots_page"),
        _paginate(request, Table("rejections", "Rejected rows (quarantine)", REJECTION_COLUMNS, rejections,
                                 stem="sources-rejections", as_of=as_of,
                                 empty_message="No rejected rows match these filters: every row parsed."),
                  param="rejections_page"),
    ]
    if (response := _download(request, page.tables)) is not None:
        return response
    return _render(request, "dashboard/sources.html", page, staff=staff, source_choices=sel.source_choices(),
                   selected=_selected(request.GET), rejection_filter=rejection_filter, held_count=len(held))


# --- models and providers ---------------------------------------------------------------------------

HISTORY_COLUMNS = [
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model", link="model_url"),
    Column("source_model_id", "Offering id"),
    Column("region", "Region"),
    Column("service_tier", "Tier"),
    Column("min_prompt_tokens", "Context tier", unit="above N prompt tokens", kind="int"),
    Column("effective_from", "From", unit="UTC, empty = not stated", kind="date"),
    Column("effective_to", "To", unit="UTC, empty = current", kind="date"),
    Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
    Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
    Column("cached_input_usd_per_mtok", "Cached input", unit=MONEY_UNIT, kind="money"),
    Column("price_label", "Label"),
    Column("basis", "Dates from"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]


def _without_empty_tiers(columns: list[Column], *frames: pd.DataFrame) -> list[Column]:
    """Leave out the context-tier column when no row has a long-context tier: a column of zeros says nothing."""
    if any(not f.empty and f["min_prompt_tokens"].any() for f in frames):
        return columns
    return [c for c in columns if c.key != "min_prompt_tokens"]


def _detail_tables(request: HttpRequest, prices: Any, *, stem: str, ratio: tuple[int, int],
                   drop: str, markets: QuerySet[MarketPrice]) -> tuple[Table, Table]:
    as_of = sel.today()
    per_source = _per_source(request)
    current = sel.offering_prices(prices_current(prices), ratio=ratio)
    if not per_source:
        # One row per market offering; offerings with no canonical model have no market row and are listed
        # as their source states them.
        current = _market_frame(sel.offers_from_stored(markets), ratio=ratio, source_rows=current,
                                extra=sel.unresolved_offering_prices(current))
    current = _link_models(_link_providers(current))
    history = _link_models(_link_providers(sel.history_frame(prices, ratio=ratio)))
    for frame in (current, history):
        if not frame.empty:
            frame["model"] = frame["model"].replace("", "(unresolved id)")
    columns = [c for c in _offering_columns(ratio) if c.key != drop]
    if drop == "provider":
        # A provider's page lists its models: name the model and the provider's own id for it first.
        first = [Column("model", "Model", link="model_url"), Column("source_model_id", "Offering id")]
        columns = first + [c for c in columns if c.key not in ("source_model_id", "provider_kind")]
    title, caption = "Every source's current price", "Every source's current statement, one row each."
    if not per_source:
        columns = _as_market(columns, after="blended_usd_per_mtok")
        title, caption = "Offerings and current prices", (
            "One row per offering: its market price, from the source with the newest confirmation; ⚠ marks "
            "offerings the sources disagree on (open it to see who says what).")
    now = _paginate(request, Table("current", title, _without_empty_tiers(columns, current), current,
                                   stem=f"{stem}-current" + ("-per-source" if per_source else ""), as_of=as_of,
                                   sortable=True, caption=caption,
                                   empty_message="No price is in force now.").sorted_by(request.GET.get("sort")),
                    param="current_page")
    if not request.GET.get("download"):
        now.frame = agreement.with_evidence(now.frame)  # who says what (HTML), for the rows of this page only
    history_columns = _without_empty_tiers([c for c in HISTORY_COLUMNS if c.key != drop], history)
    full = _paginate(request, Table("history", "Full price history", history_columns, history,
                                    stem=f"{stem}-history", as_of=as_of, empty_message="No price history."),
                     param="history_page")
    return now, full


def _detail_page(request: HttpRequest, prices: QuerySet[Price], *, stem: str, drop: str,
                 markets: QuerySet[MarketPrice]) -> tuple[Page, dict[str, Any], tuple[int, int]]:
    """A detail page's start: the blend options bound, and its current-price and history tables."""
    page = Page()
    blend_form, blend = bind(BlendForm, request.GET)
    page.errors += error_messages(blend_form)
    ratio = (blend["ratio_in"], blend["ratio_out"])
    page.tables += _detail_tables(request, prices, stem=stem, ratio=ratio, drop=drop, markets=markets)
    return page, blend, ratio


def _history_chart_frame(request: HttpRequest, prices: QuerySet[Price], ratio: tuple[int, int]) -> pd.DataFrame:
    """Blended chart rows: the market price over time (one answer per offering at each moment), or every
    source's row with ?per_source=1."""
    if _per_source(request):
        return sel.chart_frame(prices, "blended", ratio)
    return sel.market_chart_frame(prices, "blended", ratio, until=_now(), since=sel.history_start())


@analyst_view
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = get_object_or_404(Model, slug=slug)
    prices = Price.objects.filter(offering__alias__model=model)
    page, blend, ratio = _detail_page(request, prices, stem=f"model-{model.slug}", drop="model",
                                      markets=MarketPrice.objects.filter(model=model))
    if (response := _download(request, page.tables)) is not None:
        return response
    frame = _history_chart_frame(request, sel.base_chat_prices(prices), ratio)
    steps = sel.price_steps(frame, group="provider", until=_now(), since=sel.history_start())
    unit = _component_unit("blended", ratio)
    chart = Chart("history", "Cheapest price per provider over time" + (
        " (every source's row)" if _per_source(request) else " (market prices)"), empty=(
        f"No plain input and output prices for {model.name} in the standard tier: see the tables for labelled "
        "or other-tier prices."))
    if not steps.empty:
        chart.figure = charts.price_steps_figure(steps, unit=unit)
        chart.summary = charts.price_steps_summary(steps, unit=unit)
    page.charts.append(chart)
    return _render(request, "dashboard/model_detail.html", page, model=model, blend=blend, unit=unit,
                   per_source=_per_source(request),
                   aliases=list(model.aliases.select_related("source").order_by("source__key", "raw_id")
                                .values_list("source__key", "raw_id", "status")))


@analyst_view
def provider_detail(request: HttpRequest, slug: str) -> HttpResponse:
    provider = get_object_or_404(Provider, slug=slug)
    prices = Price.objects.filter(offering__provider=provider)
    page, blend, ratio = _detail_page(request, prices, stem=f"provider-{provider.slug}", drop="provider",
                                      markets=MarketPrice.objects.filter(provider=provider))
    if (response := _download(request, page.tables)) is not None:
        return response
    frame = _history_chart_frame(request, sel.base_chat_prices(prices).filter(offering__alias__model__isnull=False),
                                 ratio)
    unit = _component_unit("blended", ratio)
    chart = Chart("history", "Price history of its most re-priced models", empty=(
        f"No plain input and output prices of canonical models from {provider.name} in the standard tier."))
    if not frame.empty:
        busiest = frame.groupby("model_slug")["price_id"].count().sort_values(ascending=False)
        keep = list(busiest.index[:10])
        steps = sel.price_steps(frame[frame["model_slug"].isin(keep)], group="model", until=_now(),
                                since=sel.history_start())
        if not steps.empty:
            chart.figure = charts.price_steps_figure(steps, unit=unit)
            chart.summary = charts.price_steps_summary(steps, unit=unit)
            if len(busiest) > 10:
                chart.note = f"The 10 models with the most price intervals of {len(busiest)}; the tables list all."
    page.charts.append(chart)
    benchmarks_here = BenchmarkRun.objects.filter(provider=provider).count()
    return _render(request, "dashboard/provider_detail.html", page, provider=provider, blend=blend, unit=unit,
                   benchmarks_here=benchmarks_here, per_source=_per_source(request),
                   kind_label=dict(Provider.Kind.choices).get(provider.kind, provider.kind))


PROVIDER_LIST_COLUMNS = [
    Column("name", "Provider", link="provider_url"),
    Column("kind", "Kind"),
    Column("offerings", "Offerings", kind="int"),
    Column("models", "Canonical models", kind="int"),
    Column("primary_offering", "Primary offering", wrap=True),
]


@analyst_view
def provider_list(request: HttpRequest) -> HttpResponse:
    page = Page()
    filterset = ProviderFilterSet(request.GET, queryset=Provider.objects.all())
    page.errors += error_messages(filterset.form)
    slugs = set(filterset.qs.values_list("slug", flat=True))
    frame = sel.providers_frame()
    frame = _link_providers(frame[frame["slug"].isin(slugs)].reset_index(drop=True), slug="slug")
    page.tables.append(Table("providers", "Providers", PROVIDER_LIST_COLUMNS, frame, stem="providers",
                             as_of=sel.today(), sortable=True, empty_message="No provider matches.")
                       .sorted_by(request.GET.get("sort")))
    if (response := _download(request, page.tables)) is not None:
        return response
    return _render(request, "dashboard/provider_list.html", page, kind_choices=Provider.Kind.choices,
                   selected=_selected(request.GET))


# --- raw bytes ----------------------------------------------------------------------------------------


@staff_member_required
def snapshot_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The raw bytes exactly as fetched, for tracing any number to its document."""
    snapshot = get_object_or_404(Snapshot.objects.select_related("source"), pk=pk)
    response = HttpResponse(bytes(snapshot.content), content_type="application/octet-stream")
    name = snapshot.filename or f"{snapshot.source.key}-{snapshot.observed_at:%Y%m%dT%H%M}-{snapshot.sha256[:8]}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = snapshot.sha256
    return response
