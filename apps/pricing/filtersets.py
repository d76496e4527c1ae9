"""One FilterSet per list, shared by the HTML pages, the API and the CSV exports.

Usage outside the API (pages, exports)::

    filterset = PriceFilterSet(request.GET, queryset=Price.objects.all())
    if not filterset.is_valid():
        ...  # filterset.errors names each bad parameter
    prices = filterset.qs
"""

from __future__ import annotations

from datetime import date, datetime

import django_filters
from django.db.models import F, Q, QuerySet

from apps.api_common.filters import (
    AsOfFilter,
    CharInFilter,
    IntegerFilter,
    MinAbsPercentFilter,
    MomentFilter,
    MoneyFilter,
    SlugMultipleChoiceFilter,
    StrictBooleanFilter,
    start_of,
)
from apps.catalog.models import Model, Provider
from apps.sources.models import Source

from .models import COMPONENTS, Basis, MarketDisagreement, MarketPrice, Price, PriceChange
from .selectors import prices_as_of, prices_current


def provider_filters(path: str) -> tuple[SlugMultipleChoiceFilter, django_filters.MultipleChoiceFilter]:
    """``provider`` and ``provider_kind`` for the provider at ``path``."""
    return (
        SlugMultipleChoiceFilter(
            field_name=path, to_field_name="slug", queryset=Provider.objects.all(),
            help_text="Provider slug (e.g. openai, groq); repeat the parameter for several."),
        django_filters.MultipleChoiceFilter(
            field_name=f"{path}__kind", choices=Provider.Kind.choices, distinct=False,
            help_text="Provider kind; repeat the parameter for several."),
    )


class OfferingScopedFilterSet(django_filters.FilterSet):
    """Filters on the offering a row belongs to (who sells which model where), for prices and changes."""

    provider, provider_kind = provider_filters("offering__provider")
    model = SlugMultipleChoiceFilter(
        field_name="offering__alias__model", to_field_name="slug", queryset=Model.objects.all(),
        help_text="Canonical model slug (e.g. llama-3-70b-instruct); repeat the parameter for several.")
    family = django_filters.CharFilter(field_name="offering__alias__model__family", lookup_expr="iexact",
                                       help_text="Model family, case-insensitive (e.g. llama, gpt-4o).")
    size_class = django_filters.CharFilter(field_name="offering__alias__model__size_class", lookup_expr="iexact",
                                           help_text="Model size class (e.g. 70b-class).")
    source = SlugMultipleChoiceFilter(
        field_name="offering__source", to_field_name="key", queryset=Source.objects.all(),
        help_text="Source key (e.g. litellm, genai-prices); repeat the parameter for several.")
    source_model_id = django_filters.CharFilter(field_name="offering__source_model_id",
                                                help_text="The raw model id exactly as the source spells it.")
    region = django_filters.CharFilter(field_name="offering__region",
                                       help_text="Region exactly as the source names it (e.g. us-east-1).")
    service_tier = CharInFilter(field_name="offering__service_tier",
                                help_text="Service tier(s), comma-separated: standard, batch, flex, priority.")
    offering = IntegerFilter(field_name="offering_id", help_text="Offering id.")


class PriceFilterSet(OfferingScopedFilterSet):
    # Prices carry their offering's provider (see Price.provider): the provider filters read that copy,
    # which the price_provider_id index serves in the API's default order.
    provider, provider_kind = provider_filters("provider")
    mode = django_filters.CharFilter(field_name="offering__mode", help_text="Offering mode (chat, embedding…).")
    min_prompt_tokens = IntegerFilter(field_name="offering__min_prompt_tokens",
                                      help_text="Long-context tier: 0 = the base price.")
    snapshot = IntegerFilter(field_name="snapshot_id", help_text="Id of the first snapshot that showed the price.")
    price_label = django_filters.CharFilter(help_text="free, variable or unknown.")
    labelled = StrictBooleanFilter(method="filter_labelled",
                                   help_text="true: only labelled prices (free/variable/unknown); false: only plain "
                                             "numbers.")
    basis = django_filters.ChoiceFilter(choices=Basis.choices, help_text="Where the interval dates come from.")
    as_of = AsOfFilter(method="filter_as_of",
                       help_text="Prices in force at that moment; a date means the end of that day (UTC).")
    current = StrictBooleanFilter(method="filter_current", help_text="true: only prices in force now.")
    effective_from_after = MomentFilter(field_name="effective_from", lookup_expr="gte",
                                        help_text="Intervals starting on or after this date (or date-time).")
    effective_from_before = AsOfFilter(method="filter_effective_from_before",
                                       help_text="Intervals starting before this date (or date-time), including "
                                                 "those with no stated start.")
    min_input_usd_per_mtok = MoneyFilter(field_name="input_usd_per_mtok", lookup_expr="gte",
                                         help_text="Input price at least this, USD per 1M tokens.")
    max_input_usd_per_mtok = MoneyFilter(field_name="input_usd_per_mtok", lookup_expr="lte",
                                         help_text="Input price at most this, USD per 1M tokens.")
    min_output_usd_per_mtok = MoneyFilter(field_name="output_usd_per_mtok", lookup_expr="gte",
                                          help_text="Output price at least this, USD per 1M tokens.")
    max_output_usd_per_mtok = MoneyFilter(field_name="output_usd_per_mtok", lookup_expr="lte",
                                          help_text="Output price at most this, USD per 1M tokens.")

    class Meta:
        model = Price
        fields: list[str] = []

    def filter_labelled(self, queryset: QuerySet[Price], name: str, value: bool) -> QuerySet[Price]:
        return queryset.exclude(price_label="") if value else queryset.filter(price_label="")

    def filter_as_of(self, queryset: QuerySet[Price], name: str, value: date | datetime) -> QuerySet[Price]:
        return prices_as_of(value, queryset)

    def filter_current(self, queryset: QuerySet[Price], name: str, value: bool) -> QuerySet[Price]:
        return prices_current(queryset) if value else queryset

    def filter_effective_from_before(self, queryset: QuerySet[Price], name: str,
                                     value: date | datetime) -> QuerySet[Price]:
        return queryset.filter(Q(effective_from__isnull=True) | Q(effective_from__lt=start_of(value)))


