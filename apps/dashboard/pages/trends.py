"""Price trends (/trends/): the price history of chosen models, providers, offerings or size classes as step
lines over each price's validity, in one price component or the blend, and the table of the intervals drawn
(download ``steps``). Without a choice it starts from one model sold by many providers."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict

from apps.catalog.models import Model
from apps.catalog.size_classes import size_class_label
from apps.fx import dashboard as fx
from apps.pricing.filtersets import PriceFilterSet
from apps.pricing.models import Price

from .. import charts
from .. import selectors as sel
from ..access import analyst_view
from ..forms import TrendOptionsForm, bind, error_messages
from ..tables import Column, Table
from .common import (
    FIRST_SEEN,
    LAST_CONFIRMED,
    MONEY_UNIT,
    Chart,
    Page,
    component_unit,
    current_time,
    download_response,
    options_html,
    paginate,
    render_page,
    selected_filters,
)

DEFAULT_TREND_MODELS = ["llama-3-70b-instruct"]  # the seed article's model, sold by many providers
MAX_SERIES = 10  # past ten lines no palette keeps them apart and the legend is a wall
# Query-string filters that choose what to draw; with none of them the page starts from DEFAULT_TREND_MODELS.
CHOOSERS = ("model", "provider", "classes", "family", "size_class", "source_model_id", "offering")

STEP_TABLE_COLUMNS = [
    Column("label", "Series"),
    Column("provider", "Provider"),
    Column("source_model_id", "Offering id", wrap=True),
    Column("region", "Region"),
    Column("start", "From", unit="UTC", kind="date"),
    Column("end_shown", "To", unit="UTC, empty = current", kind="date"),
    Column("usd_exact", "Price", unit=MONEY_UNIT, kind="money"),
    Column("change_pct", "Change", unit="%", kind="pct"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]


def trend_defaults(data: QueryDict) -> QueryDict:
    """Like-for-like defaults (standard tier, base context) unless the query string says otherwise."""
    data = data.copy()
    if not data.get("service_tier"):
        data["service_tier"] = "standard"
    if not data.get("min_prompt_tokens"):
        data["min_prompt_tokens"] = "0"
    return data


def usable_filters(request: HttpRequest, page: Page, form: forms.Form, options: dict[str, Any]) -> QueryDict:
    """The query string with defaults, less the filters that cannot be used, plus a starting selection when
    nothing is chosen."""
    data = trend_defaults(request.GET)
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
    return data


def line_grouping(lines: str, data: QueryDict, classes: list[str]) -> str:
    """What one line is ("auto" resolved): a size class, a provider, a model or an offering."""
    if lines != "auto":
        return lines
    models_chosen, providers_chosen = data.getlist("model"), data.getlist("provider")
    if classes and not models_chosen and not providers_chosen:
        return "class"
    if len(models_chosen) == 1:
        return "provider"
    if models_chosen:
        return "model"
    if providers_chosen:
        return "offering" if len(providers_chosen) == 1 and (data.get("family") or data.get("size_class")) \
            else "model" if len(providers_chosen) == 1 else "provider"
    return "model"


def cap_series(steps: pd.DataFrame, *, limit: int = MAX_SERIES) -> tuple[pd.DataFrame, str]:
    """At most ``limit`` lines, the cheapest by their latest price, and the note saying so when some are left
    out (empty otherwise)."""
    if steps.empty:
        return steps, ""
    series = list(dict.fromkeys(steps["series"]))
    if len(series) <= limit:
        return steps, ""
    latest = steps.sort_values("end", kind="stable").groupby("series").last()["usd_per_mtok"]
    keep = set(latest.sort_values(kind="stable").index[:limit])
    return (steps[steps["series"].isin(keep)],
            f"Showing {limit} of {len(series)} lines (the cheapest by their latest price): narrow the filter to "
            "see the others.")


def trend_empty(all_rows: int, plain_rows: int, component: str) -> str:
    if all_rows == 0:
        return "No prices match these filters: choose other models, providers or classes, or widen the tier."
    return (f"{all_rows} price intervals match, but none has a plain {component} price to draw (they are labelled "
            "free, variable or unknown, or zero).")


def trend_chart(steps: pd.DataFrame, *, all_rows: int, plain_rows: int, component: str, unit: str,
                scale: str, capped: str = "") -> Chart:
    chart = Chart("trend", "Price history", empty=trend_empty(all_rows, plain_rows, component))
    if not steps.empty:
        chart.figure = charts.price_steps_figure(steps, unit=unit, scale=scale)
        chart.summary = charts.price_steps_summary(steps, unit=unit)
        labelled = all_rows - plain_rows
        notes = [capped] if capped else []
        if labelled:
            notes.append(f"{labelled} price intervals without a plain {component} price (labelled free, variable "
                         "or unknown, or zero) are not drawn.")
        chart.note = " ".join(notes)
    return chart


def steps_frame(steps: pd.DataFrame) -> pd.DataFrame:
    """The drawn steps as table rows: an open end left empty, and each step's change from the one before."""
    if steps.empty:
        return pd.DataFrame(columns=[c.key for c in STEP_TABLE_COLUMNS])
    return steps.assign(
        end_shown=[None if o else e for o, e in zip(steps["open_end"], steps["end"], strict=True)],
        change_pct=[(v - p) / p * 100 if p == p and p else None
                    for v, p in zip(steps["usd_per_mtok"], steps["previous_usd_per_mtok"], strict=True)],
    )


