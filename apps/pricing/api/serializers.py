"""Price rows as BI tools read them: who, what, where, when, how much (units in the names), and from where."""

from __future__ import annotations

from rest_framework import serializers

from apps.api_common.serializers import (
    ApiModelSerializer,
    DecimalStringField,
    ExactMoneyField,
    MomentSerializerField,
    OptionalTextField,
    QueryDecimalField,
    UnitPricesField,
)
from apps.catalog.models import Model, Provider
from apps.pricing.models import Basis, MarketDisagreement, MarketPrice, Price, PriceChange


class OfferingContextMixin(serializers.Serializer):
    """The offering a price row belongs to, spelled out so that every row stands on its own."""

    offering = serializers.IntegerField(source="offering_id", help_text="Offering id (/api/v1/offerings/{id}/).")
    provider = serializers.CharField(source="offering.provider.slug", help_text="Provider slug, e.g. openai.")
    provider_name = serializers.CharField(source="offering.provider.name", help_text="Provider display name.")
    provider_kind = serializers.ChoiceField(source="offering.provider.kind", choices=Provider.Kind.choices,
                                            help_text="What kind of seller the provider is.")
    model = serializers.CharField(source="offering.alias.model.slug", allow_null=True,
                                  help_text="Canonical model slug; null while the raw id is not resolved.")
    family = OptionalTextField(source="offering.alias.model.family",
                                   help_text="Model family of the canonical model (null when unresolved or not known).")
    source_model_id = serializers.CharField(source="offering.source_model_id",
                                            help_text="The raw model id exactly as the source spells it.")
    region = OptionalTextField(source="offering.region", help_text="Region; null = not region-specific.")
    service_tier = serializers.CharField(source="offering.service_tier",
                                         help_text="standard, batch, flex, priority…")
    min_prompt_tokens = serializers.IntegerField(
        source="offering.min_prompt_tokens",
        help_text="Long-context tier: the price applies above this many prompt tokens (0 = base price).")
    source = serializers.CharField(source="offering.source.key", help_text="Key of the source that states it.")


class PriceSerializer(OfferingContextMixin, ApiModelSerializer):
    mode = OptionalTextField(source="offering.mode", help_text="chat, embedding, image_generation…; null = "
                                                                 "not stated.")
    effective_from = serializers.DateTimeField(
        allow_null=True, help_text="Start of validity (inclusive, ISO 8601 UTC); null = since the beginning.")
    effective_to = serializers.DateTimeField(
        allow_null=True, help_text="End of validity (exclusive, ISO 8601 UTC); null = still current.")
    input_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="USD per 1M input tokens.")
    output_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="USD per 1M output tokens.")
    cached_input_usd_per_mtok = ExactMoneyField(allow_null=True,
                                                help_text="USD per 1M cached input tokens (cache read).")
    cache_write_usd_per_mtok = ExactMoneyField(allow_null=True,
                                               help_text="USD per 1M tokens written to the prompt cache.")
    reasoning_usd_per_mtok = ExactMoneyField(
        allow_null=True, help_text="USD per 1M reasoning tokens, where priced apart from output.")
    unit_prices = UnitPricesField(help_text="Non-token prices (per image, request, second…), each with its unit.")
    price_label = OptionalTextField(
        help_text="free, variable or unknown when the price is not a plain number; null otherwise. "
                  "A labelled price is never ranked cheapest.")
    basis = serializers.ChoiceField(choices=Basis.choices,
                                    help_text="stated: the source gives the dates; observed: snapshot times do.")
    first_seen_at = serializers.DateTimeField(
        allow_null=True, help_text="When tokenwatch first saw a document state this price (ISO 8601 UTC).")
    last_confirmed_at = serializers.DateTimeField(
        allow_null=True, help_text="The newest sighting of a document that still states this price (ISO 8601 "
                                   "UTC): how recently the price was confirmed, not when it began.")
    # The snapshot's id, not its fields: one join fewer keeps a page's query cheap to plan.
    snapshot = serializers.IntegerField(
        source="snapshot_id",
        help_text="Id of the first snapshot that showed this price (/api/v1/snapshots/{id}/: observation time, "
                  "raw bytes).")

    class Meta:
        model = Price
        fields = ["id", "offering", "provider", "provider_name", "provider_kind", "model", "family",
                  "source_model_id", "region", "service_tier", "min_prompt_tokens", "mode", "effective_from",
                  "effective_to", "input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
                  "cache_write_usd_per_mtok", "reasoning_usd_per_mtok", "unit_prices", "price_label", "basis",
                  "first_seen_at", "last_confirmed_at", "source", "snapshot"]
        extra_kwargs = {"id": {"help_text": "Price row id."}}


