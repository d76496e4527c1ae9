"""Market (/market/): segment sizes by year, stated against implied CAGR (marked where they disagree by more than
a percentage point), projections to a chosen year at the stated or implied rate, and each segment's share of the
total. Downloads: ``sizes``, ``cagr``, ``projections``, ``shares``."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.http import HttpRequest, HttpResponse

from apps.market import selectors as market_selectors
from apps.market.filtersets import SizeEstimateFilterSet
from apps.market.models import Segment

from .. import charts
from .. import selectors as sel
from ..access import analyst_view
from ..forms import MarketForm, bind, error_messages
from ..tables import Column, Table
from .common import Chart, Page, download_response, render_page, selected_filters

SIZE_COLUMNS = [
    Column("segment", "Segment"),
    Column("year", "Year", kind="year"),
    Column("basis", "Basis", title="actual, or projected by the source (as the source labels the size)"),
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
    Column("total_usd_bn", "Sum of segments", unit="USD bn", kind="number", places=1,
           title="The segments may overlap (endpoint APIs run on inference infrastructure): not a market total"),
    Column("share_pct", "Share of sum", unit="%", kind="pct", places=1),
    Column("basis", "Basis", title="actual; projected by the source; or projected by tokenwatch at a CAGR"),
]


@dataclass
class MarketFrames:
    sizes: pd.DataFrame
    cagr: pd.DataFrame
    projected: pd.DataFrame
    shares: pd.DataFrame


def market_frames(filterset: SizeEstimateFilterSet, *, year: int, rate: str) -> MarketFrames:
    """Sizes of the filtered estimates, and growth, projections (every year from the base to ``year``) and
    shares for the segments they cover."""
    rows = [{"segment": s.segment.name, "year": s.year, "value_usd_bn": s.value_usd_bn, "kind": s.kind,
             "driver": s.driver, "source": s.source.key, "source_label": s.source_label,
             "observed_at": s.snapshot.observed_at} for s in filterset.qs]
    sizes = pd.DataFrame(rows, columns=[*(c.key for c in SIZE_COLUMNS if c.key != "basis"), "kind"])
    sizes["basis"] = [charts.size_basis(k) for k in sizes["kind"]]
    segments = set(sizes["segment"])
    cagr = market_selectors.cagr_table()
    cagr = cagr[cagr["segment"].isin(segments)].reset_index(drop=True)
    base_year = int(sizes["year"].min()) if not sizes.empty else year
    years = list(range(min(base_year, year), max(base_year, year) + 1))
    projected = market_selectors.projections(years=years, rate=rate)
    projected = projected[projected["segment"].isin(segments)].reset_index(drop=True)
    share_years = sorted({*(int(y) for y in sizes["year"]), year}) if not sizes.empty else []
    shares = market_selectors.segment_shares(years=share_years, rate=rate) if share_years else pd.DataFrame()
    if not shares.empty:
        shares = with_basis(shares[shares["segment"].isin(segments)].reset_index(drop=True), sizes, rate=rate)
    return MarketFrames(sizes=sizes, cagr=cagr, projected=projected, shares=shares)


def with_basis(shares: pd.DataFrame, sizes: pd.DataFrame, *, rate: str) -> pd.DataFrame:
    """Each share's basis in the sizes chart's words, from the same field (the stated size's kind).

    ``segment_shares`` marks only the sizes tokenwatch filled in as projected,
    so a 2027 size the source itself labels a projection read "projection" in
    one chart and "Projected: no" in the other.
    """
    kinds = {(s, int(y)): k for s, y, k in zip(sizes["segment"], sizes["year"], sizes["kind"], strict=True)}
    bases = [charts.size_basis(kinds.get((s, int(y))) if not filled else None, rate=rate)
             for s, y, filled in zip(shares["segment"], shares["year"], shares["projected"], strict=True)]
    return shares.assign(basis=bases, projected=[b != "actual" for b in bases])


def market_tables(frames: MarketFrames, *, year: int) -> list[Table]:
    as_of = sel.today()
    projected = frames.projected
    return [
        Table("sizes", "Segment sizes by year", SIZE_COLUMNS, frames.sizes, stem="market-sizes", as_of=as_of,
              empty_message="No market sizes loaded: upload a market CSV (source market-csv)."),
        Table("cagr", "Stated vs implied growth", CAGR_COLUMNS, frames.cagr, stem="market-cagr", as_of=as_of,
              empty_message="No source states a growth rate for these segments."),
        Table("projections", f"Projection to {year}", PROJECTION_COLUMNS,
              projected[projected["year"] == year].reset_index(drop=True) if not projected.empty else projected,
              stem=f"market-projection-{year}", as_of=as_of,
              empty_message="No segment has a base size and a growth rate to project from."),
        Table("shares", "Share of the sum of segments", SHARE_COLUMNS, frames.shares, stem="market-shares",
              as_of=as_of, caption="The segments may overlap, so their sum is not the size of a market.",
              empty_message="No sizes to share out."),
    ]


def market_charts(frames: MarketFrames, *, year: int, rate: str) -> list[Chart]:
    sizes, cagr, projected, shares = frames.sizes, frames.cagr, frames.projected, frames.shares
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
    share_chart = Chart("shares", "Share of the sum of segments (segments may overlap)",
                        empty="No sizes to share out.")
    if not shares.empty:
        share_chart.figure = charts.share_figure(shares)
        share_chart.summary = charts.share_summary(shares)
        if rate == "stated" and shares["projected"].any():
            share_chart.note = "Years without stated sizes are filled by projection at the stated CAGR (hatched)."
    return [size_chart, cagr_chart, projection_chart, share_chart]


@analyst_view
def market(request: HttpRequest) -> HttpResponse:
    """Segment sizes, stated vs implied CAGR, projections to a chosen year, and shares of the total."""
    page = Page()
    form, options = bind(MarketForm, request.GET)
    filterset = SizeEstimateFilterSet(request.GET, queryset=market_selectors.size_estimates())
    page.errors += error_messages(form, filterset.form)
    year, rate = options["project_to"], options["rate"]
    frames = market_frames(filterset, year=year, rate=rate)
    segments = set(frames.sizes["segment"])
    if rate == "stated" and not frames.projected.empty and frames.projected["segment"].nunique() < len(segments):
        page.notes.append("Segments without a stated CAGR from their base year are not projected at the stated rate.")
    page.tables += market_tables(frames, year=year)
    if (response := download_response(request, page.tables)) is not None:
        return response
    page.charts += market_charts(frames, year=year, rate=rate)
    return render_page(request, "dashboard/market.html", page, form=form, options=options, filterset=filterset,
                       segment_choices=list(Segment.objects.values_list("slug", "name")),
                       selected=selected_filters(request.GET))
