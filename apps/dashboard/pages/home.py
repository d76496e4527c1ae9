"""The overview (/): headline figures, the cost trend of chosen size classes (cheapest market price per class,
or every source's row with ``?per_source=1``), the latest and the announced price changes, and source health.
Downloads: ``changes`` and ``upcoming``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from django.http import HttpRequest, HttpResponse

from apps.catalog.size_classes import size_class_label

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

# Per offering and change: the two components every cost depends on as columns, the rest as one text cell.
CHANGE_COLUMNS = [
    Column("changed_at", "Date", kind="date"),
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model", link="model_url"),
    Column("source_model_id", "Offering id", wrap=True),
    Column("min_prompt_tokens", "Context tier", unit="above N prompt tokens", kind="int"),
    Column("input_old_usd_per_mtok", "Input before", unit=MONEY_UNIT, kind="money"),
    Column("input_new_usd_per_mtok", "Input after", unit=MONEY_UNIT, kind="money"),
    Column("input_change_pct", "Input change", unit="%", kind="pct"),
    Column("output_old_usd_per_mtok", "Output before", unit=MONEY_UNIT, kind="money"),
    Column("output_new_usd_per_mtok", "Output after", unit=MONEY_UNIT, kind="money"),
    Column("output_change_pct", "Output change", unit="%", kind="pct"),
    Column("other_components", "Other components", wrap=True,
           title="Cached input, cache write, reasoning…: before → after, USD per 1M tokens"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title="When a document first stated the new price"),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]
CHANGED_OFFERINGS = 12  # rows of each change table
CHANGES_PER_MODEL = 2  # one model re-priced by every reseller on one day would fill the table otherwise
COMPONENT_ROWS = 600  # component changes read to find that many offerings
OFFERING_KEYS = ["changed_at", "provider_slug", "source_model_id", "region", "service_tier", "min_prompt_tokens",
                 "source"]


def _missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA: what pandas' notna() calls missing, for one cell."""
    return value is None or bool(pd.isna(value))  # type: ignore[call-overload]


def changes_by_offering(changes: pd.DataFrame, *, limit: int = CHANGED_OFFERINGS,
                        per_model: int | None = CHANGES_PER_MODEL) -> pd.DataFrame:
    """One row per offering and change time with all its components, in the order given, ``limit`` rows.

    A price change is stored per component (input, output, cached input…), so
    the newest fifteen component rows were four components of four offerings of
    one model. Here each offering's change is one row, and at most ``per_model``
    offerings of any one model are listed (the model's page has them all), so
    the table shows what moved across the market.
    """
    columns = [c.key for c in CHANGE_COLUMNS] + ["provider_slug", "model_slug"]
    if changes.empty:
        return pd.DataFrame(columns=columns)
    # Plain dicts, not a pandas groupby with iloc/itertuples per group: a few hundred component rows, where
    # pandas' per-call cost was a sixth of the overview. Groups keep the order of their first row, as
    # groupby(sort=False) does.
    groups: dict[tuple[object, ...], list[dict[str, Any]]] = {}
    for change in changes.to_dict("records"):
        key = tuple(None if _missing(change[name]) else change[name] for name in OFFERING_KEYS)
        groups.setdefault(key, []).append(change)
    rows: list[dict[str, Any]] = []
    shown_per_model: dict[str, int] = {}
    for group in groups.values():
        first = group[0]
        model = first["model_slug"] or f"unresolved:{first['source_model_id']}"
        if per_model is not None and shown_per_model.get(model, 0) >= per_model:
            continue
        shown_per_model[model] = shown_per_model.get(model, 0) + 1
        row: dict[str, Any] = {name: first[name] for name in ("changed_at", "provider", "provider_slug", "model",
                                                               "model_slug", "source_model_id", "min_prompt_tokens",
                                                               "source")}
        others = []
        for change in group:
            component = change["component"]
            if component in ("input", "output"):
                row[f"{component}_old_usd_per_mtok"] = change["old_usd_per_mtok"]
                row[f"{component}_new_usd_per_mtok"] = change["new_usd_per_mtok"]
                row[f"{component}_change_pct"] = change["percent_change"]
            else:
                pct = f" ({float(change['percent_change']):+.0f} %)" if not _missing(change["percent_change"]) \
                    else ""
                others.append(f"{component} {charts.money(change['old_usd_per_mtok'])} → "
                              f"{charts.money(change['new_usd_per_mtok'])}{pct}")
        row["other_components"] = "; ".join(others)
        seen = [c["first_seen_at"] for c in group if not _missing(c["first_seen_at"])]
        confirmed = [c["last_confirmed_at"] for c in group if not _missing(c["last_confirmed_at"])]
        row["first_seen_at"] = min(seen) if seen else None
        row["last_confirmed_at"] = max(confirmed) if confirmed else None
        rows.append(row)
        if len(rows) >= limit:
            break
    # Object columns with None for anything missing (a component the change did not touch), built as such:
    # astype(object).where(notna) over the finished frame cost as much as the loop above.
    return pd.DataFrame([[None if _missing(value := row.get(name)) else value for name in columns] for row in rows],
                        columns=columns, dtype=object)


def change_columns(*frames: pd.DataFrame) -> list[Column]:
    """Without the context-tier column when no row is a long-context tier: a column of zeros says nothing."""
    if any(not f.empty and f["min_prompt_tokens"].fillna(0).astype(bool).any() for f in frames):
        return CHANGE_COLUMNS
    return [c for c in CHANGE_COLUMNS if c.key != "min_prompt_tokens"]


def change_tables(as_of: date) -> list[Table]:
    changes = link_providers(link_models(changes_by_offering(sel.latest_changes(limit=COMPONENT_ROWS))))
    upcoming = link_providers(link_models(changes_by_offering(sel.upcoming_changes(limit=COMPONENT_ROWS))))
    columns = change_columns(changes, upcoming)
    caption = (f"One row per offering and change, all its components together; at most {CHANGES_PER_MODEL} "
               "offerings of one model (its page lists every change).")
    return [
        Table("changes", "Latest price changes", columns, changes, stem="overview-changes", as_of=as_of,
              caption=caption + " Newest first.",
              empty_message="No price has changed yet: changes appear once a source has shown two different "
                            "prices for an offering."),
        Table("upcoming", "Announced changes (future dates)", columns, upcoming, stem="overview-upcoming",
              as_of=as_of, caption=caption + " Soonest first.",
              empty_message="No source announces a future price change."),
    ]


def class_trend_chart(steps: pd.DataFrame, *, classes: list[str], unit: str, scale: str, per_source: bool) -> Chart:
    """The cheapest price per size class as step lines, naming the chosen classes that have no plain price."""
    trend = Chart("class-trend", "Cheapest source row per size class" if per_source else
                  "Cheapest market price per size class", empty=(
        "No plain per-token prices for these size classes yet: pick other classes or load price data."))
    if not steps.empty:
        steps = steps.assign(label=steps["series"].map(size_class_label))
        trend.figure = charts.price_steps_figure(steps, unit=unit, scale=scale)
        trend.summary = charts.price_steps_summary(steps, unit=unit)
        missing = sorted(set(classes) - set(steps["series"]))
        if missing:
            trend.note = f"No plain prices for: {', '.join(size_class_label(c) for c in missing)}."
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