class PriceChangeSerializer(OfferingContextMixin, ApiModelSerializer):
    changed_at = serializers.DateTimeField(help_text="When the new price took effect (ISO 8601 UTC).")
    component = serializers.CharField(help_text="Which price moved, e.g. input_usd_per_mtok.")
    old_usd_per_mtok = ExactMoneyField(help_text="The price before, USD per 1M tokens.")
    new_usd_per_mtok = ExactMoneyField(help_text="The price after, USD per 1M tokens.")
    percent_change = DecimalStringField(max_digits=12, decimal_places=2, allow_null=True,
                                        help_text="(new - old) / old x 100, percent; null when the old price was 0.")
    snapshot = serializers.IntegerField(source="snapshot_id", help_text="Id of the snapshot that showed the change.")

    class Meta:
        model = PriceChange
        fields = ["id", "offering", "provider", "provider_name", "provider_kind", "model", "family",
                  "source_model_id", "region", "service_tier", "min_prompt_tokens", "changed_at", "component",
                  "old_usd_per_mtok", "new_usd_per_mtok", "percent_change", "source", "snapshot"]
        extra_kwargs = {"id": {"help_text": "Price change id."}}


class CompareQuerySerializer(serializers.Serializer):
    """The workload to price: query parameters of /api/v1/compare/."""

    model = serializers.CharField(max_length=200, help_text="Canonical model slug, e.g. llama-3-70b-instruct.")
    input_tokens = serializers.IntegerField(min_value=0, max_value=10_000_000,
                                            help_text="Input (prompt) tokens per request.")
    output_tokens = serializers.IntegerField(min_value=0, max_value=10_000_000,
                                             help_text="Output tokens per request.")
    cached_share = QueryDecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, default=0, coerce_to_string=True,
        help_text="Share of input tokens read from the prompt cache, 0 to 1 (default 0).")
    batch = serializers.BooleanField(default=False,
                                     help_text="true: use the batch service tier where it is offered.")
    per_source = serializers.BooleanField(
        default=False, help_text="true: one row per source's price (as each source states it); default: one row "
                                 "per market offering, priced by the market-price policy.")
    requests_per_month = serializers.IntegerField(min_value=0, max_value=10_000_000_000, default=1,
                                                  help_text="Monthly volume, requests per month (default 1).")
    as_of = MomentSerializerField(required=False, help_text="Prices in force then (default: now).")
    input_ratio = serializers.IntegerField(min_value=0, max_value=1000, required=False,
                                           help_text="Blended price weight of input tokens (default 3).")
    output_ratio = serializers.IntegerField(min_value=0, max_value=1000, required=False,
                                            help_text="Blended price weight of output tokens (default 1).")

    def validate_model(self, value: str) -> Model:
        model = Model.objects.filter(slug=value).first()
        if model is None:
            raise serializers.ValidationError(f"No canonical model {value!r} (see /api/v1/models/).")
        return model

    def validate(self, attrs: dict) -> dict:
        ratios = (attrs.get("input_ratio"), attrs.get("output_ratio"))
        if ratios[0] is not None and ratios[1] is not None and ratios[0] + ratios[1] == 0:
            raise serializers.ValidationError({"output_ratio": ["The input:output ratio cannot be 0:0."]})
        return attrs


RESULT_MONEY = {"max_digits": 30, "decimal_places": 10}


class CompareRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="1 = cheapest for the workload; null = not ranked.")
    not_ranked_reason = OptionalTextField(help_text="Why the row is not ranked (labelled or zero price, no "
                                                   "input/output price); null when ranked.")
    price = serializers.IntegerField(source="price.id", help_text="Price row id (/api/v1/prices/{id}/).")
    provider = serializers.CharField(source="price.offering.provider.slug", help_text="Provider slug.")
    provider_name = serializers.CharField(source="price.offering.provider.name", help_text="Provider display name.")
    provider_kind = serializers.ChoiceField(source="price.offering.provider.kind", choices=Provider.Kind.choices,
                                            help_text="What kind of seller the provider is.")
    model = serializers.CharField(source="price.offering.alias.model.slug", help_text="Canonical model slug.")
    source_model_id = serializers.CharField(source="price.offering.source_model_id",
                                            help_text="The raw model id exactly as the source spells it.")
    region = OptionalTextField(source="price.offering.region", help_text="Region; null = not region-specific.")
    service_tier = serializers.CharField(source="price.offering.service_tier",
                                         help_text="The tier priced: batch for batch workloads where offered.")
    min_prompt_tokens = serializers.IntegerField(source="price.offering.min_prompt_tokens",
                                                 help_text="Long-context tier applied (0 = base price).")
    input_usd_per_mtok = ExactMoneyField(source="price.input_usd_per_mtok", allow_null=True,
                                         help_text="USD per 1M input tokens.")
    output_usd_per_mtok = ExactMoneyField(source="price.output_usd_per_mtok", allow_null=True,
                                          help_text="USD per 1M output tokens.")
    cached_input_usd_per_mtok = ExactMoneyField(source="price.cached_input_usd_per_mtok", allow_null=True,
                                                help_text="USD per 1M cached input tokens (cache read).")
    price_label = OptionalTextField(source="price.price_label", help_text="free, variable, unknown or null.")
    blended_usd_per_mtok = DecimalStringField(**RESULT_MONEY, allow_null=True,
                                              help_text="Blended USD per 1M tokens at the input:output ratio.")
    usd_per_request = DecimalStringField(**RESULT_MONEY, allow_null=True,
                                         help_text="Effective cost of one request of the workload, USD.")
    usd_per_month = DecimalStringField(**RESULT_MONEY, allow_null=True,
                                       help_text="Effective cost per month at the requests per month, USD.")
    effective_from = serializers.DateTimeField(source="price.effective_from", allow_null=True,
                                               help_text="Start of the price's validity (UTC); null = always.")
    source = serializers.CharField(source="price.offering.source.key", help_text="Source key.")
    snapshot = serializers.IntegerField(source="price.snapshot_id", help_text="First snapshot that showed it.")
    snapshot_observed_at = serializers.DateTimeField(source="price.snapshot.observed_at",
                                                     help_text="When that snapshot describes the market (UTC).")
    sources_agree = serializers.BooleanField(source="market.sources_agree", allow_null=True, default=None,
                                             help_text="Market rows: every current source equal; null per source.")
    max_gap_pct = DecimalStringField(source="market.max_gap_pct", max_digits=30, decimal_places=2, allow_null=True,
                                     default=None, help_text="Market rows: the largest gap between sources, %.")
    evidence = serializers.JSONField(
        source="market.evidence", default=None, allow_null=True,
        help_text="Market rows: every source's current word, the chosen one first (source, raw id, values, last "
                  "confirmed); null for a per-source row.")
    first_seen_at = serializers.DateTimeField(source="price.first_seen_at", allow_null=True,
                                              help_text="When a document first stated this price (UTC).")
    last_confirmed_at = serializers.DateTimeField(
        source="price.last_confirmed_at", allow_null=True,
        help_text="The newest sighting of a document that still states this price (UTC).")


class CompareWorkloadSerializer(serializers.Serializer):
    input_tokens = serializers.IntegerField(help_text="Input tokens per request.")
    output_tokens = serializers.IntegerField(help_text="Output tokens per request.")
    cached_share = DecimalStringField(max_digits=5, decimal_places=4, help_text="Cached share of input, 0-1.")
    batch = serializers.BooleanField(help_text="Batch tier wanted.")
    requests_per_month = serializers.IntegerField(help_text="Requests per month.")
    input_ratio = serializers.IntegerField(help_text="Blend weight of input tokens.")
    output_ratio = serializers.IntegerField(help_text="Blend weight of output tokens.")


class CompareResponseSerializer(serializers.Serializer):
    model = serializers.CharField(source="model.slug", help_text="Canonical model slug.")
    as_of = serializers.DateTimeField(help_text="Prices in force at this moment (UTC).")
    workload = CompareWorkloadSerializer(help_text="The workload priced.")
    results = CompareRowSerializer(many=True, help_text="Ranked offerings first (cheapest first), then the rest.")


