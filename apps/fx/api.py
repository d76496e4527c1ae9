"""``?currency=XXX`` on the price, market-price, compare and advice endpoints (JSON and CSV).

USD is the stored unit and every USD column stays as it is. A currency adds, after a row's own columns:
``currency`` (the code), ``fx_rate_date`` (the ECB publication day of the rate used), ``fx_<xxx>_per_usd``
(the cross rate) and, for each USD money column, the same name with ``usd`` replaced by the code:
``input_usd_per_mtok`` -> ``input_eur_per_mtok``, ``usd_per_month`` -> ``eur_per_month``. Converted value =
USD value x fx rate, an exact decimal product written like every money column (no trailing zeros). A row whose
day has no rate within the age limit has these columns null; a request that names one day for all rows
(``as_of``, a current market price, compare, advice) is a 400 saying why instead. Without the parameter (or
with ``currency=USD``) the output is byte for byte what it was.

Rates are read once per page (or per block of CSV rows), never per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_common.columns import decimal_text, plan_for
from apps.api_common.csv import iter_csv_blocks, streaming_csv_response
from apps.common.timestamps import timestamp_text

from .selectors import BASE, FxError, RateOn, fx_currency_check, fx_rate_on, fx_rates_on_days, stale_note

PARAM = "currency"
CURRENCY_PARAMETER = OpenApiParameter(
    PARAM, OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, pattern=r"^(?:[A-Za-z]{3})?$",
    description=(
        "Also give every USD money figure in this currency (any currency of the ECB's reference rates, e.g. EUR, "
        "JPY; an unknown code is a 400 listing the valid ones). Adds `currency`, `fx_rate_date` (the ECB "
        "publication day of the rate used: the last on or before the figure's day, so weekends carry Friday's), "
        "`fx_<code>_per_usd` and, for each `*usd*` money column, the same name with `usd` replaced by the "
        "lower-case code (`input_eur_per_mtok`, `eur_per_month`) = the USD value x the rate, exact. A price row's "
        "day is the as_of date when given, else the last day it was in force (today while current). A rate "
        "more than TOKENWATCH_FX_MAX_AGE_DAYS (7) days older than that day, or than the newest ECB publication "
        "held when the day is later (a currency the ECB stopped publishing), is not used: the row's converted "
        "columns are null, or the request is a 400 when one day applies to all rows. When the rates held end "
        "more than that many days before the day asked, the newest rate is used and the JSON response's "
        "`fx_note` says how old it is. USD columns are unchanged; USD (or no value) adds nothing."))
_USD = re.compile(r"(^|_)usd(_|$)")
_CODE = re.compile(r"[A-Z]{3}")
# ``currency`` among a query string's keys (a regex: parsing every paging link's query cost more than this).
_HAS_PARAM = re.compile(rf"(?:^|&){PARAM}(?:=|&|$)")


def requested_currency(request: Request) -> str | None:
    """The currency asked for, upper-case; None for none or USD (nothing to add); 400 for an unknown one."""
    raw = request.query_params.get(PARAM)
    if not raw:  # absent, or ?currency= with no value: USD, as the schema's pattern allows
        return None
    code = raw.upper()
    if code == BASE:
        return None
    if not _CODE.fullmatch(code):
        check_known(raw)
    # Whether the ECB quotes it is asked where the rates are read (one query, not two, on a page).
    return code


def check_known(code: str) -> None:
    """400 listing the valid codes unless ``code`` is one."""
    try:
        fx_currency_check(code)
    except FxError as exc:
        raise ValidationError({PARAM: [str(exc)]}) from None


def converted_name(name: str, currency: str) -> str:
    return _USD.sub(lambda m: f"{m.group(1)}{currency.lower()}{m.group(2)}", name, count=1)


def extra_columns(columns: Sequence[str], currency: str) -> list[str]:
    """The names a currency adds, in order."""
    return list(_extra_columns(tuple(columns), currency))


@lru_cache(maxsize=512)
def _extra_columns(columns: tuple[str, ...], currency: str) -> tuple[str, ...]:
    return (PARAM, "fx_rate_date", f"fx_{currency.lower()}_per_usd",
            *(converted_name(name, currency) for name in columns))


def converted_cells(values: Sequence[Any], rate: RateOn | None, currency: str) -> list[str | None]:
    """The added cells (JSON values: decimal strings) for one row's USD ``values`` (decimal strings or
    Decimals). Called per row of a page: kept to one multiplication and one format per figure."""
    if rate is None:
        return [currency, None, None, *([None] * len(values))]
    per_usd = rate.per_usd
    out: list[str | None] = [currency, rate.rate_day_text, rate.per_usd_text]
    for value in values:
        if value is None or value == "":
            out.append(None)
        else:
            out.append(money_text((value if type(value) is Decimal else Decimal(value)) * per_usd))
    return out


def convert_rows(rows: list[dict[str, Any]], *, currency: str, columns: Sequence[str],
                 day_of: Callable[[dict[str, Any]], date] | None = None, rate: RateOn | None = None,
                 notes: list[str] | None = None) -> list[str]:
    """Add the currency's columns to each row dict in place: one rate for all (``rate``), or each row's day's
    (``day_of``) read in one query. Returns the added names; ``notes`` gets a sentence per rate older than the
    age limit before its day (the feed is behind)."""
    names = extra_columns(columns, currency)
    if rate is None and day_of is not None:
        if not rows:
            check_known(currency)  # an empty page still refuses an unknown code
        days = [day_of(row) for row in rows]
        try:
            rates = fx_rates_on_days(currency=currency, days=days)
        except FxError as exc:
            raise ValidationError({PARAM: [str(exc)]}) from None
        per_row: Iterable[RateOn | None] = [rates[day] for day in days]
    else:
        per_row = [rate] * len(rows)
    # Column by column, the products in one comprehension (no call per cell): this is most of what a converted
    # page costs over a USD one (bench/fx.py). The rate's three cells are shared by the rows of a publication.
    rate_date, rate_name = names[1], names[2]
    heads: dict[int, dict[str, Any]] = {}
    empty = dict.fromkeys(names[1:])
    for row, row_rate in zip(rows, per_row, strict=True):
        if row_rate is None:
            row[PARAM] = currency
            row.update(empty)
            continue
        head = heads.get(id(row_rate))
        if head is None:
            heads[id(row_rate)] = head = {PARAM: currency, rate_date: row_rate.rate_day_text,
                                          rate_name: row_rate.per_usd_text}
            if notes is not None and row_rate.stale:
                notes.append(stale_note(row_rate))
        row.update(head)
    factors = [None if r is None else r.per_usd for r in per_row]
    for column, name in zip(columns, names[3:], strict=True):
        # str() of an exact product is plain unless tiny (an exponent) and may end in zeros: both rare, fixed
        # after (money_text), so the common cell is one parse, one multiplication and one str().
        texts = [None if value is None or factor is None else str(Decimal(value) * factor)
                 for value, factor in zip([row[column] for row in rows], factors, strict=True)]
        for row, text in zip(rows, texts, strict=True):
            if text is not None and (text[-1] == "0" or "E" in text):
                text = money_text(Decimal(text))
            row[name] = text
    return names


def rate_for_all(currency: str, day: date, *, param: str = PARAM) -> RateOn:
    """The one rate of a request whose rows share a day; 400 naming why there is none."""
    try:
        return fx_rate_on(currency=currency, day=day)
    except FxError as exc:
        raise ValidationError({param: [str(exc)]}) from None


def last_day_in_force(effective_to: datetime | str | None, now: datetime) -> date:
    """The day a price row converts at without as_of: its last day in force, today while it is current."""
    if effective_to is None:
        return now.date()
    if isinstance(effective_to, str):
        effective_to = datetime.fromisoformat(effective_to)
    if effective_to > now:
        return now.date()
    return (effective_to - timedelta(microseconds=1)).date()


def last_day_in_force_of_text(now: datetime) -> Callable[[str | datetime | None], date]:
    """``last_day_in_force`` for a page's timestamp texts (``2025-07-01T00:00:00.000000Z``, the API's one
    format, whose text order is time order), remembered per text: a page's rows share a handful of ends."""
    now_text, today = timestamp_text(now), now.date()
    days: dict[Any, date] = {}

    def compute(text: str | datetime | None) -> date:
        if type(text) is not str or len(text) != len(now_text) or text[-1] != "Z":
            return last_day_in_force(text, now)  # a datetime (CSV rows), None, or another spelling
        if text > now_text:
            return today
        day = date.fromisoformat(text[:10])
        # An exclusive end at midnight: the last day in force is the day before.
        return day - timedelta(days=1) if text[10:] == "T00:00:00.000000Z" else day

    def day_of(text: str | datetime | None) -> date:
        day = days.get(text)
        if day is None:
            days[text] = day = compute(text)
        return day

    return day_of


