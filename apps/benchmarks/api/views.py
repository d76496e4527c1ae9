"""Benchmark runs, hardware hourly prices, and token economics: self-hosting cost, break-even, price trend."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from apps.api_common.pagination import CountedKeysetPagination
from apps.api_common.views import ComputedView, TableViewSet, records
from apps.benchmarks import selectors
from apps.benchmarks.filtersets import BenchmarkRunFilterSet, HardwarePriceFilterSet
from apps.benchmarks.models import BenchmarkRun, HardwarePrice
from apps.pricing.selectors import as_of_moment

from .serializers import (
    BenchmarkRunSerializer,
    BreakEvenQuerySerializer,
    BreakEvenResponseSerializer,
    CostCurvePointSerializer,
    HardwarePriceSerializer,
    PriceTrendQuerySerializer,
    PriceTrendResponseSerializer,
    SelfHostingCostSerializer,
    SelfHostingQuerySerializer,
    SelfHostingResponseSerializer,
    TrendPointSerializer,
)


class BenchmarkRunViewSet(TableViewSet):
    """Benchmark runs with their context: model, serving stack, precision, hardware, workload, metrics, source."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = BenchmarkRun.objects.select_related("alias__model", "provider", "hardware", "source",
                                                   "snapshot").defer("snapshot__content")
    serializer_class = BenchmarkRunSerializer
    filterset_class = BenchmarkRunFilterSet
    ordering_fields = {"id": "pk", "tokens_per_s": "tokens_per_s", "p99_latency_ms": "p99_latency_ms",
                       "reported_usd_per_mtok": "reported_usd_per_mtok", "measured_at": "measured_at"}


class HardwarePriceViewSet(TableViewSet):
    """What an instance costs per hour over [effective_from, effective_to)."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = HardwarePrice.objects.select_related(
        "offering__provider", "offering__hardware", "offering__source", "snapshot").defer("snapshot__content")
    serializer_class = HardwarePriceSerializer
    filterset_class = HardwarePriceFilterSet
    ordering_fields = {"id": "pk", "usd_per_hour": "usd_per_hour", "effective_from": "effective_from"}


class SelfHostingCostView(ComputedView):
    """Cost per 1M tokens of each benchmark run on each rentable instance with its hardware.

    usd_per_mtok = usd_per_hour / (tokens_per_s x utilisation x 3600) x 1e6. Runs are chosen with the
    /api/v1/benchmarks/ filters (model, accelerator, serving_stack…); hourly prices are those in force at as_of.
    """

    query_serializer_class = SelfHostingQuerySerializer
    response_serializer_class = SelfHostingResponseSerializer
    csv_serializer_class = SelfHostingCostSerializer
    filterset_class = BenchmarkRunFilterSet
    csv_name = "self-hosting-costs"

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        as_of = params.get("as_of") or timezone.now()
        runs = self.filtered(selectors.benchmark_runs())
        frame = selectors.self_hosting_costs(runs=runs, as_of=as_of, utilisation=params["utilisation"])
        return {"as_of": as_of_moment(as_of), "utilisation": params["utilisation"], "results": records(frame)}


class BreakEvenView(ComputedView):
    """Self-hosting vs the cheapest API offer of a model: monthly cost curves and the break-even volume.

    Hardware from a benchmark run (throughput) and a hardware price (USD per hour), or given directly.
    Self-hosting pays for at least one instance all month; break_even = usd_per_hour x 730 / API blended USD
    per 1M tokens, null when self-hosting never wins. Labelled and zero API prices are never the offer.
    """

    query_serializer_class = BreakEvenQuerySerializer
    response_serializer_class = BreakEvenResponseSerializer
    csv_serializer_class = CostCurvePointSerializer
    csv_name = "break-even"

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        as_of = params.get("as_of") or timezone.now()
        result = selectors.self_host_vs_api(
            model=params["model"], usd_per_hour=params["usd_per_hour"], tokens_per_s=params["tokens_per_s"],
            utilisation=params["utilisation"], as_of=as_of, input_ratio=params["input_ratio"],
            output_ratio=params["output_ratio"])
        hosting = result.hosting
        return {
            "model": params["model"], "as_of": as_of_moment(as_of), "api": result.api,
            "self_hosting": {"usd_per_hour": hosting.usd_per_hour, "tokens_per_s": hosting.tokens_per_s,
                             "utilisation": hosting.utilisation, "usd_per_mtok": hosting.usd_per_mtok,
                             "instance_usd_per_month": hosting.instance_usd_per_month,
                             "instance_mtok_per_month": hosting.instance_mtok_per_month},
            "break_even_mtok_per_month": result.break_even_mtok_per_month,
            "results": records(result.curve),
        }


class PriceTrendView(ComputedView):
    """How fast the cheapest labelled blended price of a model (or size class) falls, and when it crosses a threshold.

    A log-linear fit of the cheapest price over time: annual decline, halving time, and the date the fitted
    price reaches threshold_usd_per_mtok.
    """

    query_serializer_class = PriceTrendQuerySerializer
    response_serializer_class = PriceTrendResponseSerializer
    csv_serializer_class = TrendPointSerializer
    csv_name = "price-trend"

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        report = selectors.price_trend_report(
            model=params.get("model"), size_class=params.get("size_class"),
            threshold_usd_per_mtok=params.get("threshold_usd_per_mtok"), since=params.get("since"),
            until=params.get("until"), input_ratio=params["input_ratio"], output_ratio=params["output_ratio"])
        trend = report.trend
        return {
            "model": params.get("model"), "size_class": params.get("size_class"),
            "points": trend.points if trend else None, "first": trend.first if trend else None,
            "last": trend.last if trend else None,
            "annual_decline": trend.annual_decline if trend else None,
            "halving_time_years": trend.halving_time_years if trend else None,
            "threshold_usd_per_mtok": report.threshold_usd_per_mtok, "crosses_on": report.crosses_on,
            "results": records(report.series),
        }
