"""Compare every offering of one canonical model for one workload, ranked by what the workload costs.

Effective cost of one request (USD)::

    (input_tokens x (1 - cached_share) x input_usd_per_mtok
     + input_tokens x cached_share x cached_input_usd_per_mtok   # input price when no cached price
     + output_tokens x output_usd_per_mtok) / 1e6

and per month, times the requests per month. For each seller of the model
(source, provider, raw id, region) the tier that applies is chosen: the batch
tier when the workload is batch and it is offered, else every non-batch tier
(standard, flex, priority…); within a tier, the long-context price whose
threshold the prompt exceeds.

A labelled price (free, variable, unknown) or a zero input/output price is
listed but never ranked: a missing price is not the cheapest offer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from apps.catalog.models import Model

from .market import market_rows_as_of
from .models import MarketPrice, Price
from .selectors import prices_as_of, prices_with_context

MTOK = Decimal(1_000_000)
ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class Workload:
    input_tokens: int
    output_tokens: int
    cached_share: Decimal = ZERO  # share of input tokens read from the prompt cache, 0-1
    batch: bool = False
    requests_per_month: int = 1

    def __post_init__(self) -> None:
        if self.input_tokens < 0 or self.output_tokens < 0 or self.requests_per_month < 0:
            raise ValueError("token counts and volume cannot be negative")
        if not ZERO <= self.cached_share <= ONE:
            raise ValueError("cached_share is a share between 0 and 1")


@dataclass(frozen=True)
class MarketInfo:
    """What the other sources say about a market offering whose chosen price a row shows."""

    sources_agree: bool
    max_gap_pct: Decimal | None
    evidence: list[dict]  # MarketPrice.evidence: every source's word, the chosen one first


@dataclass(frozen=True)
class CompareRow:
    price: Price
    rank: int | None
    not_ranked_reason: str
    blended_usd_per_mtok: Decimal | None
    usd_per_request: Decimal | None
    usd_per_month: Decimal | None
    market: MarketInfo | None = None  # None for a raw per-source row

    @property
    def ranked(self) -> bool:
        return self.rank is not None


def blended_usd_per_mtok(input_usd_per_mtok: Decimal | None, output_usd_per_mtok: Decimal | None, *,
                         input_ratio: int, output_ratio: int) -> Decimal | None:
    """(ri x input + ro x output) / (ri + ro); 3:1 by default (settings.TOKENWATCH_BLEND_*_RATIO)."""
    if input_usd_per_mtok is None or output_usd_per_mtok is None or input_ratio + output_ratio == 0:
        return None
    return (input_ratio * input_usd_per_mtok + output_ratio * output_usd_per_mtok) / (input_ratio + output_ratio)


def usd_per_request(price: Price, workload: Workload) -> tuple[Decimal | None, str]:
    """The workload's cost of one request at this price, or None and why it cannot be computed."""
    if price.input_usd_per_mtok is None and workload.input_tokens:
        return None, "no input price"
    if price.output_usd_per_mtok is None and workload.output_tokens:
        return None, "no output price"
    input_price = price.input_usd_per_mtok or ZERO
    cached_price = price.cached_input_usd_per_mtok
    if cached_price is None:
        cached_price = input_price
    tokens_in = Decimal(workload.input_tokens)
    total = (tokens_in * (ONE - workload.cached_share) * input_price
             + tokens_in * workload.cached_share * cached_price
             + Decimal(workload.output_tokens) * (price.output_usd_per_mtok or ZERO))
    return total / MTOK, ""


def not_ranked_reason(price: Price, workload: Workload, cost: Decimal | None, why: str) -> str:
    """Why a price cannot be ranked for a workload: a label, a missing component, or a zero ("" if it can)."""
    if price.price_label:
        return f"labelled price ({price.price_label})"
    if cost is None:
        return why
    if (workload.input_tokens and price.input_usd_per_mtok == 0) or (
            workload.output_tokens and price.output_usd_per_mtok == 0) or cost == 0:
        return "zero price (a missing price, not a free offer)"
    return ""