def money_text(value: Decimal) -> str:
    """``decimal_text`` of a product, by str() where it is plain (it is unless tiny): a third of the cost."""
    text = str(value)
    if "E" in text:
        return decimal_text(value)
    if text[-1] != "0" or "." not in text:
        return text
    return text.rstrip("0").rstrip(".")


def as_of_day(request: Request, filterset_class: Any) -> date | None:
    """The day of a list's ``as_of`` parameter (a date-time's UTC day, a date itself); None when absent or bad
    (the list answers a bad one with its own 400)."""
    from django.core.exceptions import ValidationError as FormError

    from apps.pricing.selectors import as_of_moment

    raw = request.query_params.get("as_of")
    if not raw:
        return None
    try:
        value = filterset_class.base_filters["as_of"].field.clean(raw)
    except FormError:
        return None
    return None if value is None else as_of_moment(value).date()


def with_param(url: str | None, currency: str) -> str | None:
    """A paging link that keeps ``currency`` (the page itself was read without it)."""
    if not url:
        return url
    if _HAS_PARAM.search(urlsplit(url).query):
        return url  # the paginator builds links from the full path, which still has it: as the user wrote it
    return f"{url}{'&' if '?' in url else '?'}{urlencode({PARAM: currency})}"


class CurrencyTableMixin:
    """For TableViewSet lists: the page (or CSV) as without a currency, plus the converted columns.

    The page is read with ``currency`` taken out of the query string, so it takes exactly the USD request's
    path (the lean id query included) and costs one rate query more; the paging links get it back.
    """

    fx_columns: tuple[str, ...] = ()

    def fx_day_of(self, request: Request) -> Callable[[dict[str, Any]], date] | None:
        """Per-row day function, or None when ``fx_one_day`` gives one day for every row."""
        return None

    def fx_one_day(self, request: Request) -> date | None:
        return None

    def fx_streams_csv(self, request: Request) -> bool:
        """Whether this request's CSV is the list's streamed export (not a computed table's Response)."""
        return True

    @extend_schema(parameters=[CURRENCY_PARAMETER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        currency = requested_currency(request)
        if currency is None:
            return super().list(request, *args, **kwargs)  # type: ignore[misc]
        one_day = self.fx_one_day(request)
        rate = rate_for_all(currency, one_day) if one_day is not None else None
        from apps.api_common.views import wants_csv

        if wants_csv(request) and self.fx_streams_csv(request):
            check_known(currency)  # before the stream starts: an error mid-file would be a broken file
            return self._fx_csv(request, currency, rate)
        original = request._request.GET
        stripped = QueryDict(mutable=True)
        for key, values in original.lists():
            if key != PARAM:
                stripped.setlist(key, values)
        request._request.GET = stripped
        try:
            response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        finally:
            request._request.GET = original
        self.fx_convert(request, response.data, currency=currency, rate=rate)
        return response

    def fx_convert(self, request: Request, data: Any, *, currency: str | None = None,
                   rate: RateOn | None = None) -> Any:
        """Add the converted columns to a page (``{"results": [...]}``) or a list of rows, in place; for a view
        whose own ``list`` renders rows (market prices as_of). Without a currency, ``data`` as it is."""
        if currency is None:
            currency = requested_currency(request)
            if currency is None:
                return data
            one_day = self.fx_one_day(request)
            rate = rate_for_all(currency, one_day) if one_day is not None else None
        rows = data["results"] if isinstance(data, dict) else data
        notes: list[str] = []
        names = convert_rows(rows, currency=currency, columns=self.fx_columns, rate=rate,
                             day_of=None if rate is not None else self.fx_day_of(request), notes=notes)
        if isinstance(data, dict):
            for link in ("next", "previous"):
                if link in data:
                    data[link] = with_param(data[link], currency)
            if notes:
                data["fx_note"] = " ".join(dict.fromkeys(notes))
        self.csv_extra_columns = [(name, i >= 2) for i, name in enumerate(names)]  # type: ignore[attr-defined]
        return data

    def _fx_csv(self, request: Request, currency: str, rate: RateOn | None) -> Any:
        """Every row, in blocks: each block's rates in one query; cells as the USD export writes them."""
        from apps.api_common.views import CSV_CHUNK_ROWS

        bound = plan_for(self.get_serializer_class()).bind(request)  # type: ignore[attr-defined]
        self.paginator.get_page_size(request)  # type: ignore[attr-defined]  # a bad page_size is still a 400
        queryset = self.filter_queryset(self.get_queryset())  # type: ignore[attr-defined]
        names = [c.name for c in bound.flat]
        money_at = [names.index(c) for c in self.fx_columns]
        day_of = None if rate is not None else self.fx_day_of(request)
        header = [*bound.plan.names, *extra_columns(self.fx_columns, currency)]

        def cells() -> Iterator[list[Any]]:
            rows = queryset.values_list(*bound.plan.paths).iterator(chunk_size=CSV_CHUNK_ROWS)
            block: list[Any] = []
            for row in rows:
                block.append(row)
                if len(block) >= CSV_CHUNK_ROWS:
                    yield from self._fx_block(bound, block, names, money_at, day_of, rate, currency)
                    block = []
            if block:
                yield from self._fx_block(bound, block, names, money_at, day_of, rate, currency)

        return streaming_csv_response(iter_csv_blocks(header, cells(), [None] * len(header)), what=self.basename)  # type: ignore[attr-defined]

    @staticmethod
    def _fx_block(bound: Any, block: list[Any], names: list[str], money_at: list[int], day_of: Any,
                  rate: RateOn | None, currency: str) -> Iterator[list[Any]]:
        if rate is None:
            days = [day_of(dict(zip(names, row, strict=False))) for row in block]
            rates = fx_rates_on_days(currency=currency, days=days)
            per_row: Iterable[RateOn | None] = (rates[d] for d in days)
        else:
            per_row = (rate for _ in block)
        for (values, row_rate), cells in zip(zip(block, per_row, strict=True), bound.csv_cells(block), strict=True):
            yield [*cells, *converted_cells([values[i] for i in money_at], row_rate, currency)]


class CurrencyComputedMixin:
    """For ComputedView endpoints (compare, advice): one day for all rows (as_of, else today)."""

    fx_columns: tuple[str, ...] = ()

    def fx_day(self, params: dict[str, Any]) -> date:
        moment = params.get("as_of")
        if moment is None:
            return timezone.now().date()
        from apps.pricing.selectors import as_of_moment

        return as_of_moment(moment).date()

    @extend_schema(parameters=[CURRENCY_PARAMETER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        currency = requested_currency(request)
        if currency is None:
            return super().get(request, *args, **kwargs)  # type: ignore[misc]
        query = self.query_serializer_class(data=request.query_params)  # type: ignore[attr-defined]
        query.is_valid(raise_exception=True)
        rate = rate_for_all(currency, self.fx_day(query.validated_data))
        response = super().get(request, *args, **kwargs)  # type: ignore[misc]
        data = response.data
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            return response  # an export format that is not the advice table (router configs stay USD)
        names = convert_rows(data["results"], currency=currency, columns=self.fx_columns, rate=rate)
        data["currency"], data["fx_rate_date"] = currency, rate.rate_day.isoformat()
        data[names[2]] = decimal_text(rate.per_usd)
        if rate.stale:
            data["fx_note"] = stale_note(rate)
        self.csv_extra_columns = [(name, i >= 2) for i, name in enumerate(names)]  # type: ignore[attr-defined]
        return response