class PriceChangeFilterSet(OfferingScopedFilterSet):
    component = django_filters.ChoiceFilter(choices=[(c, c) for c in COMPONENTS],
                                            help_text="Which price moved.")
    changed_after = MomentFilter(field_name="changed_at", lookup_expr="gte",
                                 help_text="Changes on or after this date (or date-time).")
    changed_before = MomentFilter(field_name="changed_at", lookup_expr="lt",
                                  help_text="Changes before this date (or date-time).")
    min_percent_change = MinAbsPercentFilter(
        field_name="percent_change",
        help_text="Changes of at least this many percent either way (10 keeps +12 % and -30 %); changes from a "
                  "price of 0 have no percentage and are left out.")
    direction = django_filters.ChoiceFilter(method="filter_direction",
                                            choices=[("up", "up"), ("down", "down")],
                                            help_text="up: the price rose; down: it fell.")
    market = StrictBooleanFilter(
        method="filter_market",
        help_text="true: only changes of market prices: of the source row each market offering's price is "
                  "chosen from now (/api/v1/market-prices/), so a move is heard once, not once per source that "
                  "copies it.")

    class Meta:
        model = PriceChange
        fields: list[str] = []

    def filter_market(self, queryset: QuerySet[PriceChange], name: str, value: bool) -> QuerySet[PriceChange]:
        if not value:
            return queryset
        return queryset.filter(offering_id__in=MarketPrice.objects.values("price__offering_id"))

    def filter_direction(self, queryset: QuerySet[PriceChange], name: str, value: str) -> QuerySet[PriceChange]:
        if value == "up":
            return queryset.filter(new_usd_per_mtok__gt=F("old_usd_per_mtok"))
        return queryset.filter(new_usd_per_mtok__lt=F("old_usd_per_mtok"))


class MarketScopedFilterSet(django_filters.FilterSet):
    """Filters on a market offering (provider x canonical model x region x tier x context tier)."""

    provider, provider_kind = provider_filters("provider")
    kind = django_filters.MultipleChoiceFilter(field_name="provider__kind", choices=Provider.Kind.choices,
                                               distinct=False, help_text="Provider kind (same as provider_kind).")
    model = SlugMultipleChoiceFilter(
        field_name="model", to_field_name="slug", queryset=Model.objects.all(),
        help_text="Canonical model slug (e.g. llama-3-70b-instruct); repeat the parameter for several.")
    family = django_filters.CharFilter(field_name="model__family", lookup_expr="iexact",
                                       help_text="Model family, case-insensitive.")
    size_class = django_filters.CharFilter(field_name="model__size_class", lookup_expr="iexact",
                                           help_text="Model size class (e.g. 70b-class).")
    region = django_filters.CharFilter(help_text="Region exactly as the sources name it; empty = not regional.")
    service_tier = CharInFilter(help_text="Service tier(s), comma-separated: standard, batch, flex, priority.")
    min_prompt_tokens = IntegerFilter(help_text="Long-context tier: 0 = the base price.")


class MarketPriceFilterSet(MarketScopedFilterSet):
    sources_agree = StrictBooleanFilter(help_text="false: only offerings whose current sources differ.")
    source = SlugMultipleChoiceFilter(field_name="source", to_field_name="key", queryset=Source.objects.all(),
                                      help_text="Key of the source whose price was chosen.")
    min_gap_pct = MinAbsPercentFilter(field_name="max_gap_pct", help_text="Largest gap between sources at least "
                                                                          "this many percent.")
    # Answered by the view (the market as it stood then, by the same policy); declared for the schema.
    as_of = AsOfFilter(method="filter_as_of",
                       help_text="The market as it stood at that moment (a date means the end of that day, UTC).")

    class Meta:
        model = MarketPrice
        fields: list[str] = []

    def filter_as_of(self, queryset: QuerySet[MarketPrice], name: str, value: date | datetime
                     ) -> QuerySet[MarketPrice]:
        return queryset  # the view computes as_of rows itself (apps.pricing.market.market_rows_as_of)


class MarketDisagreementFilterSet(MarketScopedFilterSet):
    component = django_filters.ChoiceFilter(choices=[(c, c) for c in COMPONENTS],
                                            help_text="Which price the sources differ on.")
    min_gap_pct = MinAbsPercentFilter(field_name="gap_pct", help_text="Gap at least this many percent.")

    class Meta:
        model = MarketDisagreement
        fields: list[str] = []
