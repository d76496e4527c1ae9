"""A model's page (/models/<slug>/) and a provider's page (/providers/<slug>/): the offerings in force with their
market prices (or every source's row with ``?per_source=1``), the full price history, and a step chart of the
blended price over time; plus the staff-only raw bytes of a snapshot (/snapshots/<pk>/raw/). Downloads:
``current``, ``history``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from apps.catalog.models import Model, Provider
from apps.fx import dashboard as fx
from apps.pricing.models import MarketPrice, Price
from apps.pricing.selectors import prices_current
from apps.sources.models import Snapshot

from .. import agreement, charts
from .. import selectors as sel
from ..access import analyst_view
from ..errors import missing
from ..forms import BlendForm, bind, error_messages
from ..tables import Column, Table
from .common import (
    FIRST_SEEN,
    LAST_CONFIRMED,
    MONEY_UNIT,
    Chart,
    Page,
    as_market,
    component_unit,
    current_time,
    download_response,
    link_models,
    link_providers,
    market_frame,
    name_unresolved,
    offering_columns,
    paginate,
    render_page,
    wants_per_source,
)
from .speed import measured_speed, measured_speed_table, provider_speed

if TYPE_CHECKING:
    from django.db.models import QuerySet

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


def without_empty_tiers(columns: list[Column], *frames: pd.DataFrame) -> list[Column]:
    """Leave out the context-tier column when no row has a long-context tier: a column of zeros says nothing."""
    if any(not f.empty and f["min_prompt_tokens"].any() for f in frames):
        return columns
    return [c for c in columns if c.key != "min_prompt_tokens"]


# The offering table's money columns: shown in the page's currency (the history table stays in USD, each row
# of its own day; Price trends converts a history).
MONEY_COLUMNS = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok", "blended_usd_per_mtok")


def detail_tables(request: HttpRequest, prices: QuerySet[Price], *, stem: str, ratio: tuple[int, int],
                  drop: str, markets: QuerySet[MarketPrice], money: fx.PageCurrency | None = None
                  ) -> tuple[Table, Table]:
    money = money or fx.PageCurrency()
    as_of = sel.today()
    per_source = wants_per_source(request)
    current = sel.offering_prices(prices_current(prices), ratio=ratio)
    if not per_source:
        # One row per market offering; offerings with no canonical model have no market row and are listed
        # as their source states them.
        current = market_frame(sel.offers_from_stored(markets), ratio=ratio, source_rows=current,
                               extra=sel.unresolved_offering_prices(current))
    current = money.frame(name_unresolved(request, link_models(link_providers(current))), MONEY_COLUMNS)
    history = name_unresolved(request, link_models(link_providers(sel.history_frame(prices, ratio=ratio))))
    columns = money.columns([c for c in offering_columns(ratio) if c.key != drop])
    if drop == "provider":
        # A provider's page lists its models: name the model and the provider's own id for it first.
        first = [Column("model", "Model", link="model_url"), Column("source_model_id", "Offering id")]
        columns = first + [c for c in columns if c.key not in ("source_model_id", "provider_kind")]
    title, caption = "Every source's current price", "Every source's current statement, one row each."
    if not per_source:
        columns = as_market(columns, after="blended_usd_per_mtok")
        title, caption = "Offerings and current prices", (
            "One row per offering: its market price, from the source with the newest confirmation; ⚠ marks "
            "offerings the sources disagree on (open it to see who says what).")
    now = paginate(request, Table("current", title, without_empty_tiers(columns, current), current,
                                  stem=f"{stem}-current" + ("-per-source" if per_source else ""), as_of=as_of,
                                  sortable=True, caption=caption + money.caption(),
                                  empty_message="No price is in force now.").sorted_by(request.GET.get("sort")),
                   param="current_page")
    if not request.GET.get("download"):
        now.frame = agreement.with_evidence(now.frame)  # who says what (HTML), for the rows of this page only
    history_columns = without_empty_tiers([c for c in HISTORY_COLUMNS if c.key != drop], history)
    full = paginate(request, Table("history", "Full price history", history_columns, history,
                                   stem=f"{stem}-history", as_of=as_of, empty_message="No price history."),
                    param="history_page")
    return now, full


def detail_page(request: HttpRequest, prices: QuerySet[Price], *, stem: str, drop: str,
                markets: QuerySet[MarketPrice]) -> tuple[Page, dict[str, Any], tuple[int, int], fx.PageCurrency]:
    """A detail page's start: the blend options and the currency bound, and its current-price and history
    tables."""
    page = Page()
    blend_form, blend = bind(BlendForm, request.GET)
    page.errors += error_messages(blend_form)
    ratio = (blend["ratio_in"], blend["ratio_out"])
    money = fx.page_currency(request, day=sel.today(), errors=page.errors, notes=page.notes)
    page.tables += detail_tables(request, prices, stem=stem, ratio=ratio, drop=drop, markets=markets, money=money)
    return page, blend, ratio, money


def history_in_currency(steps: pd.DataFrame, money: fx.PageCurrency, unit: str) -> tuple[pd.DataFrame, str]:
    """The chart's steps and unit in the page's currency: each step split where the ECB rate changes, as on
    Price trends (apps.fx.dashboard.steps_in_currency)."""
    if not money.converted or steps.empty:
        return steps, money.unit(unit)
    converted, _ = fx.steps_in_currency(steps, money.code)
    return converted, money.unit(unit)


def currency_context(request: HttpRequest, money: fx.PageCurrency) -> dict[str, Any]:
    """The picker of a page without a filter form: its options and the other parameters it keeps."""
    keep = [(name, value) for name in request.GET if name not in ("currency", "download", "table")
            for value in request.GET.getlist(name)]
    return {"currency_options": fx.currency_options_html(money.rate and money.code), "currency_keep": keep,
            "currency": money.code}


def history_chart_frame(request: HttpRequest, prices: QuerySet[Price], ratio: tuple[int, int]) -> pd.DataFrame:
    """Blended chart rows: the market price over time (one answer per offering at each moment), or every
    source's row with ?per_source=1."""
    if wants_per_source(request):
        return sel.chart_frame(prices, "blended", ratio)
    return sel.market_chart_frame(prices, "blended", ratio, until=current_time(), since=sel.history_start())


