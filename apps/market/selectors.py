"""Reads for the market: sizes by segment and year, stated vs implied CAGR, projections, shares.

DataFrames for charts and tables; the math is in :mod:`apps.market.economics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
from django.db.models import QuerySet

from . import economics
from .models import Segment, SizeEstimate, StatedCagr


def size_estimates(*, source_label: str | None = None, segment: Segment | None = None) -> QuerySet[SizeEstimate]:
    sizes = SizeEstimate.objects.select_related("segment", "source", "snapshot").defer("snapshot__content")
    if source_label is not None:
        sizes = sizes.filter(source_label=source_label)
    if segment is not None:
        sizes = sizes.filter(segment=segment)
    return sizes


def sizes_frame(*, source_label: str | None = None) -> pd.DataFrame:
    """segment, year, value_usd_bn, kind, source, source_label, observed_at."""
    rows = [{"segment": s.segment.name, "year": s.year, "value_usd_bn": s.value_usd_bn, "kind": s.kind,
             "driver": s.driver, "source": s.source.key, "source_label": s.source_label,
             "observed_at": s.snapshot.observed_at}
            for s in size_estimates(source_label=source_label)]
    return pd.DataFrame(rows, columns=["segment", "year", "value_usd_bn", "kind", "driver", "source", "source_label",
                                       "observed_at"])


def cagr_table(*, tolerance_pp: Decimal = economics.CAGR_TOLERANCE_PP) -> pd.DataFrame:
    """Each stated CAGR beside the one its source's own sizes imply, flagged beyond ``tolerance_pp``.

    Seed: AI Inference Infrastructure states 65 % where 30 -> 180 over 2023-2027
    implies 56.51 % (8.49 points apart: flagged); the other three agree within a point.
    """
    sizes = {(s.segment_id, s.year, s.source_id, s.source_label): s.value_usd_bn
             for s in SizeEstimate.objects.all()}
    rows = []
    for stated in StatedCagr.objects.select_related("segment", "source", "snapshot").defer("snapshot__content"):
        key = (stated.segment_id, stated.source_id, stated.source_label)
        start = sizes.get((key[0], stated.start_year, *key[1:]))
        end = sizes.get((key[0], stated.end_year, *key[1:]))
        implied = (economics.implied_cagr_pct(start_usd_bn=start, end_usd_bn=end,
                                              years=stated.end_year - stated.start_year)
                   if start is not None and end is not None else None)
        gap = economics.cagr_gap_pp(stated_pct=stated.cagr_pct, implied_pct=implied) if implied is not None else None
        rows.append({
            "segment": stated.segment.name, "start_year": stated.start_year, "end_year": stated.end_year,
            "start_usd_bn": start, "end_usd_bn": end, "stated_cagr_pct": stated.cagr_pct,
            "implied_cagr_pct": implied, "gap_pp": gap,
            "disagrees": gap is not None and abs(gap) > tolerance_pp,
            "driver": stated.driver, "source": stated.source.key, "source_label": stated.source_label,
            "observed_at": stated.snapshot.observed_at,
        })
    return pd.DataFrame(rows, columns=["segment", "start_year", "end_year", "start_usd_bn", "end_usd_bn",
                                       "stated_cagr_pct", "implied_cagr_pct", "gap_pp", "disagrees", "driver",
                                       "source", "source_label", "observed_at"])


@dataclass(frozen=True)
class Basis:
    """Where a projection starts and at what rate."""

    segment: str
    base_year: int
    base_usd_bn: Decimal
    cagr_pct: Decimal
    rate: str  # "stated" or "implied"


def projection_basis(*, segment: Segment, rate: str = "implied", source_label: str | None = None) -> Basis | None:
    """The earliest size of a segment and the CAGR to grow it by: stated by the source, or implied by two sizes."""
    sizes = list(size_estimates(segment=segment, source_label=source_label).order_by("year"))
    if not sizes:
        return None
    base = sizes[0]
    if rate == "stated":
        stated = (StatedCagr.objects.filter(segment=segment, source_label=base.source_label,
                                            start_year=base.year).order_by("end_year").first())
        if stated is None:
            return None
        cagr = stated.cagr_pct
    elif rate == "implied":
        if len(sizes) < 2:
            return None
        last = sizes[-1]
        cagr = economics.implied_cagr_pct(start_usd_bn=base.value_usd_bn, end_usd_bn=last.value_usd_bn,
                                          years=last.year - base.year)
    else:
        raise ValueError("rate is 'stated' or 'implied'")
    return Basis(segment=segment.name, base_year=base.year, base_usd_bn=base.value_usd_bn, cagr_pct=cagr, rate=rate)


def projections(*, years: range | list[int], rate: str = "implied",
                source_label: str | None = None) -> pd.DataFrame:
    """Every segment projected to the given years from its base size and CAGR (stated or implied)."""
    rows = []
    for segment in Segment.objects.all():
        basis = projection_basis(segment=segment, rate=rate, source_label=source_label)
        if basis is None:
            continue
        for year in years:
            rows.append({"segment": segment.name, "year": year, "rate": rate, "cagr_pct": basis.cagr_pct,
                         "value_usd_bn": economics.project(base_usd_bn=basis.base_usd_bn, base_year=basis.base_year,
                                                           cagr_pct=basis.cagr_pct, year=year)})
    return pd.DataFrame(rows, columns=["segment", "year", "rate", "cagr_pct", "value_usd_bn"])


def segment_shares(*, source_label: str | None = None, years: list[int] | None = None,
                   rate: str = "implied") -> pd.DataFrame:
    """Each segment's share of the total per year.

    Stated sizes where the source gives them; with ``years``, other years are
    filled by projection (``projected`` True) so every segment counts.
    Seed 2023: 220 + 45 + 30 + 15 = 310, AI Inference Infrastructure 30/310 = 9.7 %.
    """
    stated = sizes_frame(source_label=source_label)[["segment", "year", "value_usd_bn"]]
    stated = stated.assign(projected=False)
    if years:
        filled = projections(years=years, rate=rate, source_label=source_label)[["segment", "year", "value_usd_bn"]]
        filled = filled.assign(projected=True)
        have = set(zip(stated["segment"], stated["year"], strict=True))
        filled = filled[[(s, y) not in have for s, y in zip(filled["segment"], filled["year"], strict=True)]]
        stated = stated[stated["year"].isin(years)]
        frame = pd.concat([stated, filled], ignore_index=True)
    else:
        frame = stated
    if frame.empty:
        return frame.assign(total_usd_bn=[], share_pct=[])
    totals = frame.groupby("year")["value_usd_bn"].transform(lambda s: sum(s, Decimal(0)))
    frame = frame.assign(total_usd_bn=totals)
    frame["share_pct"] = [v / t * 100 for v, t in zip(frame["value_usd_bn"], frame["total_usd_bn"], strict=True)]
    return frame.sort_values(["year", "segment"]).reset_index(drop=True)
