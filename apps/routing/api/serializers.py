"""/api/v1/advice/: the question (query parameters), the answer (rows), and the two router configurations."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.api_common.serializers import DecimalStringField, ExactMoneyField, OptionalTextField, QueryDecimalField
from apps.catalog.models import Model, Provider

# 9 whole digits (under a billion million tokens a month, beyond any real workload), 6 decimals (whole tokens):
# the limit is the schema's pattern, so a client can know it before asking.
MTOK_WANTED = "millions of tokens: a number >= 0 below 1000000000 with at most 6 decimal places, e.g. 12.5"


def _invalid(what: str) -> dict[str, str]:
    # The pattern refuses a sign, an exponent and extra decimals before DRF's range checks run:
    # say what is wanted rather than DRF's bare "A valid number is required."
    return {"invalid": f"Enter {what}."}



class AdviceQuerySerializer(serializers.Serializer):
    """The model, a month's tokens, and the latency SLA (each limit optional; none = rank by cost alone)."""

    model = serializers.CharField(max_length=200, help_text="Canonical model slug, e.g. llama-3-70b-instruct.")
    input_mtok_per_month = QueryDecimalField(
        max_digits=15, decimal_places=6, min_value=Decimal(0),
        error_messages=_invalid(MTOK_WANTED),
        help_text="Input (prompt) tokens a month, in millions (6 decimal places: whole tokens).")
    output_mtok_per_month = QueryDecimalField(
        max_digits=15, decimal_places=6, min_value=Decimal(0),
        error_messages=_invalid(MTOK_WANTED),
        help_text="Output tokens a month, in millions (6 decimal places: whole tokens).")
    max_ttft_ms = QueryDecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal(0), required=False,
        error_messages=_invalid("milliseconds: a number >= 0 with at most 3 decimal places, e.g. 300"),
        help_text="SLA: the highest acceptable time to first token, median (p50), ms.")
    min_output_tokens_per_s = QueryDecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal(0), required=False,
        error_messages=_invalid("tokens per second: a number >= 0 with at most 3 decimal places, e.g. 50"),
        help_text="SLA: the lowest acceptable per-request output speed, tokens/s (p50; the mean a source "
                  "publishes where it gives no median).")
    max_error_rate = QueryDecimalField(
        max_digits=7, decimal_places=6, min_value=Decimal(0), max_value=Decimal(1), required=False,
        error_messages=_invalid("a share between 0 and 1 with at most 6 decimal places, e.g. 0.01"),
        help_text="SLA: the highest acceptable share of failed requests, 0 to 1.")
    max_age_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False,
        help_text="A measurement older than this many days is stale (default: the server's setting, 30).")

    def validate_model(self, value: str) -> Model:
        model = Model.objects.filter(slug=value).first()
        if model is None:
            raise serializers.ValidationError(f"No canonical model {value!r} (see /api/v1/models/).")
        return model


class AdviceRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True,
                                    help_text="1 = cheapest offering that meets the SLA; null = not ranked.")
    provider = serializers.CharField(help_text="Provider slug.")
    provider_name = serializers.CharField(help_text="Provider display name.")
    provider_kind = serializers.ChoiceField(choices=Provider.Kind.choices, help_text="What kind of seller it is.")
    region = OptionalTextField(help_text="Region; null = not region-specific.")
    service_tier = serializers.CharField(help_text="The tier priced (standard: latency advice is for real time).")
    source = serializers.CharField(help_text="Key of the source whose price the market policy chose.")
    source_model_id = serializers.CharField(help_text="The model id exactly as that source spells it.")
    price = serializers.IntegerField(help_text="Price row id (/api/v1/prices/{id}/).")
    input_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="Market price, USD per 1M input tokens.")
    output_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="Market price, USD per 1M output tokens.")
    price_label = OptionalTextField(help_text="free, variable or unknown when the price is labelled; else null.")
    monthly_usd = ExactMoneyField(allow_null=True,
                                  help_text="USD a month for the workload; null when the price cannot be used.")
    not_ranked_reason = OptionalTextField(help_text="Every reason it is not ranked, '; '-separated (price, no "
                                                    "measured speed, stale measurement, an SLA limit missed); "
                                                    "null when ranked.")
    benchmark = serializers.IntegerField(allow_null=True,
                                         help_text="The benchmark run measured (/api/v1/benchmarks/{id}/); null = "
                                                   "no measured speed for this provider.")
    speed_source = OptionalTextField(help_text="Key of the source of the measurement (the probe source first, "
                                               "then published benchmarks).")
    speed_is_probe = serializers.BooleanField(allow_null=True,
                                              help_text="true: tokenwatch's own probe measured it.")
    measured_at = serializers.DateTimeField(allow_null=True, help_text="When the speed was measured (UTC).")
    ttft_p50_ms = DecimalStringField(allow_null=True, help_text="Time to first token, median, ms.")
    output_tokens_per_s = DecimalStringField(allow_null=True, help_text="Per-request output speed, tokens/s.")
    output_tokens_per_s_basis = OptionalTextField(help_text="p50 or mean: which statistic the speed is.")
    error_rate = DecimalStringField(allow_null=True, help_text="Share of the run's requests that failed, 0-1.")
    input_tokens = serializers.IntegerField(allow_null=True, help_text="Workload measured: prompt tokens/request.")
    output_tokens = serializers.IntegerField(allow_null=True, help_text="Workload measured: output tokens/request.")
    concurrency = serializers.IntegerField(allow_null=True, help_text="Workload measured: concurrent requests.")
    stale = serializers.BooleanField(allow_null=True, help_text="true: the measurement is older than max_age_days.")
    comparable = serializers.BooleanField(
        allow_null=True, help_text="false: measured under another workload than most rows (reference_workload).")
    litellm_model = serializers.CharField(help_text="The model as LiteLLM names it: <provider prefix>/<model id>.")
    openrouter_provider = serializers.CharField(help_text="The provider's slug in OpenRouter's provider routing.")


