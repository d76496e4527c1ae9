"""Benchmark runs with their context, hardware hourly prices, and the token-economics results."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.api_common.filters import start_of
from apps.api_common.serializers import (
    ApiModelSerializer,
    DecimalStringField,
    MomentSerializerField,
    OptionalTextField,
    QueryDecimalField,
)
from apps.benchmarks.models import BenchmarkRun, HardwarePrice, PricingModel
from apps.catalog.models import Model

RESULT = {"max_digits": 30, "decimal_places": 10}


class BenchmarkRunSerializer(ApiModelSerializer):
    model = serializers.CharField(source="alias.model.slug", allow_null=True,
                                  help_text="Canonical model slug; null while the raw name is unresolved.")
    provider = serializers.CharField(source="provider.slug", allow_null=True,
                                     help_text="Provider slug when an API served the requests; else null.")
    hardware = serializers.CharField(source="hardware.slug", allow_null=True,
                                     help_text="Hardware slug, e.g. 8x-h100-80gb-sxm5; null = not stated.")
    accelerator = serializers.CharField(source="hardware.accelerator", allow_null=True,
                                        help_text="Accelerator model (H100, A100, Groq LPU…).")
    accelerator_count = serializers.IntegerField(source="hardware.accelerator_count", allow_null=True,
                                                 help_text="Accelerators serving the model, count.")
    source = serializers.CharField(source="source.key", help_text="Key of the source.")
    snapshot = serializers.IntegerField(source="snapshot_id", help_text="Newest snapshot stating the run.")
    snapshot_observed_at = serializers.DateTimeField(source="snapshot.observed_at",
                                                     help_text="When that snapshot describes the market (UTC).")

    class Meta:
        model = BenchmarkRun
        fields = ["id", "model", "source_model_id", "provider", "serving_stack", "stack_version", "precision",
                  "hardware", "accelerator", "accelerator_count", "accelerator_count_approximate",
                  "input_tokens", "output_tokens", "concurrency",
                  "tokens_per_s", "request_tokens_per_s_p50", "request_tokens_per_s_mean", "ttft_p50_ms",
                  "ttft_p99_ms", "e2e_latency_p50_ms", "e2e_latency_p99_ms", "p99_latency_ms", "error_rate",
                  "requests_completed", "requests_failed", "error_counts", "mostly_failed", "reported_usd_per_mtok",
                  "cost_is_estimate", "measured_at", "source", "source_label", "snapshot", "snapshot_observed_at",
                  "notes"]
        extra_kwargs = {
            "id": {"help_text": "Benchmark run id."},
            "source_model_id": {"help_text": "The model name exactly as the source gives it."},
            "serving_stack": {"help_text": "vLLM, TensorRT-LLM…; null = not stated."},
            "stack_version": {"help_text": "Version of the serving stack."},
            "precision": {"help_text": "FP16, FP8, INT4…; null = not stated."},
            "accelerator_count_approximate": {"help_text": "true: the source gives the count as approximate "
                                                           "(\"~40 chips\"), accelerator_count is its round figure."},
            "input_tokens": {"help_text": "Workload: prompt tokens per request; null = not stated."},
            "output_tokens": {"help_text": "Workload: output tokens per request; null = not stated."},
            "concurrency": {"help_text": "Workload: concurrent requests; null = not stated."},
            "requests_completed": {"help_text": "Requests that completed, count."},
            "requests_failed": {"help_text": "Requests that failed, count."},
            "error_counts": {"help_text": "Failed requests by error code, {code: count}."},
            "mostly_failed": {"help_text": "Over half the requests failed: latencies describe the rest."},
            "cost_is_estimate": {"help_text": "The reported cost is the source's estimate."},
            "measured_at": {"help_text": "When the run was made or published (ISO 8601 UTC); null = not stated."},
            "source_label": {"help_text": "Who published it, per the file."},
            "notes": {"help_text": "Notes from the source or curator."},
        }


class HardwarePriceSerializer(ApiModelSerializer):
    offering = serializers.IntegerField(source="offering_id", help_text="Hardware offering id.")
    provider = serializers.CharField(source="offering.provider.slug", help_text="Provider slug (e.g. lambda).")
    provider_name = serializers.CharField(source="offering.provider.name", help_text="Provider display name.")
    instance_type = serializers.CharField(source="offering.instance_type", help_text="Instance type, e.g. "
                                                                                     "gpu_8x_h100_sxm5.")
    region = OptionalTextField(source="offering.region", help_text="Region; null = same price everywhere.")
    pricing_model = serializers.ChoiceField(source="offering.pricing_model", choices=PricingModel.choices,
                                            help_text="on-demand, spot or reserved.")
    hardware = serializers.CharField(source="offering.hardware.slug", help_text="Hardware slug.")
    accelerator = serializers.CharField(source="offering.hardware.accelerator", help_text="Accelerator model.")
    accelerator_count = serializers.IntegerField(source="offering.hardware.accelerator_count",
                                                 help_text="Accelerators in the instance, count.")
    accelerator_memory_gib = serializers.IntegerField(source="offering.hardware.accelerator_memory_gib",
                                                      allow_null=True, help_text="Memory per accelerator, GiB.")
    vcpus = DecimalStringField(source="offering.vcpus", max_digits=8, decimal_places=2, allow_null=True,
                               help_text="Virtual CPUs, count.")
    memory_gib = DecimalStringField(source="offering.memory_gib", max_digits=10, decimal_places=2, allow_null=True,
                                    help_text="Host memory, GiB.")
    source = serializers.CharField(source="offering.source.key", help_text="Key of the source.")
    snapshot = serializers.IntegerField(source="snapshot_id", help_text="First snapshot that showed the price.")
    snapshot_observed_at = serializers.DateTimeField(source="snapshot.observed_at",
                                                     help_text="When that snapshot describes the market (UTC).")

    class Meta:
        model = HardwarePrice
        fields = ["id", "offering", "provider", "provider_name", "instance_type", "region", "pricing_model",
                  "hardware", "accelerator", "accelerator_count", "accelerator_memory_gib", "vcpus", "memory_gib",
                  "usd_per_hour", "effective_from", "effective_to", "source", "snapshot", "snapshot_observed_at"]
        extra_kwargs = {
            "id": {"help_text": "Hardware price id."},
            "usd_per_hour": {"help_text": "USD per hour for the whole instance, all accelerators."},
            "effective_from": {"help_text": "Start of validity (inclusive, ISO 8601 UTC)."},
            "effective_to": {"help_text": "End of validity (exclusive, ISO 8601 UTC); null = still current."},
        }


# --- token economics ---------------------------------------------------------------

class SelfHostingQuerySerializer(serializers.Serializer):
    as_of = MomentSerializerField(required=False, help_text="Hardware prices in force then (default: now).")
    utilisation = QueryDecimalField(max_digits=5, decimal_places=4, min_value=Decimal("0.0001"),
                                           max_value=1, default=Decimal(1), coerce_to_string=True,
                                           help_text="Average share of capacity used, (0, 1]; default 1.")


class SelfHostingCostSerializer(serializers.Serializer):
    run_id = serializers.IntegerField(help_text="Benchmark run id.")
    model = serializers.CharField(help_text="Model name of the run.")
    serving_stack = OptionalTextField(help_text="Serving stack of the run; null = not stated.")
    tokens_per_s = DecimalStringField(max_digits=14, decimal_places=3, help_text="Run throughput, tokens/s.")
    provider = serializers.CharField(help_text="Who rents the hardware.")
    instance_type = serializers.CharField(help_text="Instance type.")
    hardware = serializers.CharField(help_text="Hardware, e.g. 8x H100 80GB SXM5.")
    pricing_model = serializers.CharField(help_text="on-demand, spot or reserved.")
    regions = OptionalTextField(help_text="Regions at this price, comma-separated; null = any.")
    usd_per_hour = DecimalStringField(help_text="Hourly price of the instance, USD per hour.")
    utilisation = DecimalStringField(max_digits=5, decimal_places=4, help_text="Utilisation assumed, 0-1.")
    usd_per_mtok = DecimalStringField(**RESULT, help_text="usd_per_hour / (tokens_per_s x utilisation x 3600) x 1e6: "
                                                          "USD per 1M output tokens.")
    reported_usd_per_mtok = DecimalStringField(allow_null=True, help_text="Cost per 1M tokens the source reports.")
    price_source = serializers.CharField(help_text="Source key of the hourly price.")
    price_observed_at = serializers.DateTimeField(help_text="Start of the hourly price's validity (UTC).")


class SelfHostingResponseSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="Hardware prices in force at this moment (UTC).")
    utilisation = DecimalStringField(max_digits=5, decimal_places=4, help_text="Utilisation assumed, 0-1.")
    results = SelfHostingCostSerializer(many=True, help_text="Each benchmark run on each matching instance.")


class BreakEvenQuerySerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, required=False,
                                  help_text="Canonical model slug (default: the benchmark run's model).")
    benchmark = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False,
                                         help_text="Benchmark run id: its throughput (and model).")
    hardware_price = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False,
                                              help_text="Hardware price id: its USD per hour.")
    usd_per_hour = QueryDecimalField(max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001"),
                                            required=False, coerce_to_string=True,
                                            help_text="Hourly hardware price, USD per hour (instead of "
                                                      "hardware_price).")
    tokens_per_s = QueryDecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"),
                                            required=False, coerce_to_string=True,
                                            help_text="Throughput, tokens/s (instead of benchmark).")
    utilisation = QueryDecimalField(max_digits=5, decimal_places=4, min_value=Decimal("0.0001"),
                                           max_value=1, default=Decimal(1), coerce_to_string=True,
                                           help_text="Average share of capacity used, (0, 1]; default 1.")
    as_of = MomentSerializerField(required=False, help_text="API prices in force then (default: now).")
    input_ratio = serializers.IntegerField(min_value=0, max_value=1000, default=3,
                                           help_text="Blended price weight of input tokens (default 3).")
    output_ratio = serializers.IntegerField(min_value=0, max_value=1000, default=1,
                                            help_text="Blended price weight of output tokens (default 1).")

    def validate(self, attrs: dict) -> dict:
        from apps.benchmarks.models import BenchmarkRun, HardwarePrice

        errors: dict[str, list[str]] = {}
        run = None
        if attrs.get("benchmark") is not None:
            run = BenchmarkRun.objects.select_related("alias__model").filter(pk=attrs["benchmark"]).first()
            if run is None:
                errors["benchmark"] = ["No such benchmark run."]
            elif attrs.get("tokens_per_s") is None:
                if not run.tokens_per_s:
                    errors["benchmark"] = ["This run states no throughput."]
                attrs["tokens_per_s"] = run.tokens_per_s
        if attrs.get("hardware_price") is not None and attrs.get("usd_per_hour") is None:
            price = HardwarePrice.objects.filter(pk=attrs["hardware_price"]).first()
            if price is None:
                errors["hardware_price"] = ["No such hardware price."]
            else:
                attrs["usd_per_hour"] = price.usd_per_hour
        slug = attrs.get("model")
        model = None
        if slug:
            model = Model.objects.filter(slug=slug).first()
            if model is None:
                errors["model"] = [f"No canonical model {slug!r} (see /api/v1/models/)."]
        elif run is not None:
            model = run.alias.model
            if model is None:
                errors["model"] = ["The run's model is unresolved; name a canonical model."]
        else:
            errors.setdefault("model", ["Name a canonical model, or a benchmark run."])
        if attrs.get("tokens_per_s") is None and "benchmark" not in errors:
            errors["tokens_per_s"] = ["Give tokens_per_s, or a benchmark run."]
        if attrs.get("usd_per_hour") is None and "hardware_price" not in errors:
            errors["usd_per_hour"] = ["Give usd_per_hour, or a hardware price."]
        if attrs["input_ratio"] + attrs["output_ratio"] == 0:
            errors["output_ratio"] = ["The input:output ratio cannot be 0:0."]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["model"] = model
        return attrs


class ApiOfferSerializer(serializers.Serializer):
    price = serializers.IntegerField(source="price_id", help_text="Price row id.")
    provider = serializers.CharField(help_text="Provider name.")
    source_model_id = serializers.CharField(help_text="The raw model id in the source.")
    service_tier = serializers.CharField(help_text="Service tier.")
    input_usd_per_mtok = DecimalStringField(help_text="USD per 1M input tokens.")
    output_usd_per_mtok = DecimalStringField(help_text="USD per 1M output tokens.")
    blended_usd_per_mtok = DecimalStringField(**RESULT, help_text="Blended USD per 1M tokens at the ratio.")
    source = serializers.CharField(help_text="Source key.")
    effective_from = serializers.DateTimeField(allow_null=True, help_text="Start of the price's validity (UTC).")


class SelfHostingSerializer(serializers.Serializer):
    usd_per_hour = DecimalStringField(help_text="Hourly hardware price, USD per hour.")
    tokens_per_s = DecimalStringField(max_digits=14, decimal_places=3, help_text="Throughput, tokens/s.")
    utilisation = DecimalStringField(max_digits=5, decimal_places=4, help_text="Utilisation assumed, 0-1.")
    usd_per_mtok = DecimalStringField(**RESULT, help_text="Self-hosted cost, USD per 1M tokens.")
    instance_usd_per_month = DecimalStringField(**RESULT, help_text="One instance for a month (730 h), USD.")
    instance_mtok_per_month = DecimalStringField(**RESULT, help_text="What one instance serves in a month, "
                                                                     "millions of tokens.")


class CostCurvePointSerializer(serializers.Serializer):
    mtok_per_month = DecimalStringField(**RESULT, help_text="Monthly volume, millions of tokens.")
    self_host_usd_per_month = DecimalStringField(**RESULT, help_text="Self-hosting cost at that volume, USD per "
                                                                     "month.")
    api_usd_per_month = DecimalStringField(**RESULT, allow_null=True,
                                           help_text="API cost at that volume, USD per month; null with no API "
                                                     "offer.")


class BreakEvenResponseSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.slug", help_text="Canonical model slug.")
    as_of = serializers.DateTimeField(help_text="API prices in force at this moment (UTC).")
    api = ApiOfferSerializer(allow_null=True, help_text="The cheapest labelled API offer (blended); null if none.")
    self_hosting = SelfHostingSerializer(help_text="The hardware and what it costs per token and per month.")
    break_even_mtok_per_month = DecimalStringField(
        **RESULT, allow_null=True,
        help_text="Monthly volume, millions of tokens, above which self-hosting costs less; null = never.")
    results = CostCurvePointSerializer(many=True, help_text="Monthly cost curves, log-spaced volumes.")


class PriceTrendQuerySerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, required=False, help_text="Canonical model slug.")
    size_class = serializers.CharField(max_length=50, required=False,
                                       help_text="Size class instead of one model, e.g. 70b-class.")
    threshold_usd_per_mtok = QueryDecimalField(max_digits=20, decimal_places=10,
                                                      min_value=Decimal("0.0000000001"), required=False,
                                                      coerce_to_string=True,
                                                      help_text="When does the fitted price reach this, USD per 1M "
                                                                "tokens?")
    since = MomentSerializerField(required=False, help_text="Start of the series (date or date-time).")
    until = MomentSerializerField(required=False, help_text="End of the series (date or date-time).")
    input_ratio = serializers.IntegerField(min_value=0, max_value=1000, default=3,
                                           help_text="Blended price weight of input tokens (default 3).")
    output_ratio = serializers.IntegerField(min_value=0, max_value=1000, default=1,
                                            help_text="Blended price weight of output tokens (default 1).")

    def validate(self, attrs: dict) -> dict:
        slug, size_class = attrs.get("model"), attrs.get("size_class")
        if bool(slug) == bool(size_class):
            raise serializers.ValidationError({"model": ["Give a model or a size_class (one of them)."]})
        if slug:
            attrs["model"] = Model.objects.filter(slug=slug).first()
            if attrs["model"] is None:
                raise serializers.ValidationError({"model": [f"No canonical model {slug!r}."]})
        if attrs["input_ratio"] + attrs["output_ratio"] == 0:
            raise serializers.ValidationError({"output_ratio": ["The input:output ratio cannot be 0:0."]})
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and start_of(since) > start_of(until):
            raise serializers.ValidationError({"until": ["until is before since."]})
        return attrs


class TrendPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="From this moment (UTC)…")
    usd_per_mtok = DecimalStringField(**RESULT, help_text="…the cheapest labelled blended price, USD per 1M tokens.")
    provider = serializers.CharField(help_text="Who offered it.")
    source_model_id = serializers.CharField(help_text="The raw model id in the source.")
    source = serializers.CharField(help_text="Source key.")


class PriceTrendResponseSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.slug", allow_null=True, help_text="Canonical model slug, or null.")
    size_class = OptionalTextField(help_text="Size class, or null.")
    points = serializers.IntegerField(allow_null=True, help_text="Prices the fit used; null = too few to fit.")
    first = serializers.DateField(allow_null=True, help_text="First date of the fit.")
    last = serializers.DateField(allow_null=True, help_text="Last date of the fit.")
    annual_decline = DecimalStringField(**RESULT, allow_null=True,
                                        help_text="Share of the price lost per year, 0-1 (0.5 = halves yearly; "
                                                  "negative = rising).")
    halving_time_years = DecimalStringField(**RESULT, allow_null=True,
                                            help_text="Years for the price to halve; null when not falling.")
    threshold_usd_per_mtok = DecimalStringField(allow_null=True, help_text="The threshold asked about, USD per "
                                                                           "1M tokens.")
    crosses_on = serializers.DateField(allow_null=True, help_text="When the fitted price reaches the threshold; "
                                                                  "null when it never does (or no threshold).")
    results = TrendPointSerializer(many=True, help_text="The cheapest blended price over time, one row per change.")
