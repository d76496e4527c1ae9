"""The dashboard's currency picker (``?currency=EUR`` in the page's URL, so its downloads and links keep it) and
price history in a currency.

A USD price that held from March to May is one flat step in USD; in EUR it is a staircase that moves at every
ECB publication in between (the rate of each day: the last published on or before it). ``steps_in_currency``
splits each step at those days; the chart then bends where the rate moved though the USD price did not.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from apps.dashboard.tables import Column

from .selectors import (
    BASE,
    FxError,
    RateOn,
    fx_currency_check,
    fx_currency_codes,
    fx_daily_rates,
    fx_newest_day,
    fx_rate_on,
    max_age,
    reference_day,
    stale_note,
)

PARAM = "currency"


def currency_choice(request: HttpRequest) -> tuple[str | None, str]:
    """(the chosen currency, or None for USD; an error message for the page, "" when none)."""
    raw = request.GET.get(PARAM, "").strip()
    if not raw or raw.upper() == BASE:
        return None, ""
    try:
        return fx_currency_check(raw), ""
    except FxError as exc:
        return None, f"{exc} Prices are shown in USD."


def currency_options_html(selected: str | None) -> SafeString:
    """<option>s of the picker: USD first, then every currency with ECB rates (the pages' one option writer)."""
    from apps.dashboard.pages.common import options_html

    codes = [BASE, *(code for code in fx_currency_codes() if code != BASE)]
    return options_html([(code, code) for code in codes], selected or BASE)


def _midnight(day: date) -> pd.Timestamp:
    return pd.Timestamp(day.isoformat(), tz="UTC")


def steps_in_currency(steps: pd.DataFrame, currency: str) -> tuple[pd.DataFrame, int]:
    """``steps`` (apps.dashboard.selectors.price_steps) with each step split at every rate publication inside
    it and its value columns (``usd_per_mtok``, ``usd_exact``, ``previous_usd_per_mtok``: the names the chart
    builder reads) holding the currency's values: USD x the day's rate, exact in ``usd_exact``. Adds
    ``fx_rate_date`` and ``fx_rate`` (units per USD). Returns the new frame and how many steps (or parts)
    had no rate within the age limit and were left out."""
    if steps.empty:
        return steps.assign(fx_rate_date=[], fx_rate=[]), 0
    first, last = steps["start"].min().date(), steps["end"].max().date()
    rates = fx_daily_rates(currency=currency, start=first, end=last)
    rate_days = [day for day, _ in rates]
    limit = max_age()
    newest = fx_newest_day()
    # Where the rate in force changes: each publication, and the day a rate runs out (max age) with none after
    # while the ECB went on publishing; the newest publication held never runs out (a feed behind is shown).
    changes = sorted({*rate_days, *(day + limit for n, day in enumerate(rate_days)
                                   if (rate_days[n + 1] > day + limit if n + 1 < len(rate_days)
                                       else newest is not None and day + limit <= newest))})
    out: list[dict[str, Any]] = []
    missing = 0
    for row in steps.to_dict("records"):
        start, end = row["start"], row["end"]
        usd = row["usd_exact"] if isinstance(row.get("usd_exact"), Decimal) else Decimal(str(row["usd_per_mtok"]))
        # The days another rate (or none) takes effect inside [start, end): the step's own start, then each change.
        cuts = [start] + [_midnight(day) for day in changes[bisect_right(changes, start.date()):]
                          if _midnight(day) < end]
        for n, piece_start in enumerate(cuts):
            piece_end = cuts[n + 1] if n + 1 < len(cuts) else end
            reference = reference_day(piece_start.date(), newest)
            i = bisect_right(rate_days, reference) - 1
            if i < 0 or reference - rate_days[i] >= limit:
                missing += 1
                continue
            per_usd = rates[i][1]
            if n and out and out[-1]["fx_rate"] == per_usd and out[-1]["end"] == piece_start:
                # An unchanged rate published again (every weekday): the same stretch goes on.
                out[-1]["end"] = piece_end
                out[-1]["open_end"] = bool(row["open_end"]) and n + 1 == len(cuts)
                continue
            value = usd * per_usd
            previous = row["previous_usd_per_mtok"]
            out.append({
                **row, "start": piece_start, "end": piece_end,
                "open_end": bool(row["open_end"]) and n + 1 == len(cuts),
                "usd_exact": value, "usd_per_mtok": float(value),
                # A dot marks a change of the USD price (the step's start), not each new rate.
                "previous_usd_per_mtok": (float(Decimal(str(previous)) * per_usd)
                                          if n == 0 and previous == previous else float("nan")),
                "fx_rate_date": rate_days[i], "fx_rate": per_usd,
            })
    frame = pd.DataFrame(out, columns=[*steps.columns, "fx_rate_date", "fx_rate"])
    if not frame.empty:
        frame["start"] = pd.to_datetime(frame["start"], utc=True)
        frame["end"] = pd.to_datetime(frame["end"], utc=True)
    return frame, missing


def figure_in_currency(figure: Any, currency: str | None = None) -> Any:
    """A price figure whose numbers are in another currency, changed in place: no "$" on its axes (prefixes,
    log-scale tick labels "$0.70", d3 formats "%{y:$,.0f}"), in its texts, hover texts or annotations, and
    with ``currency`` given, "USD" in its titles and hovers renamed (monthly cost's "USD per month")."""

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            value = value.replace("$", "")
            return value.replace(BASE, currency) if currency else value
        if isinstance(value, (list, tuple)):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    layout = figure.layout
    for axis in (layout.xaxis, layout.yaxis):
        if axis.tickprefix:
            axis.tickprefix = ""
        if axis.ticktext:
            axis.ticktext = swap(list(axis.ticktext))
        if currency and axis.title and axis.title.text:
            axis.title.text = swap(axis.title.text)
    for annotation in layout.annotations or ():
        if annotation.text:
            annotation.text = swap(annotation.text)
    if currency and isinstance(layout.meta, dict):
        layout.meta = swap(layout.meta)  # the phone layout's short axis titles ("$/1M tokens")
    for trace in figure.data:
        for name in ("text", "hovertext", "hovertemplate"):
            value = getattr(trace, name, None)
            if value is not None:
                setattr(trace, name, swap(list(value) if isinstance(value, tuple) else value))
    return figure


def rate_note(currency: str, missing: int) -> str:
    days = max_age().days
    note = (f"Prices in {currency}: each day's USD price times that day's ECB reference rate (the last published "
            f"on or before it), so a line moves with the rate where the USD price held still.")
    if missing:
        note += (f" {missing} stretch(es) had no {currency} rate within {days} days and are not drawn.")
    return note + feed_age_note()


def feed_age_note(today: date | None = None) -> str:
    """" The newest rate is N days old ..." when the rates held end more than the age limit before today (no
    fetch for a while): later days convert at it, and the page says so instead of refusing them."""
    newest = fx_newest_day()
    today = today or timezone.now().date()
    if newest is None or (today - newest) < max_age():
        return ""
    return (f" The newest ECB rates held are of {newest.isoformat()}, {(today - newest).days} days old: prices "
            "after that day are converted at them (fetch the ecb-fx source for newer rates).")


# --- one rate for a whole page (Compare, Choose a provider, the model and provider pages) -----------------


@dataclass(frozen=True)
class PageCurrency:
    """The currency a page shows its money in, and the one rate it converts at (None for USD).

    A page whose figures share one day (Compare's as-of date, today's current prices) converts every money
    column at that day's rate: exact Decimal products, formatted only by the table or chart that shows them.
    The frame's column names stay (``input_usd_per_mtok``...): the chart builders and tables read them; the
    headers' units say the currency (``EUR / 1M tokens``) and the caption names the rate and its date.
    """

    rate: RateOn | None = None

    @property
    def code(self) -> str:
        return self.rate.currency if self.rate is not None else BASE

    @property
    def converted(self) -> bool:
        return self.rate is not None

    def unit(self, text: str) -> str:
        """A unit text in this currency: "USD / 1M tokens" -> "EUR / 1M tokens"."""
        return text.replace(BASE, self.code) if self.rate is not None else text

    def columns(self, columns: Sequence[Column]) -> list[Column]:
        """Table columns whose money units name this currency (headers and downloads)."""
        if self.rate is None:
            return list(columns)
        return [replace(c, unit=self.unit(c.unit)) if c.kind == "money" and BASE in c.unit else c for c in columns]

    def frame(self, frame: pd.DataFrame, money: Iterable[str]) -> pd.DataFrame:
        """A copy of ``frame`` with the ``money`` columns (those present) times the rate, exact."""
        if self.rate is None or frame.empty:
            return frame
        per_usd = self.rate.per_usd
        out = frame.copy()
        for name in money:
            if name in out.columns:
                out[name] = pd.Series([_times(value, per_usd) for value in out[name]], index=out.index, dtype=object)
        return out

    def value(self, usd: Any) -> Any:
        return usd if self.rate is None else _times(usd, self.rate.per_usd)

    def caption(self) -> str:
        """The sentence a converted table's caption (so the download's About sheet) ends with: rate and date."""
        if self.rate is None:
            return ""
        return (f" Prices in {self.code}: USD × {self.rate.per_usd_text} {self.code} per USD, the ECB reference "
                f"rate of {self.rate.rate_day_text}.")

    def figure(self, figure: Any) -> Any:
        return figure if self.rate is None or figure is None else figure_in_currency(figure, self.code)

    def text(self, text: str) -> str:
        """A chart summary in this currency: no "$", units renamed."""
        return text if self.rate is None else self.unit(text.replace("$", ""))


def _times(value: Any, per_usd: Decimal) -> Any:
    if isinstance(value, Decimal):
        return value * per_usd if value.is_finite() else value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        return Decimal(repr(value)) * per_usd  # a float blend: its shortest repr, then exact
    return value  # None, NaN: nothing to convert


def page_currency(request: HttpRequest, *, day: date, errors: list[str], notes: list[str]) -> PageCurrency:
    """Read ``?currency=`` (the query string only: pages are cached by it), check it and get the rate of
    ``day``. An unknown code or a day without a rate is named in ``errors`` and the page stays in USD; a rate
    older than the age limit (the feed is behind) is used and named in ``notes``."""
    code, error = currency_choice(request)
    if error:
        errors.append(error)
    if code is None or code == BASE:
        return PageCurrency()
    try:
        rate = fx_rate_on(currency=code, day=day)
    except FxError as exc:
        errors.append(f"{exc} Prices are shown in USD.")
        return PageCurrency()
    if rate.stale:
        notes.append(stale_note(rate))
    return PageCurrency(rate)