class AdviceWorkloadSerializer(serializers.Serializer):
    input_mtok_per_month = DecimalStringField(max_digits=16, decimal_places=6,
                                              help_text="Input tokens a month, millions.")
    output_mtok_per_month = DecimalStringField(max_digits=16, decimal_places=6,
                                               help_text="Output tokens a month, millions.")


class AdviceSLASerializer(serializers.Serializer):
    max_ttft_ms = DecimalStringField(allow_null=True, help_text="Highest TTFT p50, ms; null = no limit.")
    min_output_tokens_per_s = DecimalStringField(allow_null=True,
                                                 help_text="Lowest per-request tokens/s; null = no limit.")
    max_error_rate = DecimalStringField(allow_null=True, help_text="Highest error rate, 0-1; null = no limit.")
    max_age_days = serializers.IntegerField(help_text="Measurements older than this are stale.")


class AdviceResponseSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="Canonical model slug.")
    as_of = serializers.DateTimeField(help_text="When the advice was computed (UTC); market prices in force then.")
    workload = AdviceWorkloadSerializer(help_text="The month's tokens priced.")
    sla = AdviceSLASerializer(help_text="The SLA applied.")
    reference_workload = serializers.CharField(
        help_text="The workload most measurements share; others are marked comparable=false.")
    results = AdviceRowSerializer(many=True,
                                  help_text="Ranked offerings first (cheapest first), then the rest with reasons.")


class LiteLLMParamsSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="<provider prefix>/<model id>, as LiteLLM routes it.")
    api_key = serializers.CharField(help_text="os.environ/<PROVIDER>_API_KEY: a reference, never a key.")
    order = serializers.IntegerField(help_text="Deployment priority: LiteLLM tries 1 first.")


class LiteLLMModelInfoSerializer(serializers.Serializer):
    tokenwatch_rank = serializers.IntegerField(help_text="The offering's rank in the advice.")
    provider = serializers.CharField(help_text="tokenwatch provider slug.")
    region = serializers.CharField(allow_null=True, help_text="Region; null = not region-specific.")
    monthly_usd = serializers.CharField(allow_null=True, help_text="USD a month for the workload (decimal text).")
    litellm_model_from_cost_map = serializers.BooleanField(
        help_text="false: LiteLLM's cost map does not list this offering; the model's prefix is the provider's "
                  "slug (check it).")


class LiteLLMDeploymentSerializer(serializers.Serializer):
    model_name = serializers.CharField(help_text="The canonical model: what callers ask the router for.")
    litellm_params = LiteLLMParamsSerializer(help_text="How LiteLLM calls this deployment.")
    model_info = LiteLLMModelInfoSerializer(help_text="Where the deployment comes from in the advice.")


class LiteLLMConfigSerializer(serializers.Serializer):
    """``?format=litellm-yaml``: a LiteLLM Router / proxy ``model_list`` (YAML)."""

    model_list = LiteLLMDeploymentSerializer(many=True, help_text="One deployment per ranked offering, in order.")


class OpenRouterPreferencesSerializer(serializers.Serializer):
    """``?format=openrouter-json``: OpenRouter's ``provider`` request object."""

    order = serializers.ListField(child=serializers.CharField(), help_text="Provider slugs in rank order.")
    allow_fallbacks = serializers.BooleanField(
        help_text="false when an SLA was given (other providers were not shown to meet it).")