@analyst_view
def trends(request: HttpRequest) -> HttpResponse:
    """Price history of chosen models, providers or classes as step lines over each price's validity."""
    now = current_time()
    page = Page()
    classes_all = sel.size_classes()
    form, options = bind(TrendOptionsForm, request.GET, size_classes=classes_all)
    data = usable_filters(request, page, form, options)
    filterset = PriceFilterSet(data, queryset=Price.objects.all())
    prices = filterset.qs
    if options["classes"]:
        prices = prices.filter(offering__alias__model__size_class__in=options["classes"])
    ratio = (options["ratio_in"], options["ratio_out"])
    component = options["component"]
    lines = line_grouping(options["lines"], data, options["classes"])
    all_rows = prices.count()
    plain = sel.chart_frame(prices, component, ratio)
    steps, capped = cap_series(sel.price_steps(plain, group=lines, until=now, since=sel.history_start()))
    if lines == "class" and not steps.empty:
        steps = steps.assign(label=steps["series"].map(size_class_label))
    unit = component_unit(component, ratio)
    # The currency picker (apps.fx): each step split at the ECB rate's changes, in the chosen currency.
    currency, currency_error = fx.currency_choice(request)
    page.errors += [currency_error] if currency_error else []
    step_columns = STEP_TABLE_COLUMNS
    if currency:
        steps, missing = fx.steps_in_currency(steps, currency)
        unit = unit.replace("USD", currency)
        step_columns = [Column("usd_exact", "Price", unit=f"{currency} / 1M tokens", kind="money")
                        if c.key == "usd_exact" else c for c in STEP_TABLE_COLUMNS]
        step_columns += [Column("fx_rate_date", "Rate date", unit="ECB publication", kind="date"),
                         Column("fx_rate", "Rate", unit=f"{currency} per USD", kind="money")]
        page.notes.append(fx.rate_note(currency, missing))
    chart = trend_chart(steps, all_rows=all_rows, plain_rows=len(plain), component=component, unit=unit,
                        scale=options["scale"], capped=capped)
    if currency and chart.figure is not None:
        fx.figure_in_currency(chart.figure)
        chart.summary = chart.summary.replace("$", "")
    page.charts.append(chart)
    chosen = data.getlist("model") or data.getlist("provider") or options["classes"] or ["all"]
    page.tables.append(paginate(request, Table(
        "steps", "Price intervals drawn", step_columns, steps_frame(steps).reset_index(drop=True),
        stem="trends-" + "-".join(chosen[:3]), as_of=sel.today(), caption=f"One row per step of each line: {unit}.",
        empty_message="No price intervals match these filters.")))
    if (response := download_response(request, page.tables)) is not None:
        return response
    return render_page(request, "dashboard/trends.html", page, form=form, options=options, lines=lines, unit=unit,
                       classes_all=classes_all,
                       model_options=options_html(sel.model_choices(), data.getlist("model")),
                       provider_options=options_html(sel.provider_choices(), data.getlist("provider")),
                       source_choices=sel.source_choices(priced=True), selected=selected_filters(data),
                       filterset=filterset, currency_options=fx.currency_options_html(currency))
