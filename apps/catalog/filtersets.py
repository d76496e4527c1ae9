"""One FilterSet per list, shared by the HTML pages, the API and the CSV exports."""

from __future__ import annotations

import re
from datetime import date

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.utils import extend_schema_field

from apps.api_common.filters import (
    CharInFilter,
    MomentField,
    MoneyFilter,
    SlugMultipleChoiceFilter,
    StrictBooleanFilter,
)
from apps.sources.models import Source

from .models import MODALITY_CHOICES, Model, ModelAlias, Offering, Provider

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class DayField(MomentField):
    """A calendar day written YYYY-MM-DD, exactly the schema's ``format: date`` (no date-time)."""

    default_error_messages = {"invalid": "Enter a date (YYYY-MM-DD)."}

    def to_python(self, value: object) -> date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, str) and not _DAY.fullmatch(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)  # type: ignore[return-value]


@extend_schema_field({"type": "string", "format": "date"})
class DayFilter(django_filters.Filter):
    field_class = DayField


class ProviderFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Provider.Kind.choices, distinct=False,
                                               help_text="Provider kind; repeat the parameter for several.")
    slug = CharInFilter(help_text="Provider slug(s), comma-separated.")

    class Meta:
        model = Provider
        fields: list[str] = []


class ModelFilterSet(django_filters.FilterSet):
    slug = CharInFilter(help_text="Canonical model slug(s), comma-separated.")
    family = django_filters.CharFilter(lookup_expr="iexact", help_text="Model family, case-insensitive.")
    creator = django_filters.CharFilter(lookup_expr="iexact", help_text="Who made the model, case-insensitive.")
    size_class = django_filters.CharFilter(lookup_expr="iexact", help_text="Size class (e.g. 70b-class).")
    variant = django_filters.CharFilter(lookup_expr="iexact", help_text="instruct, chat, base…")
    modality = django_filters.MultipleChoiceFilter(
        choices=MODALITY_CHOICES, distinct=False,
        help_text="text, vision, multimodal, audio, image, video, embedding, rerank, moderation, ocr; repeat "
                  "the parameter for several.")
    open_weights = StrictBooleanFilter(help_text="true: weights published; false: closed (unknown matches neither).")
    released_after = DayFilter(field_name="released_on", lookup_expr="gte",
                               help_text="Released on or after this day (YYYY-MM-DD).")
    released_before = DayFilter(field_name="released_on", lookup_expr="lt",
                                help_text="Released before this day (YYYY-MM-DD).")
    min_parameters_b = MoneyFilter(field_name="parameter_count_b", lookup_expr="gte",
                                   help_text="At least this many parameters (total), in billions.")
    max_parameters_b = MoneyFilter(field_name="parameter_count_b", lookup_expr="lte",
                                   help_text="At most this many parameters (total), in billions.")
    max_active_parameters_b = MoneyFilter(
        field_name="active_parameter_count_b", lookup_expr="lte",
        help_text="Mixture-of-experts models with at most this many active parameters, in billions.")
    provider = SlugMultipleChoiceFilter(
        field_name="offered_by", to_field_name="slug", queryset=Provider.objects.all(), method="filter_provider",
        help_text="Models that this provider offers; repeat the parameter for several.")

    class Meta:
        model = Model
        fields: list[str] = []

    def filter_provider(self, queryset: QuerySet[Model], name: str, value: list[Provider]) -> QuerySet[Model]:
        if not value:
            return queryset
        offered = Offering.objects.filter(alias__model=OuterRef("pk"), provider__in=value)
        return queryset.filter(Exists(offered))


class ModelAliasFilterSet(django_filters.FilterSet):
    source = SlugMultipleChoiceFilter(field_name="source", to_field_name="key", queryset=Source.objects.all(),
                                      help_text="Source key; repeat the parameter for several.")
    model = SlugMultipleChoiceFilter(field_name="model", to_field_name="slug", queryset=Model.objects.all(),
                                     help_text="Canonical model slug; repeat the parameter for several.")
    status = django_filters.MultipleChoiceFilter(choices=ModelAlias.Status.choices, distinct=False,
                                                 help_text="How the alias was resolved (unresolved = the queue).")
    resolved = StrictBooleanFilter(field_name="model", lookup_expr="isnull", exclude=True,
                                   help_text="true: aliases with a canonical model; false: the rest.")
    raw_id = django_filters.CharFilter(help_text="The raw model id exactly as the source spells it.")

    class Meta:
        model = ModelAlias
        fields: list[str] = []


class OfferingFilterSet(django_filters.FilterSet):
    provider = SlugMultipleChoiceFilter(field_name="provider", to_field_name="slug", queryset=Provider.objects.all(),
                                        help_text="Provider slug; repeat the parameter for several.")
    provider_kind = django_filters.MultipleChoiceFilter(field_name="provider__kind", choices=Provider.Kind.choices,
                                                        distinct=False, help_text="Provider kind.")
    model = SlugMultipleChoiceFilter(field_name="alias__model", to_field_name="slug", queryset=Model.objects.all(),
                                     help_text="Canonical model slug; repeat the parameter for several.")
    family = django_filters.CharFilter(field_name="alias__model__family", lookup_expr="iexact",
                                       help_text="Model family, case-insensitive.")
    size_class = django_filters.CharFilter(field_name="alias__model__size_class", lookup_expr="iexact",
                                           help_text="Model size class (e.g. 70b-class).")
    source = SlugMultipleChoiceFilter(field_name="source", to_field_name="key", queryset=Source.objects.all(),
                                      help_text="Source key; repeat the parameter for several.")
    source_model_id = django_filters.CharFilter(help_text="The raw model id exactly as the source spells it.")
    region = django_filters.CharFilter(help_text="Region exactly as the source names it.")
    service_tier = CharInFilter(help_text="Service tier(s), comma-separated: standard, batch, flex, priority.")
    mode = django_filters.CharFilter(help_text="chat, embedding, image_generation…")
    resolved = StrictBooleanFilter(field_name="alias__model", lookup_expr="isnull", exclude=True,
                                   help_text="true: offerings whose raw id names a canonical model.")

    class Meta:
        model = Offering
        fields: list[str] = []
