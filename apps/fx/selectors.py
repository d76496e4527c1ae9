"""Reads for exchange rates: which currencies exist, the rate in force on a day, a page's rates at once.

The rule (issue 16): a USD figure of day D converts at the reference rate of D, that is the last rate the ECB
published on or before D (weekends and TARGET holidays carry the previous day's). A rate older than
``TOKENWATCH_FX_MAX_AGE_DAYS`` (default 7: a weekend plus Easter's four closed days fit) is refused with a
message saying when the currency was last published: a currency the ECB stopped quoting (RUB after
2022-03-01, HRK after Croatia took the euro) never converts at a years-old rate.

Converted figure = USD figure x per_usd, an exact Decimal product (per_usd: apps.fx.models.FxRate).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import connection

from .models import FxCurrency, FxRate

BASE = "USD"


class FxError(ValueError):
    """A conversion that cannot be made; the message is one plain sentence for the user."""


@dataclass(frozen=True)
class RateOn:
    """The rate that converts figures of ``day``: ``per_usd`` units per 1 USD, published on ``rate_day``."""

    currency: str
    day: date
    rate_day: date
    per_usd: Decimal

    def convert(self, usd: Decimal | None) -> Decimal | None:
        return None if usd is None else usd * self.per_usd

    # Written once per rate, not once per row of a page (cached_property writes past the frozen __setattr__).
    @cached_property
    def rate_day_text(self) -> str:
        return self.rate_day.isoformat()

    @cached_property
    def per_usd_text(self) -> str:
        from apps.api_common.columns import decimal_text

        return decimal_text(self.per_usd)


def max_age() -> timedelta:
    return timedelta(days=settings.TOKENWATCH_FX_MAX_AGE_DAYS)


def fx_currency_codes() -> list[str]:
    """Every code ``?currency=`` takes: USD and those the ECB quotes (EUR included), sorted."""
    return sorted({BASE, *FxCurrency.objects.values_list("code", flat=True)})


def fx_currency_check(code: str) -> str:
    """The currency code, upper-cased, or FxError listing the valid ones."""
    wanted = (code or "").strip().upper()
    if wanted == BASE or (len(wanted) == 3 and FxCurrency.objects.filter(code=wanted).exists()):
        return wanted
    raise _unknown(code)


def _unknown(code: str) -> FxError:
    codes = fx_currency_codes()
    if codes == [BASE]:
        return FxError(f"Unknown currency {code[:20]!r}: no exchange rates are loaded yet (the ecb-fx source); "
                       f"only {BASE} is available.")
    return FxError(f"Unknown currency {code[:20]!r}; valid codes: {', '.join(codes)}.")


def _why_missing(currency: str, day: date) -> str:
    span = FxCurrency.objects.filter(code=currency).values_list("first_day", "last_day").first()
    if span is None:
        raise _unknown(currency)
    first, last = span
    if day < first:
        return f"the ECB's {currency} reference rates start on {first.isoformat()}, after {day.isoformat()}"
    return (f"the last {currency} reference rate on or before {day.isoformat()} is more than "
            f"{max_age().days} days older (the ECB last published {currency} on {last.isoformat()})")


def fx_rate_on(*, currency: str, day: date) -> RateOn:
    """The rate converting figures of ``day``; FxError saying why when there is none (see module doc)."""
    if currency == BASE:
        return RateOn(BASE, day, day, Decimal(1))
    row = (FxRate.objects.filter(currency=currency, day__lte=day, day__gt=day - max_age())
           .order_by("-day").values_list("day", "per_usd").first())
    if row is None:
        raise FxError(f"Cannot convert to {currency} on {day.isoformat()}: {_why_missing(currency, day)}.")
    return RateOn(currency, day, row[0], row[1])


def fx_rates_on_days(*, currency: str, days: Iterable[date]) -> dict[date, RateOn | None]:
    """The rate of each day (None where there is none within the age limit), from one query for all of them.
    Days a publication covers share its RateOn (whose ``day`` is then the publication's)."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    if currency == BASE:
        return {day: RateOn(BASE, day, day, Decimal(1)) for day in wanted}
    limit = max_age()
    # A page whose days lie close together reads the few publications between them (a range of the index);
    # one spread over years asks PostgreSQL for each day's rate instead of reading every publication between.
    spread = (wanted[-1] - wanted[0]).days > 2 * len(wanted) + limit.days
    if spread and connection.vendor == "postgresql":
        found = _rates_on_days_postgres(currency, wanted, limit)
        if found is not None:
            return found
    rows = fx_rate_rows(currency=currency, after=wanted[0] - limit, until=wanted[-1])
    if not rows and not FxCurrency.objects.filter(code=currency).exists():
        raise _unknown(currency)  # checked only here: a known currency's page costs one query, not two
    rate_days = [row[0] for row in rows]
    out: dict[date, RateOn | None] = {}
    # One RateOn per publication, shared by the days it covers (its texts are then written once per page).
    shared: dict[int, RateOn] = {}
    for day in wanted:
        i = bisect.bisect_right(rate_days, day) - 1
        if i < 0 or day - rate_days[i] >= limit:
            out[day] = None
            continue
        rate = shared.get(i)
        if rate is None:
            shared[i] = rate = RateOn(currency, rate_days[i], rate_days[i], rows[i][1])
        out[day] = rate
    return out


# The hot read of a converted API page: plain SQL on PostgreSQL (the ORM's compile was most of its cost); the
# unique (currency, day) index answers it.
_RATE_ROWS_SQL = "SELECT day, per_usd FROM fx_fxrate WHERE currency = %s AND day > %s AND day <= %s ORDER BY day"


# Each wanted day's rate in one statement, one index probe per day: a page whose rows span years reads a row
# per day it needs, not every publication in between.
_RATES_ON_DAYS_SQL = """
SELECT wanted.day, rate.day, rate.per_usd
FROM unnest(%s::date[]) AS wanted(day)
LEFT JOIN LATERAL (
    SELECT r.day, r.per_usd FROM fx_fxrate r
    WHERE r.currency = %s AND r.day <= wanted.day AND r.day > wanted.day - %s
    ORDER BY r.day DESC LIMIT 1
) AS rate ON true
"""


def _rates_on_days_postgres(currency: str, wanted: list[date], limit: timedelta
                            ) -> dict[date, RateOn | None] | None:
    """PostgreSQL's answer for ``fx_rates_on_days``; None when no day has a rate (the caller says why)."""
    connection.ensure_connection()
    # psycopg's own cursor: Django's wrapper around it was a fifth of this lookup's time on a page.
    with connection.connection.cursor() as cursor:
        cursor.execute(_RATES_ON_DAYS_SQL, [wanted, currency, limit.days])
        found = cursor.fetchall()
    if all(rate_day is None for _, rate_day, _ in found):
        return None
    shared: dict[date, RateOn] = {}
    out: dict[date, RateOn | None] = {}
    for day, rate_day, per_usd in found:
        if rate_day is None:
            out[day] = None
            continue
        rate = shared.get(rate_day)
        if rate is None:
            shared[rate_day] = rate = RateOn(currency, rate_day, rate_day, per_usd)
        out[day] = rate
    return out


def fx_rate_rows(*, currency: str, after: date, until: date) -> list[tuple[date, Decimal]]:
    """(day, per_usd) of ``currency`` for after < day <= until, in day order."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:  # psycopg's own: no Django wrapper on the hot path
            cursor.execute(_RATE_ROWS_SQL, [currency, after, until])
            return cursor.fetchall()
    return list(FxRate.objects.filter(currency=currency, day__gt=after, day__lte=until)
                .order_by("day").values_list("day", "per_usd"))


def fx_daily_rates(*, currency: str, start: date, end: date) -> list[tuple[date, Decimal]]:
    """(rate day, per_usd) of every publication from the one in force on ``start`` to ``end``: the steps a
    converted history chart takes."""
    if currency == BASE:
        return [(start, Decimal(1))]
    before = (FxRate.objects.filter(currency=currency, day__lte=start, day__gt=start - max_age())
              .order_by("-day").values_list("day", "per_usd").first())
    rows = list(FxRate.objects.filter(currency=currency, day__gt=start, day__lte=end)
                .order_by("day").values_list("day", "per_usd"))
    return ([before] if before else []) + rows