class MarketContextMixin(serializers.Serializer):
    """The market offering a row is about: provider x canonical model x region x tier x context tier."""

    provider = serializers.CharField(source="provider.slug", help_text="Provider slug, e.g. openrouter.")
    provider_name = serializers.CharField(source="provider.name", help_text="Provider display name.")
    provider_kind = serializers.ChoiceField(source="provider.kind", choices=Provider.Kind.choices,
                                            help_text="What kind of seller the provider is.")
    model = serializers.CharField(source="model.slug", help_text="Canonical model slug.")
    model_name = serializers.CharField(source="model.name", help_text="Canonical model name.")
    region = OptionalTextField(help_text="Region; null = not region-specific.")
    service_tier = serializers.CharField(help_text="standard, batch, flex, priority…")
    min_prompt_tokens = serializers.IntegerField(
        help_text="Long-context tier: the price applies above this many prompt tokens (0 = base price).")


EVIDENCE_HELP = ("Every source's current statement, the chosen one first: source, price (source price id), "
                 "source_model_id, last_confirmed_at, the five *_usd_per_mtok components as exact decimal strings, "
                 "price_label.")


class MarketPriceSerializer(MarketContextMixin, ApiModelSerializer):
    input_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="Chosen: USD per 1M input tokens.")
    output_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="Chosen: USD per 1M output tokens.")
    cached_input_usd_per_mtok = ExactMoneyField(allow_null=True,
                                                help_text="Chosen: USD per 1M cached input tokens (cache read).")
    cache_write_usd_per_mtok = ExactMoneyField(allow_null=True,
                                               help_text="Chosen: USD per 1M tokens written to the prompt cache.")
    reasoning_usd_per_mtok = ExactMoneyField(allow_null=True, help_text="Chosen: USD per 1M reasoning tokens.")
    price_label = OptionalTextField(help_text="free, variable or unknown; null for a plain number.")
    source = serializers.CharField(source="source.key", help_text="Key of the source whose price was chosen.")
    price = serializers.IntegerField(source="price_id", help_text="The chosen source price (/api/v1/prices/{id}/).")
    effective_from = serializers.DateTimeField(allow_null=True, help_text="Start of the chosen price (UTC).")
    last_confirmed_at = serializers.DateTimeField(allow_null=True,
                                                  help_text="When a document last stated the chosen price (UTC).")
    source_count = serializers.IntegerField(help_text="Sources with a current price for the offering.")
    sources_agree = serializers.BooleanField(help_text="true when every current source value is equal as a "
                                                       "decimal (and no labels conflict).")
    max_gap_pct = DecimalStringField(max_digits=30, decimal_places=2, allow_null=True,
                                     help_text="Largest (high - low) / low x 100 between sources on one component, "
                                               "percent; null when they agree or the lower value is 0.")
    evidence = serializers.JSONField(help_text=EVIDENCE_HELP)

    class Meta:
        model = MarketPrice
        fields = ["id", "provider", "provider_name", "provider_kind", "model", "model_name", "region",
                  "service_tier", "min_prompt_tokens", "input_usd_per_mtok", "output_usd_per_mtok",
                  "cached_input_usd_per_mtok", "cache_write_usd_per_mtok", "reasoning_usd_per_mtok", "price_label",
                  "source", "price", "effective_from", "last_confirmed_at", "source_count", "sources_agree",
                  "max_gap_pct", "evidence"]
        extra_kwargs = {"id": {"help_text": "Market price row id (changes when the market is refreshed)."}}


class MarketDisagreementSerializer(MarketContextMixin, ApiModelSerializer):
    market_price = serializers.IntegerField(source="market_price_id", help_text="Market price row id.")
    component = serializers.CharField(help_text="Which price the sources differ on, e.g. input_usd_per_mtok.")
    low_usd_per_mtok = ExactMoneyField(help_text="Lowest current source value, USD per 1M tokens.")
    high_usd_per_mtok = ExactMoneyField(help_text="Highest current source value, USD per 1M tokens.")
    gap_pct = DecimalStringField(max_digits=30, decimal_places=2, allow_null=True,
                                 help_text="(high - low) / low x 100, percent; null when low is 0.")
    values = serializers.JSONField(help_text="Each source's value: source, source_model_id, value (exact decimal "
                                             "string), last_confirmed_at, chosen.")

    class Meta:
        model = MarketDisagreement
        fields = ["id", "market_price", "provider", "provider_name", "provider_kind", "model", "model_name",
                  "region", "service_tier", "min_prompt_tokens", "component", "low_usd_per_mtok",
                  "high_usd_per_mtok", "gap_pct", "values"]
        extra_kwargs = {"id": {"help_text": "Disagreement row id."}}
