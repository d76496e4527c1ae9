"""Writes for the market: apply a parsed market-size table (segments, sizes by year, stated CAGRs).

Sizes and stated growth rates are stated facts: one row per natural key, the
newest snapshot's figures winning whatever the arrival order
(:mod:`apps.benchmarks.upsert`). Whether a size is an actual or a projection
follows from when the document was observed: a year before the observation
year is an actual, the rest are projections.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.text import slugify

from apps.benchmarks.upsert import upsert_stated
from apps.sources.models import Snapshot
from apps.sources.registry import ApplyCounts
from scrapers.market_csv import MarketSizeRecord
from scrapers.records import ParseResult, Reject

from .models import Segment, SizeEstimate, StatedCagr


def segments_ensure(*, names: set[str]) -> dict[str, Segment]:
    """Segment by name; names differing only in case or punctuation are one segment (same slug)."""
    by_slug: dict[str, str] = {}
    for name in sorted(names):
        by_slug.setdefault(slugify(name)[:200] or "segment", name)
    Segment.objects.bulk_create([Segment(slug=slug, name=name[:200]) for slug, name in by_slug.items()],
                                ignore_conflicts=True)
    rows = {s.slug: s for s in Segment.objects.filter(slug__in=list(by_slug))}
    return {name: rows[slugify(name)[:200] or "segment"] for name in names}


def size_kind(*, year: int, snapshot: Snapshot) -> str:
    return SizeEstimate.Kind.ACTUAL if year < snapshot.observed_at.year else SizeEstimate.Kind.PROJECTION


def market_sizes_apply(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Store the segment sizes and stated CAGRs a market table states."""
    source = snapshot.source
    records: list[MarketSizeRecord] = [r for r in result.records if isinstance(r, MarketSizeRecord)]
    segments = segments_ensure(names={r.segment for r in records})
    rejects: list[Reject] = []

    sizes: dict[tuple[int, int, str], dict[str, Any]] = {}
    for record in records:
        segment = segments[record.segment]
        for year, value in record.sizes():
            key = (segment.pk, year, record.source_label)
            earlier = sizes.get(key)
            if earlier is not None and earlier["value_usd_bn"] != value:
                # Same slug, different spelling of the segment name, different figure.
                rejects.append(Reject(f"line {record.line}", f"{segment.name} in {year} is {value} USD bn here "
                                      f"but {earlier['value_usd_bn']} on an earlier line; the first one is kept"))
                continue
            sizes.setdefault(key, {
                "segment_id": segment.pk, "year": year, "value_usd_bn": value,
                "kind": size_kind(year=year, snapshot=snapshot), "driver": record.driver,
                "source_id": source.pk, "source_label": record.source_label,
            })
    cagrs: dict[tuple[int, int, int, str], dict[str, Any]] = {}
    for record in records:
        if record.stated_cagr_pct is None or record.target_year is None:
            continue
        segment = segments[record.segment]
        cagrs.setdefault((segment.pk, record.base_year, record.target_year, record.source_label), {
            "segment_id": segment.pk, "start_year": record.base_year, "end_year": record.target_year,
            "cagr_pct": record.stated_cagr_pct, "driver": record.driver, "source_id": source.pk,
            "source_label": record.source_label,
        })

    def items(rows: dict[Any, dict[str, Any]]) -> Iterator[tuple[Any, dict[str, Any]]]:
        yield from rows.items()

    size_counts = upsert_stated(
        model=SizeEstimate, snapshot=snapshot, items=items(sizes),
        key_of=lambda s: (s.segment_id, s.year, s.source_label),
        load=lambda keys: SizeEstimate.objects.filter(source=source, segment_id__in={k[0] for k in keys}),
        fields=["value_usd_bn", "kind", "driver"],
    )
    cagr_counts = upsert_stated(
        model=StatedCagr, snapshot=snapshot, items=items(cagrs),
        key_of=lambda c: (c.segment_id, c.start_year, c.end_year, c.source_label),
        load=lambda keys: StatedCagr.objects.filter(source=source, segment_id__in={k[0] for k in keys}),
        fields=["cagr_pct", "driver"],
    )
    return ApplyCounts(
        created=size_counts.created + cagr_counts.created,
        changed=size_counts.changed + cagr_counts.changed,
        unchanged=size_counts.unchanged + cagr_counts.unchanged,
        rejects=rejects,
    )
