"""Reads for exchange rates: which currencies exist, the rate in force on a day, a page's rates at once.

The rule (issue 16): a USD figure of day D converts at the reference rate of D, that is the last rate the ECB
published on or before D (weekends and TARGET holidays carry the previous day's). The age limit
(``TOKENWATCH_FX_MAX_AGE_DAYS``, default 7: a weekend plus Easter's four closed days fit) is measured from
D or from the newest ECB publication held, whichever is earlier ("the reference day"). So a currency whose
last rate is more than 7 days older than publications the ECB made after it (RUB after 2022-03-01, HRK after
Croatia took the euro) is refused with a message saying when it was last published; but a feed that has not
been fetched for weeks still converts today's prices at its newest rate, and says how old that rate is
(``RateOn.stale``, ``stale_note``) rather than refusing every current conversion.

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
SPREAD_DAYS = 120  # see _rates_within_limit


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

    @property
    def age_days(self) -> int:
        """Days between the figure's day and the publication of its rate (0 on a publication day)."""
        return (self.day - self.rate_day).days

    @property
    def stale(self) -> bool:
        """Older than the age limit counted from the day asked: the feed itself is behind (shown, not refused)."""
        return self.age_days >= settings.TOKENWATCH_FX_MAX_AGE_DAYS

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


def fx_newest_day() -> date | None:
    """The newest ECB publication held (every publication has a USD rate: the others are crossed through it)."""
    return FxRate.objects.filter(currency=BASE).order_by("-day").values_list("day", flat=True).first()


def reference_day(day: date, newest: date | None) -> date:
    """The day the age limit counts back from: ``day``, or the newest publication held when that is earlier."""
    return day if newest is None or day <= newest else newest


def stale_note(rate: RateOn) -> str:
    """The sentence a page or response gives when the rate is older than the limit before the day asked."""
    return (f"The {rate.currency} rate used is {rate.age_days} days old: the newest ECB publication held is of "
            f"{rate.rate_day.isoformat()} (fetch the ecb-fx source for newer rates).")


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
    reference = reference_day(day, fx_newest_day())
    later = "" if reference == day else f" than the newest ECB publication held ({reference.isoformat()})"
    return (f"the last {currency} reference rate on or before {day.isoformat()} is more than "
            f"{max_age().days} days older{later} (the ECB last published {currency} on {last.isoformat()})")


def fx_rate_on(*, currency: str, day: date) -> RateOn:
    """The rate converting figures of ``day``; FxError saying why when there is none (see module doc)."""
    if currency == BASE:
        return RateOn(BASE, day, day, Decimal(1))
    reference = reference_day(day, fx_newest_day())
    row = (FxRate.objects.filter(currency=currency, day__lte=reference, day__gt=reference - max_age())
           .order_by("-day").values_list("day", "per_usd").first())
    if row is None:
        raise FxError(f"Cannot convert to {currency} on {day.isoformat()}: {_why_missing(currency, day)}.")
    return RateOn(currency, day, row[0], row[1])


