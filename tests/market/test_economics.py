"""Market math, each figure worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.market import economics as eco

CENT = Decimal("0.01")


@pytest.mark.parametrize(("start", "end", "implied_pct"), [
    (30, 180, "56.51"),   # (180/30)^(1/4) - 1 = 6^0.25 - 1 = 0.56508
    (220, 450, "19.59"),  # (450/220)^(1/4) - 1 = 2.04545^0.25 - 1
    (45, 110, "25.04"),   # (110/45)^(1/4) - 1 = 2.44444^0.25 - 1
    (15, 75, "49.53"),    # 5^0.25 - 1
])
def test_it_implies_the_cagr_of_two_sizes(start: int, end: int, implied_pct: str) -> None:
    pct = eco.implied_cagr_pct(start_usd_bn=Decimal(start), end_usd_bn=Decimal(end), years=4)
    assert pct.quantize(CENT) == Decimal(implied_pct)


def test_it_flags_a_stated_cagr_more_than_a_point_from_the_implied_one() -> None:
    implied = eco.implied_cagr_pct(start_usd_bn=Decimal(30), end_usd_bn=Decimal(180), years=4)
    assert eco.cagr_gap_pp(stated_pct=Decimal(65), implied_pct=implied).quantize(CENT) == Decimal("8.49")
    assert eco.cagr_disagrees(stated_pct=Decimal(65), implied_pct=implied)
    assert not eco.cagr_disagrees(stated_pct=Decimal(20), implied_pct=Decimal("19.59"))
    assert not eco.cagr_disagrees(stated_pct=Decimal(50), implied_pct=Decimal("49.53"))
    assert eco.cagr_disagrees(stated_pct=Decimal(50), implied_pct=Decimal("48.99"))


def test_it_projects_from_a_base_and_a_cagr() -> None:
    # 30 * 1.65^4 = 222.36: the stated rate overshoots the article's own 2027 figure of 180.
    assert eco.project(base_usd_bn=Decimal(30), base_year=2023, cagr_pct=Decimal(65), year=2027).quantize(CENT) == \
        Decimal("222.36")
    implied = eco.implied_cagr_pct(start_usd_bn=Decimal(30), end_usd_bn=Decimal(180), years=4)
    # The implied rate lands on 180 in 2027 and goes on to 30 * 6^(7/4) = 30 * 23.002 = 690.06 in 2030.
    assert eco.project(base_usd_bn=Decimal(30), base_year=2023, cagr_pct=implied, year=2027).quantize(CENT) == \
        Decimal("180.00")
    assert eco.project(base_usd_bn=Decimal(30), base_year=2023, cagr_pct=implied, year=2030).quantize(
        Decimal("0.1")) == Decimal("690.1")
    # Backwards: 110 in 2027 at 25 % was 110 / 1.25 = 88 in 2026.
    assert eco.project(base_usd_bn=Decimal(110), base_year=2027, cagr_pct=Decimal(25), year=2026) == Decimal(88)


def test_it_refuses_impossible_inputs() -> None:
    with pytest.raises(ValueError):
        eco.implied_cagr(start_usd_bn=Decimal(0), end_usd_bn=Decimal(1), years=1)
    with pytest.raises(ValueError):
        eco.implied_cagr(start_usd_bn=Decimal(1), end_usd_bn=Decimal(2), years=0)
    with pytest.raises(ValueError):
        eco.project(base_usd_bn=Decimal(1), base_year=2023, cagr_pct=Decimal(-100), year=2024)
