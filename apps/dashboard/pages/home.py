"""The overview (/): headline figures, the cost trend of chosen size classes (cheapest market price per class,
or every source's row with ``?per_source=1``), the latest and the announced price changes, and source health.
Downloads: ``changes`` and ``upcoming``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from django.http import HttpRequest, HttpResponse

from .. import charts
from .. import selectors as sel
from ..access import analyst_view
from ..forms import ClassTrendForm, bind, error_messages
from ..tables import Column, Table
from .common import (
    LAST_CONFIRMED,
    MONEY_UNIT,
    Chart,
    Page,
    component_unit,
    current_time,
    download_response,
    link_models,
    link_providers,
    render_page,
    wants_per_source,
)

DEFAULT_CLASSES = ["7-8b-class", "70b-class", "300b-plus-class", "frontier-closed"]

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


def change_tables(as_of: date) -> list[Table]:
    changes = link_providers(link_models(sel.latest_changes(limit=15)))
    upcoming = link_providers(link_models(sel.upcoming_changes(limit=10)))
    return [
        Table("changes", "Latest price changes", CHANGE_COLUMNS, changes, stem="overview-changes", as_of=as_of,
              empty_message="No price has changed yet: changes appear once a source has shown two different "
                            "prices for an offering."),
        Table("upcoming", "Announced changes (future dates)", CHANGE_COLUMNS, upcoming, stem="overview-upcoming",
              as_of=as_of, empty_message="No source announces a future price change."),
    ]


def class_trend_chart(steps: pd.DataFrame, *, classes: list[str], unit: str, scale: str, per_source: bool) -> Chart:
    """The cheapest price per size class as step lines, naming the chosen classes that have no plain price."""
    trend = Chart("class-trend", "Cheapest source row per size class" if per_source else
                  "Cheapest market price per size class", empty=(
        "No plain per-token prices for these size classes yet: pick other classes or load price data."))
    if not steps.empty:
        trend.figure = charts.price_steps_figure(steps, unit=unit, scale=scale)
        trend.summary = charts.price_steps_summary(steps, unit=unit)
        missing = sorted(set(classes) - set(steps["series"]))
        if missing:
            trend.note = f"No plain prices for: {', '.join(missing)}."
    return trend


def freshness_counts(now: datetime) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """How many sources are fresh, stale, failed or held, and the warnings to show about them."""
    health = sel.source_health(now=now)
    warnings = sel.source_warnings(health)
    counts = {**health["freshness"].value_counts().to_dict(), "failed": int(health["last_run_failed"].sum()),
              "held": int(health["held"].sum())}
    return counts, warnings.to_dict("records")


@analyst_view
def home(request: HttpRequest) -> HttpResponse:
    """The overview: headline figures, the cost trend of chosen size classes, latest changes, source health."""
    now, as_of = current_time(), sel.today()
    page = Page(tables=change_tables(as_of))
    if (response := download_response(request, page.tables)) is not None:
        return response

    classes_all = sel.size_classes()
    form, options = bind(ClassTrendForm, request.GET, size_classes=classes_all, default_classes=DEFAULT_CLASSES)
    page.errors += error_messages(form)
    ratio = (options["ratio_in"], options["ratio_out"])
    classes = options["classes"] or [c for c in DEFAULT_CLASSES if c in classes_all]
    in_classes = sel.base_chat_prices().filter(offering__alias__model__size_class__in=classes)
    per_source = wants_per_source(request)
    since = sel.history_start()
    frame = sel.chart_frame(in_classes, "blended", ratio) if per_source else \
        sel.market_chart_frame(in_classes, "blended", ratio, until=now, since=since)
    steps = sel.price_steps(frame, group="class", until=now, since=since)
    unit = component_unit("blended", ratio)
    page.charts.append(class_trend_chart(steps, classes=classes, unit=unit, scale=options["scale"],
                                         per_source=per_source))

    counts, warnings = freshness_counts(now)
    headline = sel.headline(now=now, steps=steps if ratio == (3, 1) else None, per_source=per_source)
    return render_page(request, "dashboard/home.html", page, form=form, headline=headline, options=options,
                       per_source=per_source, classes_all=classes_all, classes=classes, warnings=warnings,
                       freshness=counts, as_of=as_of, unit=unit)
