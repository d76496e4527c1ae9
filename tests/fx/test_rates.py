"""ECB rates through the ingest pipeline, and conversions worked by hand (weekend, a dropped currency)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from apps.fx.models import FxCurrency, FxRate
from apps.fx.selectors import FxError, fx_currency_check, fx_rate_on, fx_rates_on_days, stale_note
from apps.fx.services import cross_rate, fx_history_load_bundled
from apps.sources.models import Snapshot
from tests.fx.conftest import HIST, ingest

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data"


def test_it_crosses_to_usd_exactly_and_rounds_half_even_at_ten_places():
    # 130 / 1.1 = 118.181818181818...; 1 / 1.1 = 0.909090909090909...; 1 / 1.086 = 0.92081031307550...
    assert cross_rate(per_eur=Decimal("130.00"), usd_per_eur=Decimal("1.1000")) == Decimal("118.1818181818")
    assert cross_rate(per_eur=Decimal(1), usd_per_eur=Decimal("1.1")) == Decimal("0.9090909091")
    assert cross_rate(per_eur=Decimal(1), usd_per_eur=Decimal("1.086")) == Decimal("0.9208103131")
    # A tie at the 11th place goes to the even digit: 0.00000000005 / 1 -> 0.0000000000 (0 is even).
    assert cross_rate(per_eur=Decimal("0.00000000005"), usd_per_eur=Decimal(1)) == Decimal("0E-10")


def test_it_converts_hand_worked_prices_on_a_weekday_and_a_weekend(hist_rates):
    friday = fx_rate_on(currency="JPY", day=date(2024, 3, 1))
    assert (friday.rate_day, friday.per_usd) == (date(2024, 3, 1), Decimal("118.1818181818"))
    # 2.5 USD per 1M tokens x 118.1818181818 = 295.4545454545 JPY, an exact product.
    assert friday.convert(Decimal("2.5")) == Decimal("295.45454545450")
    # Saturday and Sunday carry Friday's rate and say so.
    for day in (date(2024, 3, 2), date(2024, 3, 3)):
        rate = fx_rate_on(currency="EUR", day=day)
        assert (rate.rate_day, rate.per_usd) == (date(2024, 3, 1), Decimal("0.9090909091"))
        assert rate.convert(Decimal("2.5")) == Decimal("2.27272727275")
    monday = fx_rate_on(currency="EUR", day=date(2024, 3, 4))
    assert (monday.rate_day, monday.per_usd) == (date(2024, 3, 4), Decimal("0.9208103131"))
    usd = fx_rate_on(currency="USD", day=date(2024, 3, 2))
    assert usd.convert(Decimal("2.5")) == Decimal("2.5")


def test_a_currency_the_ecb_stopped_publishing_is_refused_past_the_age_limit(hist_rates):
    # RUB's last rate is 2022-03-01 (120 RUB per EUR, 1.1 USD per EUR: 109.0909090909 per USD).
    assert fx_rate_on(currency="RUB", day=date(2022, 3, 4)).per_usd == Decimal("109.0909090909")
    with pytest.raises(FxError, match=r"more than 7 days older \(the ECB last published RUB on 2022-03-01\)"):
        fx_rate_on(currency="RUB", day=date(2022, 3, 8))
    with pytest.raises(FxError, match="start on 2022-03-01"):
        fx_rate_on(currency="JPY", day=date(2021, 12, 31))
    rates = fx_rates_on_days(currency="RUB", days=[date(2022, 3, 1), date(2022, 3, 7), date(2022, 3, 8)])
    assert [r and r.rate_day for r in rates.values()] == [date(2022, 3, 1), date(2022, 3, 1), None]


# Both ways of reading a page's rates (an index range, or PostgreSQL's per-day statement) give the same answers.
@pytest.mark.parametrize("spread_days", [0, 100_000])
def test_a_feed_behind_converts_at_its_newest_rate_and_says_how_old_while_a_dropped_currency_is_refused(
        hist_rates, monkeypatch, spread_days):
    monkeypatch.setattr("apps.fx.selectors.SPREAD_DAYS", spread_days)
    # The newest publication held is 2024-03-05. Weeks later (no fetch since), EUR still converts at it
    # (1 / 1.085 = 0.9216589862) and says it is 56 days old; RUB (last 2022-03-01) stays refused.
    late = fx_rate_on(currency="EUR", day=date(2024, 4, 30))
    assert (late.rate_day, late.per_usd, late.age_days, late.stale) == (
        date(2024, 3, 5), Decimal("0.9216589862"), 56, True)
    assert "56 days old" in stale_note(late) and "2024-03-05" in stale_note(late)
    assert not fx_rate_on(currency="EUR", day=date(2024, 3, 5)).stale
    with pytest.raises(FxError, match=r"than the newest ECB publication held \(2024-03-05\) \(the ECB last "
                                      r"published RUB on 2022-03-01\)"):
        fx_rate_on(currency="RUB", day=date(2024, 4, 30))
    rates = fx_rates_on_days(currency="JPY", days=[date(2024, 3, 4), date(2024, 4, 30), date(2024, 5, 1)])
    assert [(r.rate_day, r.day, r.stale) for r in rates.values()] == [
        (date(2024, 3, 4), date(2024, 3, 4), False), (date(2024, 3, 5), date(2024, 4, 30), True),
        (date(2024, 3, 5), date(2024, 5, 1), True)]
    # Spread over years.
    spread = fx_rates_on_days(currency="RUB", days=[date(2022, 3, 2), date(2024, 4, 30)])
    assert [r and r.rate_day for r in spread.values()] == [date(2022, 3, 1), None]
    spread = fx_rates_on_days(currency="GBP", days=[date(2022, 3, 2), date(2024, 4, 30)])
    assert [(r.rate_day, r.stale) for r in spread.values()] == [(date(2022, 3, 2), False), (date(2024, 3, 5), True)]


def test_an_unknown_currency_is_a_clear_error_listing_valid_codes(hist_rates):
    assert fx_currency_check("eur") == "EUR"
    with pytest.raises(FxError, match=r"Unknown currency 'XYZ'; valid codes: EUR, GBP, JPY, RUB, USD\."):
        fx_currency_check("XYZ")


def test_the_same_bytes_twice_change_nothing_and_every_rate_names_its_snapshot(hist_rates):
    count = FxRate.objects.count()
    # 4 currencies x 5 days less RUB's four N/A, plus EUR's own row per day.
    assert count == 16 + 5
    again = ingest(HIST, at=datetime(2024, 3, 6, tzinfo=UTC))
    assert again.status == "unchanged" and FxRate.objects.count() == count
    assert set(FxRate.objects.values_list("snapshot_id", flat=True)) == {hist_rates.snapshot_id}
    assert Snapshot.objects.get(pk=hist_rates.snapshot_id).sha256


def test_a_correction_wins_by_observation_time_whatever_the_arrival_order():
    corrected = HIST.replace(b"2024-03-01,1.1000,130.00", b"2024-03-01,1.1000,131.00")
    early, late = datetime(2024, 3, 5, tzinfo=UTC), datetime(2024, 3, 9, tzinfo=UTC)

    def jpy_on_friday():
        return FxRate.objects.get(currency="JPY", day=date(2024, 3, 1)).per_eur

    assert ingest(HIST, at=early).status == "ok"
    assert ingest(corrected, at=late).status == "ok"
    in_order = jpy_on_friday()
    FxRate.objects.all().delete()
    FxCurrency.objects.all().delete()
    Snapshot.objects.filter(source__key="ecb-fx").update(parse_status="pending")
    from apps.sources.services import snapshot_reparse

    for snapshot in Snapshot.objects.filter(source__key="ecb-fx").order_by("-observed_at"):  # backwards
        assert snapshot_reparse(snapshot=snapshot).status == "ok"
    assert in_order == jpy_on_friday() == Decimal("131.00")


def test_a_daily_xml_adds_its_day_and_refreshes_the_span(hist_rates):
    run = ingest((DATA / "eurofxref-daily.xml").read_bytes(), filename="eurofxref-daily.xml")
    assert run.status == "ok", run.message
    assert run.created_count == 30  # 29 currencies and EUR
    assert FxCurrency.objects.get(code="USD").last_day == date(2026, 10, 30)
    assert FxCurrency.objects.get(code="RUB").last_day == date(2022, 3, 1)
    assert Snapshot.objects.get(pk=run.snapshot_id).observed_at == datetime(2026, 10, 30, tzinfo=UTC)


def test_a_bad_file_changes_nothing(hist_rates):
    count = FxRate.objects.count()
    run = ingest(b"<html>Service unavailable</html>", filename="eurofxref-daily.xml")
    assert run.status == "failed" and "not an ECB reference rate file" in run.message
    assert FxRate.objects.count() == count


def test_the_bundled_history_loads_through_the_pipeline_once():
    first = fx_history_load_bundled()
    assert first.status == "ok", first.message
    assert first.created_count > 200_000
    assert fx_rate_on(currency="EUR", day=date(1999, 1, 4)).per_usd == cross_rate(
        per_eur=Decimal(1), usd_per_eur=Decimal("1.1789"))
    second = fx_history_load_bundled()
    assert second.status == "unchanged"
