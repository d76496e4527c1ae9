"""Data-quality reads: how far the sources agree, computed live from the market prices' evidence."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations

from django.db.models import QuerySet

from apps.pricing.market import labels_conflict
from apps.pricing.models import COMPONENTS, MarketPrice


@dataclass(frozen=True)
class PairAgreement:
    source_a: str
    source_b: str
    pairs: int  # market offerings both sources price now
    disagree: int  # of which some component differs (as decimals) or the label does
    median_gap_pct: Decimal | None  # median of the largest relative gap over the disagreeing pairs

    @property
    def share_pct(self) -> Decimal:
        return Decimal(0) if not self.pairs else (Decimal(self.disagree * 100) / self.pairs).quantize(Decimal("0.1"))


# What a buyer compares first: the matrix looks at these unless told otherwise (sources_agree on a market
# price looks at every component).
HEADLINE = ("input_usd_per_mtok", "output_usd_per_mtok")


def _gap(a: dict, b: dict, components: tuple[str, ...] = COMPONENTS) -> tuple[bool, Decimal | None]:
    """(the two statements differ, the largest relative gap in % of the lower value)."""
    differ = labels_conflict([a.get("price_label", ""), b.get("price_label", "")])
    gap: Decimal | None = None
    for name in components:
        x, y = a.get(name), b.get(name)
        if x is None or y is None:
            continue
        low, high = sorted((Decimal(x), Decimal(y)))
        if low != high:
            differ = True
            if low > 0:
                relative = (high - low) / low * 100
                gap = relative if gap is None or relative > gap else gap
    return differ, gap


def agreement_matrix(queryset: QuerySet[MarketPrice] | None = None, *, like_for_like: bool = True,
                     components: tuple[str, ...] = HEADLINE) -> list[PairAgreement]:
    """For each pair of sources: market offerings both price now, how many disagree, the median gap.

    like_for_like keeps the standard tier, no particular region and the base context tier: tiers,
    regions and long-context rates are where sources most often price different things under one
    name. ``components`` are those compared (input and output by default; COMPONENTS for all).
    """
    qs = MarketPrice.objects.all() if queryset is None else queryset
    if like_for_like:
        qs = qs.filter(service_tier="standard", region="", min_prompt_tokens=0)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    gaps: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for evidence in qs.filter(source_count__gte=2).values_list("evidence", flat=True).iterator(chunk_size=2000):
        by_source = {e["source"]: e for e in evidence}
        for a, b in combinations(sorted(by_source), 2):
            differ, gap = _gap(by_source[a], by_source[b], components)
            counts[(a, b)][0] += 1
            if differ:
                counts[(a, b)][1] += 1
                if gap is not None:
                    gaps[(a, b)].append(gap)
    return [PairAgreement(a, b, n, d, statistics.median(gaps[(a, b)]).quantize(Decimal("0.1"))
                          if gaps[(a, b)] else None)
            for (a, b), (n, d) in sorted(counts.items())]