@analyst_view
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    model = Model.objects.filter(slug=slug).first()
    if model is None:
        raise missing("canonical model", Model.objects, slug, lambda found: reverse("model-detail", args=[found]))
    prices = Price.objects.filter(offering__alias__model=model)
    page, blend, ratio, money = detail_page(request, prices, stem=f"model-{model.slug}", drop="model",
                                            markets=MarketPrice.objects.filter(model=model))
    page.tables.append(measured_speed_table(measured_speed(model), model, stem=f"model-{model.slug}",
                                            as_of=sel.today()))
    if (response := download_response(request, page.tables)) is not None:
        return response
    frame = history_chart_frame(request, sel.base_chat_prices(prices), ratio)
    steps = sel.price_steps(frame, group="provider", until=current_time(), since=sel.history_start())
    steps, unit = history_in_currency(steps, money, component_unit("blended", ratio))
    chart = Chart("history", "Cheapest price per provider over time" + (
        " (every source's row)" if wants_per_source(request) else " (market prices)"), empty=(
        f"No plain input and output prices for {model.name} in the standard tier: see the tables for labelled "
        "or other-tier prices."))
    if not steps.empty:
        chart.figure = money.figure(charts.price_steps_figure(steps, unit=unit, scale="auto"))
        chart.summary = money.text(charts.price_steps_summary(steps, unit=unit))
    page.charts.append(chart)
    return render_page(request, "dashboard/model_detail.html", page, model=model, blend=blend, unit=unit,
                       per_source=wants_per_source(request), **currency_context(request, money),
                       aliases=list(model.aliases.select_related("source").order_by("source__key", "raw_id")
                                    .values_list("source__key", "raw_id", "status")))


def busiest_models_chart(frame: pd.DataFrame, *, provider: Provider, unit: str,
                         money: fx.PageCurrency | None = None) -> Chart:
    """The provider's ten most re-priced models as step lines (more lines than that are unreadable)."""
    chart = Chart("history", "Price history of its most re-priced models", empty=(
        f"No plain input and output prices of canonical models from {provider.name} in the standard tier."))
    if not frame.empty:
        busiest = frame.groupby("model_slug")["price_id"].count().sort_values(ascending=False)
        keep = list(busiest.index[:10])
        steps = sel.price_steps(frame[frame["model_slug"].isin(keep)], group="model", until=current_time(),
                                since=sel.history_start())
        money = money or fx.PageCurrency()
        steps, unit = history_in_currency(steps, money, unit)
        if not steps.empty:
            chart.figure = money.figure(charts.price_steps_figure(steps, unit=unit, scale="auto"))
            chart.summary = money.text(charts.price_steps_summary(steps, unit=unit))
            if len(busiest) > 10:
                chart.note = f"The 10 models with the most price intervals of {len(busiest)}; the tables list all."
    return chart


@analyst_view
def provider_detail(request: HttpRequest, slug: str) -> HttpResponse:
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise missing("provider", Provider.objects, slug, lambda found: reverse("provider-detail", args=[found]))
    prices = Price.objects.filter(offering__provider=provider)
    page, blend, ratio, money = detail_page(request, prices, stem=f"provider-{provider.slug}", drop="provider",
                                            markets=MarketPrice.objects.filter(provider=provider))
    speed, speed_columns = provider_speed(provider)
    page.tables.append(measured_speed_table(speed, None, stem=f"provider-{provider.slug}", as_of=sel.today(),
                                            columns=speed_columns, title=f"Measured speed at {provider.name}",
                                            empty_message=f"No benchmark run measures {provider.name}."))
    if (response := download_response(request, page.tables)) is not None:
        return response
    frame = history_chart_frame(request, sel.base_chat_prices(prices).filter(offering__alias__model__isnull=False),
                                ratio)
    unit = component_unit("blended", ratio)
    page.charts.append(busiest_models_chart(frame, provider=provider, unit=unit, money=money))
    # Runs naming it and runs on its own chip (the seed article's Groq LPU System names no API provider).
    benchmarks_here = len(speed)
    return render_page(request, "dashboard/provider_detail.html", page, provider=provider, blend=blend, unit=unit,
                       benchmarks_here=benchmarks_here, per_source=wants_per_source(request),
                       **currency_context(request, money),
                       kind_label=dict(Provider.Kind.choices).get(provider.kind, provider.kind))


@staff_member_required
def snapshot_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The raw bytes exactly as fetched, for tracing any number to its document."""
    snapshot = get_object_or_404(Snapshot.objects.select_related("source"), pk=pk)
    response = HttpResponse(bytes(snapshot.content), content_type="application/octet-stream")
    name = snapshot.filename or f"{snapshot.source.key}-{snapshot.observed_at:%Y%m%dT%H%M}-{snapshot.sha256[:8]}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = snapshot.sha256
    return response