def _applicable(prices: list[Price], workload: Workload) -> list[Price]:
    """Per service tier, the long-context price whose threshold the prompt exceeds (else the base price)."""
    by_tier: dict[str, list[Price]] = defaultdict(list)
    for price in prices:
        by_tier[price.offering.service_tier].append(price)
    tiers = ["batch"] if workload.batch and "batch" in by_tier else [t for t in by_tier if t != "batch"]
    chosen = []
    for tier in tiers:
        candidates = [p for p in by_tier[tier]
                      if p.offering.min_prompt_tokens == 0 or workload.input_tokens > p.offering.min_prompt_tokens]
        if candidates:
            chosen.append(max(candidates, key=lambda p: p.offering.min_prompt_tokens))
    return chosen


def _market_prices(model: Model, as_of: date | datetime | None) -> tuple[list[Price], dict[int, MarketInfo]]:
    """The chosen source price of each market offering of the model (now, or at as_of), with the market's word."""
    if as_of is None:
        rows = [(m.price_id, MarketInfo(m.sources_agree, m.max_gap_pct, m.evidence))
                for m in MarketPrice.objects.filter(model=model)]
    else:
        rows = [(r.chosen.price_id, MarketInfo(r.sources_agree, r.max_gap_pct, [e.as_json() for e in r.evidence]))
                for r in market_rows_as_of(as_of, Price.objects.filter(offering__alias__model=model))]
    info = dict(rows)
    return list(prices_with_context(Price.objects.filter(pk__in=info))), info


def compare_offerings(*, model: Model, workload: Workload, as_of: date | datetime | None = None,
                      input_ratio: int | None = None, output_ratio: int | None = None,
                      per_source: bool = False) -> list[CompareRow]:
    """Every offering of ``model`` in force at ``as_of`` (now by default): ranked ones first, cheapest first.

    One row per market offering (provider x region, the tier and context tier the workload takes), priced by
    the market-price policy with the other sources' word attached; ``per_source`` lists every source's row.
    """
    input_ratio = settings.TOKENWATCH_BLEND_INPUT_RATIO if input_ratio is None else input_ratio
    output_ratio = settings.TOKENWATCH_BLEND_OUTPUT_RATIO if output_ratio is None else output_ratio
    market: dict[int, MarketInfo] = {}
    if per_source:
        prices = list(prices_with_context(prices_as_of(as_of or timezone.now(),
                                                       Price.objects.filter(offering__alias__model=model))))
    else:
        prices, market = _market_prices(model, as_of)
    sellers: dict[tuple[int, int, str, str], list[Price]] = defaultdict(list)
    for price in prices:
        o = price.offering
        # A market offering is the provider's, whichever source's price was chosen for each tier.
        sellers[(0 if market else o.source_id, o.provider_id, "" if market else o.source_model_id,
                 o.region)].append(price)

    ranked: list[tuple[Decimal, str, str, CompareRow]] = []
    unranked: list[CompareRow] = []
    for group in sellers.values():
        for price in _applicable(group, workload):
            cost, why = usd_per_request(price, workload)
            reason = not_ranked_reason(price, workload, cost, why)
            row = CompareRow(
                price=price, rank=None, not_ranked_reason=reason,
                blended_usd_per_mtok=blended_usd_per_mtok(price.input_usd_per_mtok, price.output_usd_per_mtok,
                                                          input_ratio=input_ratio, output_ratio=output_ratio),
                usd_per_request=cost,
                usd_per_month=None if cost is None else cost * workload.requests_per_month,
                market=market.get(price.pk),
            )
            if reason:
                unranked.append(row)
            else:
                ranked.append((cost, price.offering.provider.slug, price.offering.source_model_id, row))  # type: ignore
    ranked.sort(key=lambda item: item[:3])
    out = [CompareRow(**{**row.__dict__, "rank": n}) for n, (*_, row) in enumerate(ranked, start=1)]
    unranked.sort(key=lambda r: (r.price.offering.provider.slug, r.price.offering.source_model_id,
                                 r.price.offering.service_tier))
    return out + unranked