def fx_rates_on_days(*, currency: str, days: Iterable[date]) -> dict[date, RateOn | None]:
    """The rate of each day (None where there is none within the age limit), from one query for all of them
    (two more only for days past the age limit after the newest publication: the feed is behind). Days a
    publication covers share its RateOn (whose ``day`` is then the publication's), except days the feed is
    behind on: theirs keep their own day, so ``stale`` tells how far behind it is."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    if currency == BASE:
        return {day: RateOn(BASE, day, day, Decimal(1)) for day in wanted}
    limit = max_age()
    found = _rates_within_limit(currency, wanted, limit)
    missing = [day for day in wanted if found[day] is None]
    newest = fx_newest_day() if missing else None
    if newest is not None:
        # A day past the newest publication counts the limit back from that publication (module doc): a rate
        # within the limit of it is used. Days the limit refuses on their own (rare: a weekend plus a holiday
        # is inside it) are the only ones that pay for these two lookups.
        behind = [day for day in missing if day > newest]
        if behind:
            row = _last_rate(currency, newest, limit)
            for day in behind:
                found[day] = row
    out: dict[date, RateOn | None] = {}
    # One RateOn per publication, shared by the days it covers (its texts are then written once per page).
    shared: dict[tuple[date, date | None], RateOn] = {}
    for day in wanted:
        row = found[day]
        if row is None:
            out[day] = None
            continue
        rate_day, per_usd = row
        own = day if newest is not None and day > newest and day - rate_day >= limit else None
        rate = shared.get((rate_day, own))
        if rate is None:
            shared[(rate_day, own)] = rate = RateOn(currency, own or rate_day, rate_day, per_usd)
        out[day] = rate
    return out


def _rates_within_limit(currency: str, wanted: list[date], limit: timedelta
                        ) -> dict[date, tuple[date, Decimal] | None]:
    """Each day's last rate on or before it and within ``limit`` of it (the hot path: one statement)."""
    # A page whose days lie within months reads the publications between them (a range of the index: ~0.7 a
    # day); one spread over years asks PostgreSQL for each day's rate instead. The LATERAL statement costs
    # ~0.25 ms more to plan and run than a range of a hundred rows (bench/fx.py: a page's rows had 2 days
    # two weeks apart), so the range is used up to ~4 months plus a week per day asked.
    spread = (wanted[-1] - wanted[0]).days > SPREAD_DAYS + 7 * len(wanted) + limit.days
    if spread and connection.vendor == "postgresql":
        found = _rates_on_days_postgres(currency, wanted, limit)
        if found is not None:
            return found
    rows = fx_rate_rows(currency=currency, after=wanted[0] - limit, until=wanted[-1])
    if not rows and not FxCurrency.objects.filter(code=currency).exists():
        raise _unknown(currency)  # checked only here: a known currency's page costs one query, not two
    rate_days = [row[0] for row in rows]
    out: dict[date, tuple[date, Decimal] | None] = {}
    for day in wanted:
        i = bisect.bisect_right(rate_days, day) - 1
        out[day] = rows[i] if i >= 0 and day - rate_days[i] < limit else None
    return out


def _last_rate(currency: str, reference: date, limit: timedelta) -> tuple[date, Decimal] | None:
    return (FxRate.objects.filter(currency=currency, day__lte=reference, day__gt=reference - limit)
            .order_by("-day").values_list("day", "per_usd").first())


# The hot read of a converted API page: plain SQL on PostgreSQL (the ORM's compile was most of its cost); the
# unique (currency, day) index answers it. Kept this simple on purpose: PostgreSQL plans it on every run (a
# custom plan), and a join or a CTE here doubled that planning (the newest publication is asked apart, and
# only when a day has no rate within the limit).
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
                            ) -> dict[date, tuple[date, Decimal] | None] | None:
    """PostgreSQL's answer for ``_rates_within_limit``; None when no day has a rate (the caller says why)."""
    connection.ensure_connection()
    # psycopg's own cursor: Django's wrapper around it was a fifth of this lookup's time on a page.
    with connection.connection.cursor() as cursor:
        cursor.execute(_RATES_ON_DAYS_SQL, [wanted, currency, limit.days])
        found = cursor.fetchall()
    if all(rate_day is None for _, rate_day, _ in found):
        return None
    return {day: None if rate_day is None else (rate_day, per_usd) for day, rate_day, per_usd in found}


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
    reference = reference_day(start, fx_newest_day())
    before = (FxRate.objects.filter(currency=currency, day__lte=reference, day__gt=reference - max_age())
              .order_by("-day").values_list("day", "per_usd").first())
    rows = list(FxRate.objects.filter(currency=currency, day__gt=start, day__lte=end)
                .order_by("day").values_list("day", "per_usd"))
    return ([before] if before else []) + rows
