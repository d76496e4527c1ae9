"""Market math: implied CAGR, projections, disagreement with a stated rate. Decimal in and out."""

from __future__ import annotations

from decimal import Decimal, localcontext

ONE = Decimal(1)
HUNDRED = Decimal(100)
# A stated CAGR further than this from the one its own sizes imply is flagged.
CAGR_TOLERANCE_PP = Decimal(1)


def implied_cagr(*, start_usd_bn: Decimal, end_usd_bn: Decimal, years: int) -> Decimal:
    """Compound annual growth rate between two sizes, as a fraction: ``(end / start) ** (1 / years) - 1``.

    AI Inference Infrastructure, 30 -> 180 USD bn over 2023-2027:
    (180 / 30) ** (1 / 4) - 1 = 6 ** 0.25 - 1 = 0.5651 (56.5 %, not the 65 % stated).
    """
    if start_usd_bn <= 0 or end_usd_bn <= 0:
        raise ValueError("market sizes must be positive")
    if years == 0:
        raise ValueError("the two sizes must be in different years")
    with localcontext() as ctx:
        ctx.prec = 28
        return (end_usd_bn / start_usd_bn) ** (ONE / Decimal(years)) - ONE


def implied_cagr_pct(*, start_usd_bn: Decimal, end_usd_bn: Decimal, years: int) -> Decimal:
    return implied_cagr(start_usd_bn=start_usd_bn, end_usd_bn=end_usd_bn, years=years) * HUNDRED


def project(*, base_usd_bn: Decimal, base_year: int, cagr_pct: Decimal, year: int) -> Decimal:
    """Size in ``year`` growing from a base at a CAGR: ``base * (1 + cagr) ** (year - base_year)``.

    Works backwards too (a year before the base). 30 USD bn in 2023 at 65 %:
    30 * 1.65 ** 4 = 222.4 USD bn in 2027 (the article's rate overshoots its own 180).
    """
    if base_usd_bn <= 0:
        raise ValueError("the base size must be positive")
    growth = ONE + cagr_pct / HUNDRED
    if growth <= 0:
        raise ValueError("a CAGR of -100 % or less has no projection")
    with localcontext() as ctx:
        ctx.prec = 28
        return base_usd_bn * growth ** (year - base_year)


def cagr_gap_pp(*, stated_pct: Decimal, implied_pct: Decimal) -> Decimal:
    """Stated minus implied, in percentage points (65 - 56.51 = 8.49)."""
    return stated_pct - implied_pct


def cagr_disagrees(*, stated_pct: Decimal, implied_pct: Decimal, tolerance_pp: Decimal = CAGR_TOLERANCE_PP) -> bool:
    """True when a stated rate is more than ``tolerance_pp`` percentage points from the implied one."""
    return abs(cagr_gap_pp(stated_pct=stated_pct, implied_pct=implied_pct)) > tolerance_pp
