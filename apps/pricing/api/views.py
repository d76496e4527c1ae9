"""Price history, current prices, price changes and the workload comparison."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_common.context import RelatedContext
from apps.api_common.filters import lean_filterset
from apps.api_common.lean import LeanFilter, LeanList, moment_from, slug_to_id
from apps.api_common.pagination import KeysetOrdering
from apps.api_common.views import ComputedView, TableViewSet, wants_csv
from apps.catalog.models import Model, Provider
from apps.fx.api import (
    CURRENCY_PARAMETER,
    CurrencyComputedMixin,
    CurrencyTableMixin,
    as_of_day,
    last_day_in_force_of_text,
)
from apps.pricing.compare import Workload, compare_offerings
from apps.pricing.filtersets import (
    MarketDisagreementFilterSet,
    MarketPriceFilterSet,
    PriceChangeFilterSet,
    PriceFilterSet,
)
from apps.pricing.market import market_fields, market_rows_as_of
from apps.pricing.models import MarketDisagreement, MarketPrice, Price
from apps.pricing.selectors import (
    as_of_moment,
    price_changes_with_context,
    prices_current,
    prices_with_context,
)
from apps.sources.models import Source

from .serializers import (
    CompareQuerySerializer,
    CompareResponseSerializer,
    CompareRowSerializer,
    MarketDisagreementSerializer,
    MarketPriceSerializer,
    PriceChangeSerializer,
    PriceSerializer,
)

# The money columns ?currency= converts (apps.fx.api).
PRICE_MONEY = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok", "cache_write_usd_per_mtok",
               "reasoning_usd_per_mtok")


class PriceCurrencyMixin(CurrencyTableMixin):
    """A price row converts at the as_of date when given, else at the last day it was in force."""

    fx_columns = PRICE_MONEY

    def fx_one_day(self, request):
        return as_of_day(request, PriceFilterSet)

    def fx_day_of(self, request):
        day_of = last_day_in_force_of_text(timezone.now())
        return lambda row: day_of(row["effective_to"])


PRICE_ORDERING = {
    "id": "pk",
    "effective_from": "effective_from",
    "effective_to": "effective_to",
    "input_usd_per_mtok": "input_usd_per_mtok",
    "output_usd_per_mtok": "output_usd_per_mtok",
    "provider": "offering__provider__slug",
    "model": "offering__alias__model__slug",
    "source_model_id": "offering__source_model_id",
}


class PriceViewSet(PriceCurrencyMixin, TableViewSet):
    """Price history: one row per offering and validity interval [effective_from, effective_to)."""

    queryset = prices_with_context()
    serializer_class = PriceSerializer
    filterset_class = PriceFilterSet
    ordering_fields = PRICE_ORDERING
    # What BI tools page through all day: one provider's prices since a date, in id order (the
    # price_provider_id index), without a FilterSet per request; PriceFilterSet's provider and
    # effective_from_after read the same way.
    lean = LeanList(Price, {
        "provider": LeanFilter("provider", "exact", slug_to_id(Provider.objects.all, "slug")),
        "effective_from_after": LeanFilter("effective_from", "gte", moment_from),
    })
    # The offering's columns (five joins, ~1 ms of PostgreSQL a page) read once per data version.
    row_context = RelatedContext("offering")


class CurrentPriceViewSet(PriceCurrencyMixin, TableViewSet):
    """Prices in force now (the same rows as /prices/?current=true)."""

    queryset = prices_with_context()
    serializer_class = PriceSerializer
    filterset_class = PriceFilterSet
    ordering_fields = PRICE_ORDERING
    row_context = RelatedContext("offering")

    def filter_queryset(self, queryset):
        return prices_current(super().filter_queryset(queryset))


class PriceChangeViewSet(TableViewSet):
    """Each time a price component moved from one interval to the next (also an Atom feed at /feeds/price-changes/)."""

    queryset = price_changes_with_context()
    serializer_class = PriceChangeSerializer
    filterset_class = PriceChangeFilterSet
    ordering_fields = {"id": "pk", "changed_at": "changed_at", "percent_change": "percent_change",
                       "provider": "offering__provider__slug", "model": "offering__alias__model__slug"}
    row_context = RelatedContext("offering")


class CompareView(CurrencyComputedMixin, ComputedView):
    """Every offering of one canonical model ranked by the effective cost of a workload.

    Cost of a request = input_tokens x (1 - cached_share) x input price + input_tokens x cached_share x cached
    input price (the input price when there is none) + output_tokens x output price, per 1M tokens. Batch
    workloads use the batch tier where it is offered; a long prompt uses the long-context price it exceeds.
    Labelled prices (free, variable, unknown) and zero prices are listed after the ranking, never in it.
    `?format=csv` gives the rows as CSV.
    """

    query_serializer_class = CompareQuerySerializer
    response_serializer_class = CompareResponseSerializer
    csv_serializer_class = CompareRowSerializer
    fx_columns = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok", "blended_usd_per_mtok",
                  "usd_per_request", "usd_per_month")

    def csv_filename_part(self, params: dict) -> str:
        return f"compare-{params['model'].slug}"

    def compute(self, params: dict) -> dict:
        workload = Workload(input_tokens=params["input_tokens"], output_tokens=params["output_tokens"],
                            cached_share=params["cached_share"], batch=params["batch"],
                            requests_per_month=params["requests_per_month"])
        input_ratio = params.get("input_ratio", settings.TOKENWATCH_BLEND_INPUT_RATIO)
        output_ratio = params.get("output_ratio", settings.TOKENWATCH_BLEND_OUTPUT_RATIO)
        as_of = params.get("as_of") or timezone.now()
        rows = compare_offerings(model=params["model"], workload=workload, as_of=params.get("as_of"),
                                 input_ratio=input_ratio, output_ratio=output_ratio,
                                 per_source=params.get("per_source", False))
        return {"model": params["model"], "as_of": as_of_moment(as_of),
                "workload": {**workload.__dict__, "input_ratio": input_ratio, "output_ratio": output_ratio},
                "results": rows}


class MarketPriceViewSet(CurrencyTableMixin, TableViewSet):
    """The market price of each offering (provider x canonical model x region x tier x context tier): one row,
    chosen from every source's current price by the documented policy (newest confirmation wins; a source's own
    provider, then source priority, break ties), with every source's word in ``evidence`` and ``sources_agree``.

    ``?as_of=DATE`` answers what the market looked like then, by the same policy, from the source prices in force
    at that moment (computed, not paged: narrow it with ``provider`` or ``model`` when it is large).
    """

    queryset = MarketPrice.objects.select_related("provider", "model", "source")
    serializer_class = MarketPriceSerializer
    filterset_class = MarketPriceFilterSet
    ordering_fields = {"id": "pk", "max_gap_pct": "max_gap_pct", "input_usd_per_mtok": "input_usd_per_mtok",
                       "output_usd_per_mtok": "output_usd_per_mtok", "provider": "provider__slug",
                       "model": "model__slug", "last_confirmed_at": "last_confirmed_at"}

    AS_OF_LIMIT = 10_000
    fx_columns = PRICE_MONEY

    def fx_one_day(self, request):
        # A market price is current, or the market at as_of: one day for every row.
        return as_of_day(request, MarketPriceFilterSet) or timezone.now().date()

    def fx_streams_csv(self, request):
        return not request.query_params.get("as_of")  # as_of rows are computed and rendered, not streamed

    @extend_schema(parameters=[CURRENCY_PARAMETER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if "as_of" not in request.query_params:
            return super().list(request, *args, **kwargs)
        filterset = lean_filterset(self.filterset_class, request.query_params, self.get_queryset(), request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        if filterset.form.cleaned_data.get("as_of") is None:  # ?as_of= with no value filters nothing
            return super().list(request, *args, **kwargs)
        # Computed, not paged: the paging parameters are still read as the schema states them (400 if bad).
        self.paginator.get_page_size(request)  # type: ignore[union-attr]
        KeysetOrdering().sort_keys(request, self)
        rows = self._as_of_rows(filterset.form.cleaned_data)
        if len(rows) > self.AS_OF_LIMIT:
            raise ValidationError({"as_of": [f"{len(rows):,} offerings match; narrow the question with provider or "
                                             f"model (at most {self.AS_OF_LIMIT:,} are computed at once)."]})
        data = MarketPriceSerializer(rows, many=True, context={"request": request}).data
        self.fx_convert(request, data)  # ?currency= (apps.fx.api)
        if wants_csv(request):
            return Response(data)
        return Response({"next": None, "previous": None, "results": data})

    def _as_of_rows(self, cleaned: dict[str, Any]) -> list[MarketPrice]:
        prices = Price.objects.all()
        if cleaned.get("provider"):
            prices = prices.filter(provider__in=cleaned["provider"])
        if cleaned.get("model"):
            prices = prices.filter(offering__alias__model__in=cleaned["model"])
        wanted = {name: cleaned.get(name) for name in ("region", "min_prompt_tokens", "sources_agree")}
        tiers = set(cleaned.get("service_tier") or [])
        out = []
        market = market_rows_as_of(cleaned["as_of"], prices)
        providers = Provider.objects.in_bulk({row.key[0] for row in market})
        models = Model.objects.in_bulk({row.key[1] for row in market})
        sources = Source.objects.in_bulk({row.chosen.source_id for row in market})
        for row in sorted(market, key=lambda r: r.key):
            provider_id, model_id, region, tier, min_prompt = row.key
            skip = ((wanted["region"] not in (None, "") and region != wanted["region"])
                    or (tiers and tier not in tiers)
                    or (wanted["min_prompt_tokens"] is not None and min_prompt != wanted["min_prompt_tokens"])
                    or (wanted["sources_agree"] is not None and row.sources_agree != wanted["sources_agree"]))
            if skip:
                continue
            fields = market_fields(row)
            del fields["source_id"]
            out.append(MarketPrice(provider=providers[provider_id], model=models[model_id], region=region,
                                   service_tier=tier, min_prompt_tokens=min_prompt,
                                   source=sources[row.chosen.source_id], **fields))
        return out


class MarketDisagreementViewSet(TableViewSet):
    """One row per market offering and price component on which the current sources differ: each source's value
    and last-confirmed date, and the relative gap (``?ordering=-gap_pct`` for the largest first)."""

    queryset = MarketDisagreement.objects.select_related("provider", "model")
    serializer_class = MarketDisagreementSerializer
    filterset_class = MarketDisagreementFilterSet
    ordering_fields = {"id": "pk", "gap_pct": "gap_pct", "provider": "provider__slug", "model": "model__slug"}
