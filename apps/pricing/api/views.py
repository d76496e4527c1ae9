"""Price history, current prices, price changes and the workload comparison."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from apps.api_common.views import ComputedView, TableViewSet
from apps.pricing.compare import Workload, compare_offerings
from apps.pricing.filtersets import PriceChangeFilterSet, PriceFilterSet
from apps.pricing.selectors import (
    as_of_moment,
    price_changes_with_context,
    prices_current,
    prices_with_context,
)

from .serializers import (
    CompareQuerySerializer,
    CompareResponseSerializer,
    CompareRowSerializer,
    PriceChangeSerializer,
    PriceSerializer,
)

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


class PriceViewSet(TableViewSet):
    """Price history: one row per offering and validity interval [effective_from, effective_to)."""

    queryset = prices_with_context()
    serializer_class = PriceSerializer
    filterset_class = PriceFilterSet
    ordering_fields = PRICE_ORDERING


class CurrentPriceViewSet(TableViewSet):
    """Prices in force now (the same rows as /prices/?current=true)."""

    queryset = prices_with_context()
    serializer_class = PriceSerializer
    filterset_class = PriceFilterSet
    ordering_fields = PRICE_ORDERING

    def filter_queryset(self, queryset):
        return prices_current(super().filter_queryset(queryset))


class PriceChangeViewSet(TableViewSet):
    """Each time a price component moved from one interval to the next (also an Atom feed at /feeds/price-changes/)."""

    queryset = price_changes_with_context()
    serializer_class = PriceChangeSerializer
    filterset_class = PriceChangeFilterSet
    ordering_fields = {"id": "pk", "changed_at": "changed_at", "percent_change": "percent_change",
                       "provider": "offering__provider__slug", "model": "offering__alias__model__slug"}


class CompareView(ComputedView):
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

    def csv_filename_part(self, params: dict) -> str:
        return f"compare-{params['model'].slug}"

    def compute(self, params: dict) -> dict:
        workload = Workload(input_tokens=params["input_tokens"], output_tokens=params["output_tokens"],
                            cached_share=params["cached_share"], batch=params["batch"],
                            requests_per_month=params["requests_per_month"])
        input_ratio = params.get("input_ratio", settings.TOKENWATCH_BLEND_INPUT_RATIO)
        output_ratio = params.get("output_ratio", settings.TOKENWATCH_BLEND_OUTPUT_RATIO)
        as_of = params.get("as_of") or timezone.now()
        rows = compare_offerings(model=params["model"], workload=workload, as_of=as_of, input_ratio=input_ratio,
                                 output_ratio=output_ratio)
        return {"model": params["model"], "as_of": as_of_moment(as_of),
                "workload": {**workload.__dict__, "input_ratio": input_ratio, "output_ratio": output_ratio},
                "results": rows}
