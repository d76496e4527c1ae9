"""Token economics, each figure worked by hand in the test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.benchmarks import economics as eco

CENT = Decimal("0.01")


def test_it_costs_a_token_from_an_hourly_price_and_a_throughput() -> None:
    # Lambda 8x H100 SXM at 31.92 USD/h, vLLM at 3,800 tokens/s: 31.92 / (3800 * 3600) * 1e6 = 2.3333...
    cost = eco.usd_per_mtok_from_hourly(usd_per_hour=Decimal("31.92"), tokens_per_s=Decimal(3800))
    assert cost.quantize(Decimal("0.0001")) == Decimal("2.3333")
    # 31.92 / 13,680,000 * 1e6 = 2.33333...: exact to the 20th place, no float noise.
    assert str(cost).startswith("2.33333333333333333333")


def test_it_charges_idle_capacity_to_the_tokens_served() -> None:
    half = eco.usd_per_mtok_from_hourly(usd_per_hour=Decimal("31.92"), tokens_per_s=Decimal(3800),
                                        utilisation=Decimal("0.5"))
    assert half.quantize(Decimal("0.0001")) == Decimal("4.6667")  # twice the cost at 50 %


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"tokens_per_s": Decimal(0)}, "tokens_per_s"),
    ({"tokens_per_s": Decimal(1), "utilisation": Decimal(0)}, "utilisation"),
    ({"tokens_per_s": Decimal(1), "utilisation": Decimal("1.5")}, "utilisation"),
])
def test_it_refuses_impossible_throughput_or_utilisation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        eco.usd_per_mtok_from_hourly(usd_per_hour=Decimal(1), **kwargs)


@pytest.mark.parametrize(("usd_per_mtok", "tokens_per_s", "usd_per_hour"), [
    ("8.50", 1200, "36.72"),   # 8.50 * 1200 * 3600 / 1e6
    ("2.70", 3800, "36.936"),  # 2.70 * 3800 * 3600 / 1e6
    ("1.40", 7500, "37.80"),   # 1.40 * 7500 * 3600 / 1e6
])
def test_it_implies_the_hourly_price_behind_a_reported_cost(usd_per_mtok: str, tokens_per_s: int,
                                                            usd_per_hour: str) -> None:
    implied = eco.usd_per_hour_implied(usd_per_mtok=Decimal(usd_per_mtok), tokens_per_s=Decimal(tokens_per_s))
    assert implied == Decimal(usd_per_hour)


def test_it_finds_about_37_usd_an_hour_behind_the_seed_h100_rows() -> None:
    rows = [("8.50", 1200), ("2.70", 3800), ("1.40", 7500)]
    implied = [eco.usd_per_hour_implied(usd_per_mtok=Decimal(c), tokens_per_s=Decimal(t)) for c, t in rows]
    mean = sum(implied) / 3  # (36.72 + 36.936 + 37.80) / 3 = 37.152
    assert mean == Decimal("37.152")
    assert all(Decimal(36) < value < Decimal(38) for value in implied)


def test_it_blends_input_and_output_prices_3_to_1_by_default() -> None:
    assert eco.blended_usd_per_mtok(input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(3)) == Decimal("1.5")
    # 1:1 -> (1 + 3) / 2 = 2
    assert eco.blended_usd_per_mtok(input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(3),
                                    input_ratio=1, output_ratio=1) == Decimal(2)
    with pytest.raises(ValueError):
        eco.blended_usd_per_mtok(input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(3), input_ratio=0,
                                 output_ratio=0)


def test_it_measures_spreads_as_max_over_min() -> None:
    # The article's "15x throughput": 18000 / 1200; "about 20x P99": 350 / 18 = 19.44; "over 10x cost": 8.50 / 0.75
    assert eco.spread([Decimal(1200), Decimal(3800), Decimal(7500), Decimal(18000)]) == Decimal(15)
    assert eco.spread([Decimal(350), Decimal(120), Decimal(65), Decimal(18)]).quantize(CENT) == Decimal("19.44")
    assert eco.spread([Decimal("8.50"), Decimal("2.70"), Decimal("1.40"), Decimal("0.75")]).quantize(CENT) == \
        Decimal("11.33")
    assert eco.spread([Decimal(5), None]) is None
    assert eco.spread([Decimal(5), Decimal(0), Decimal(10)]) == Decimal(2)  # zero is no measurement


def test_it_finds_the_volume_where_self_hosting_beats_an_api() -> None:
    hosting = eco.SelfHosting(usd_per_hour=Decimal("31.92"), tokens_per_s=Decimal(3800), utilisation=Decimal("0.5"))
    # One instance all month: 31.92 * 730 = 23,301.60 USD; it serves 3800 * 0.5 * 3600 * 730 / 1e6 = 4,993.2 M tokens.
    assert hosting.instance_usd_per_month == Decimal("23301.60")
    assert hosting.instance_mtok_per_month == Decimal("4993.2")
    # Against an API at 5.00 USD per 1M: 23,301.60 / 5 = 4,660.32 M tokens a month.
    break_even = eco.break_even_mtok_per_month(hosting=hosting, api_usd_per_mtok=Decimal(5))
    assert break_even == Decimal("4660.32")
    assert hosting.usd_per_month(break_even) == eco.api_usd_per_month(mtok_per_month=break_even,
                                                                       usd_per_mtok=Decimal(5))
    # Above it self-hosting is cheaper, below it the API is.
    assert hosting.usd_per_month(Decimal(6000)) < eco.api_usd_per_month(mtok_per_month=Decimal(6000),
                                                                        usd_per_mtok=Decimal(5))
    assert hosting.usd_per_month(Decimal(1000)) > eco.api_usd_per_month(mtok_per_month=Decimal(1000),
                                                                        usd_per_mtok=Decimal(5))
    # Beyond one instance, capacity scales: 10,000 M tokens at 4.6667 USD per 1M = 46,666.67 USD.
    assert hosting.usd_per_month(Decimal(10000)).quantize(CENT) == Decimal("46666.67")


def test_it_says_never_when_self_hosting_costs_more_per_token_than_the_api() -> None:
    hosting = eco.SelfHosting(usd_per_hour=Decimal("31.92"), tokens_per_s=Decimal(3800), utilisation=Decimal("0.5"))
    # 4.67 USD per 1M self-hosted vs 0.64 from an API: no volume makes renting cheaper.
    assert eco.break_even_mtok_per_month(hosting=hosting, api_usd_per_mtok=Decimal("0.64")) is None
    with pytest.raises(ValueError, match="zero"):
        eco.break_even_mtok_per_month(hosting=hosting, api_usd_per_mtok=Decimal(0))


def test_it_fits_decline_rate_halving_time_and_threshold_crossing() -> None:
    # 8 -> 4 -> 2 USD per 1M a year apart: halves every year, 50 % a year; 0.50 two years after 2.
    trend = eco.price_trend([(date(2023, 1, 1), Decimal(8)), (date(2024, 1, 1), Decimal(4)),
                             (date(2025, 1, 1), Decimal(2))])
    assert trend is not None
    assert trend.halving_time_years.quantize(CENT) == Decimal("1.00")
    assert trend.annual_decline.quantize(CENT) == Decimal("0.50")
    crossing = trend.crossing(Decimal("0.50"))
    assert abs((crossing - date(2027, 1, 1)).days) <= 2
    assert trend.usd_per_mtok_at(date(2026, 1, 1)).quantize(CENT) == Decimal("1.00")


def test_it_dates_a_threshold_already_passed_in_the_past() -> None:
    trend = eco.price_trend([(date(2023, 1, 1), Decimal(8)), (date(2024, 1, 1), Decimal(4))])
    crossing = trend.crossing(Decimal(6))  # 8 * 2^-t = 6 -> t = log2(4/3) = 0.415 years
    assert date(2023, 5, 30) <= crossing <= date(2023, 6, 3)


def test_it_has_no_halving_or_crossing_for_rising_prices() -> None:
    trend = eco.price_trend([(date(2023, 1, 1), Decimal(1)), (date(2024, 1, 1), Decimal(2))])
    assert trend.halving_time_years is None
    assert trend.annual_decline.quantize(CENT) == Decimal("-1.00")  # doubled: -100 % "decline"
    assert trend.crossing(Decimal("0.5")) is None


def test_it_needs_two_dates_to_fit() -> None:
    assert eco.price_trend([(date(2023, 1, 1), Decimal(8))]) is None
    assert eco.price_trend([(date(2023, 1, 1), Decimal(8)), (date(2023, 1, 1), Decimal(4))]) is None
    assert eco.price_trend([(date(2023, 1, 1), Decimal(8)), (date(2024, 1, 1), Decimal(0))]) is None
