"""Token economics: pure math, Decimal in and out, no database.

What a token costs to serve on rented hardware, what hourly price a reported
cost implies, when self-hosting beats an API, how wide the spread across
benchmark runs is, and how fast a price falls. Selectors
(:mod:`apps.benchmarks.selectors`) feed these functions from the database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np

SECONDS_PER_HOUR = Decimal(3600)
MTOK = Decimal(1_000_000)
HOURS_PER_MONTH = Decimal(730)  # 365 days x 24 h / 12 months
DAYS_PER_YEAR = 365.25
ONE = Decimal(1)


def usd_per_mtok_from_hourly(*, usd_per_hour: Decimal, tokens_per_s: Decimal, utilisation: Decimal = ONE) -> Decimal:
    """Cost of 1M output tokens on hardware rented by the hour.

    ``usd_per_mtok = usd_per_hour / (tokens_per_s * utilisation * 3600) * 1e6``

    Lambda's 8x H100 SXM at 31.92 USD/h serving vLLM's 3,800 tokens/s:
    31.92 / (3800 * 3600) * 1e6 = 2.3333 USD per 1M tokens. At 50 %
    utilisation the same hardware costs twice that per token.
    """
    if tokens_per_s <= 0:
        raise ValueError("tokens_per_s must be positive")
    if not 0 < utilisation <= 1:
        raise ValueError("utilisation must be in (0, 1]")
    return usd_per_hour / (tokens_per_s * utilisation * SECONDS_PER_HOUR) * MTOK


def usd_per_hour_implied(*, usd_per_mtok: Decimal, tokens_per_s: Decimal) -> Decimal:
    """The hourly hardware price a reported cost per 1M tokens implies (the inverse of the above).

    ``usd_per_hour = usd_per_mtok * tokens_per_s * 3600 / 1e6``

    The seed table's vLLM row: 2.70 * 3800 * 3600 / 1e6 = 36.936 USD/h.
    """
    return usd_per_mtok * tokens_per_s * SECONDS_PER_HOUR / MTOK


def blended_usd_per_mtok(*, input_usd_per_mtok: Decimal, output_usd_per_mtok: Decimal,
                         input_ratio: int | Decimal = 3, output_ratio: int | Decimal = 1) -> Decimal:
    """One price for a token mix: ``(ri * input + ro * output) / (ri + ro)``, 3:1 by default.

    1.00 in / 3.00 out at 3:1 -> (3 * 1 + 1 * 3) / 4 = 1.50.
    """
    ri, ro = Decimal(input_ratio), Decimal(output_ratio)
    if ri < 0 or ro < 0 or ri + ro == 0:
        raise ValueError("the input:output ratio must be non-negative and not 0:0")
    return (ri * input_usd_per_mtok + ro * output_usd_per_mtok) / (ri + ro)


def spread(values: Sequence[Decimal | None]) -> Decimal | None:
    """max / min of the positive values given; None with fewer than two.

    Seed throughputs 1,200 ... 18,000 tokens/s: 18000 / 1200 = 15 (the article's "15x").
    """
    present = [v for v in values if v is not None and v > 0]
    if len(present) < 2:
        return None
    return max(present) / min(present)


# --- self-hosting vs an API -----------------------------------------------------


@dataclass(frozen=True)
class SelfHosting:
    """Renting hardware to serve a model, at a stated average utilisation.

    Cost model: you pay for at least one instance all month; above what one
    instance serves at that utilisation, capacity is bought in proportion
    (more instances, autoscaled), so the cost per token stays
    :attr:`usd_per_mtok`. Monthly cost for V million tokens:
    ``max(usd_per_hour * hours_per_month, V * usd_per_mtok)``.
    """

    usd_per_hour: Decimal
    tokens_per_s: Decimal
    utilisation: Decimal = ONE
    hours_per_month: Decimal = HOURS_PER_MONTH

    @property
    def usd_per_mtok(self) -> Decimal:
        return usd_per_mtok_from_hourly(usd_per_hour=self.usd_per_hour, tokens_per_s=self.tokens_per_s,
                                        utilisation=self.utilisation)

    @property
    def instance_usd_per_month(self) -> Decimal:
        return self.usd_per_hour * self.hours_per_month

    @property
    def instance_mtok_per_month(self) -> Decimal:
        """Million tokens one instance serves in a month at the stated utilisation."""
        return self.tokens_per_s * self.utilisation * SECONDS_PER_HOUR * self.hours_per_month / MTOK

    def usd_per_month(self, mtok_per_month: Decimal) -> Decimal:
        return max(self.instance_usd_per_month, mtok_per_month * self.usd_per_mtok)


def api_usd_per_month(*, mtok_per_month: Decimal, usd_per_mtok: Decimal) -> Decimal:
    return mtok_per_month * usd_per_mtok


def break_even_mtok_per_month(*, hosting: SelfHosting, api_usd_per_mtok: Decimal) -> Decimal | None:
    """The monthly volume (million tokens) above which self-hosting costs less than the API.

    ``break_even = usd_per_hour * hours_per_month / api_usd_per_mtok``, which
    lies within one instance's capacity exactly when self-hosting is cheaper
    per token than the API; otherwise self-hosting never wins and the answer
    is None. Example: 31.92 USD/h x 730 h = 23,301.60 USD a month; against an
    API at 5.00 USD per 1M tokens that is 4,660.32 M tokens a month (vLLM's
    3,800 tokens/s at 50 % utilisation serves 4,993.2 M a month, 4.67 USD per 1M).
    """
    if api_usd_per_mtok <= 0:
        raise ValueError("an API price of zero is a label, not a price to break even against")
    if hosting.usd_per_mtok >= api_usd_per_mtok:
        return None
    return hosting.instance_usd_per_month / api_usd_per_mtok


# --- price trends ------------------------------------------------------------------


@dataclass(frozen=True)
class PriceTrend:
    """A log-linear fit ``ln(price) = intercept + slope * years since origin``."""

    origin: date
    slope_per_year: float
    intercept: float
    points: int
    first: date
    last: date

    @property
    def annual_decline(self) -> Decimal:
        """Share of the price lost per year, ``1 - e^slope`` (0.5 = halves every year; negative = rising)."""
        return _dec(1 - math.exp(self.slope_per_year))

    @property
    def halving_time_years(self) -> Decimal | None:
        """``ln 2 / -slope`` years for the price to halve; None when it is not falling."""
        if self.slope_per_year >= 0:
            return None
        return _dec(math.log(2) / -self.slope_per_year)

    def usd_per_mtok_at(self, when: date) -> Decimal:
        return _dec(math.exp(self.intercept + self.slope_per_year * _years(self.origin, when)))

    def crossing(self, usd_per_mtok: Decimal) -> date | None:
        """When the fitted price falls to a threshold: ``(ln threshold - intercept) / slope`` years after the origin.

        None when the price is not falling. The date may lie in the past when
        the fitted price is already below the threshold.
        """
        if usd_per_mtok <= 0:
            raise ValueError("the threshold must be a positive price")
        if self.slope_per_year >= 0:
            return None
        years = (math.log(float(usd_per_mtok)) - self.intercept) / self.slope_per_year
        try:
            return self.origin + timedelta(days=round(years * DAYS_PER_YEAR))
        except OverflowError:
            return None


def price_trend(points: Sequence[tuple[date | datetime, Decimal]]) -> PriceTrend | None:
    """Fit ``ln(price)`` against time in years (numpy polyfit, degree 1); None with fewer than two dates.

    Prices 8, 4, 2 on 2023-01-01, 2024-01-01, 2025-01-01: slope ln(1/2) per year,
    annual decline 50 %, halving time 1 year, 0.50 reached about 2027-01-01.
    """
    clean = [(_as_date(when), price) for when, price in points if price is not None and price > 0]
    if len({when for when, _ in clean}) < 2:
        return None
    clean.sort()
    origin = clean[0][0]
    xs = np.array([_years(origin, when) for when, _ in clean], dtype=float)
    ys = np.log(np.array([float(price) for _, price in clean], dtype=float))
    slope, intercept = np.polyfit(xs, ys, 1)
    return PriceTrend(origin=origin, slope_per_year=float(slope), intercept=float(intercept), points=len(clean),
                      first=clean[0][0], last=clean[-1][0])


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    return value


def _years(origin: date, when: date) -> float:
    return (when - origin).days / DAYS_PER_YEAR


def _dec(value: float, places: int = 10) -> Decimal:
    return Decimal(repr(round(value, places)))
