"""One FilterSet per list, shared by the HTML page, the API and the CSV export.

Every filter validates strictly (apps.api_common.filters): a value that cannot
be used is an error naming the parameter, never silently ignored.
"""

from __future__ import annotations

from datetime import date, datetime

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.api_common.filters import AsOfFilter, IntegerFilter, MomentFilter, StrictBooleanFilter
from apps.pricing.selectors import as_of_moment

from .models import BenchmarkRun, HardwarePrice, PricingModel


class BenchmarkRunFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="alias__model__slug", help_text="Canonical model slug.")
    size_class = django_filters.CharFilter(field_name="alias__model__size_class", help_text="e.g. 70b-class.")
    source = django_filters.CharFilter(field_name="source__key", help_text="Source key, e.g. llmperf.")
    provider = django_filters.CharFilter(field_name="provider__slug",
                                         help_text="Provider slug of the API that served the requests.")
    serving_stack = django_filters.CharFilter(lookup_expr="iexact",
                                              help_text="Serving stack, case-insensitive (vLLM, TensorRT-LLM…).")
    precision = django_filters.CharFilter(lookup_expr="iexact", help_text="FP16, FP8, INT4…, case-insensitive.")
    accelerator = django_filters.CharFilter(field_name="hardware__accelerator", lookup_expr="iexact",
                                            help_text="Accelerator model, case-insensitive (H100, A100…).")
    accelerator_count = IntegerFilter(field_name="hardware__accelerator_count", help_text="Accelerators, count.")
    mostly_failed = StrictBooleanFilter(help_text="true: runs where over half the requests failed.")
    measured_after = MomentFilter(field_name="measured_at", lookup_expr="gte",
                                  help_text="Measured on or after this date (or date-time).")
    measured_before = MomentFilter(field_name="measured_at", lookup_expr="lt",
                                   help_text="Measured before this date (or date-time).")
    input_tokens = IntegerFilter(help_text="Workload: prompt tokens per request.")
    output_tokens = IntegerFilter(help_text="Workload: output tokens per request.")
    concurrency = IntegerFilter(help_text="Workload: concurrent requests.")

    class Meta:
        model = BenchmarkRun
        fields: list[str] = []


class HardwarePriceFilterSet(django_filters.FilterSet):
    provider = django_filters.CharFilter(field_name="offering__provider__slug", help_text="Provider slug.")
    source = django_filters.CharFilter(field_name="offering__source__key", help_text="Source key.")
    instance_type = django_filters.CharFilter(field_name="offering__instance_type",
                                              help_text="Instance type, e.g. gpu_8x_h100_sxm5.")
    region = django_filters.CharFilter(field_name="offering__region", help_text="Region as the source names it.")
    pricing_model = django_filters.ChoiceFilter(field_name="offering__pricing_model", choices=PricingModel.choices,
                                                help_text="on-demand, spot or reserved.")
    accelerator = django_filters.CharFilter(field_name="offering__hardware__accelerator", lookup_expr="iexact",
                                            help_text="Accelerator model, case-insensitive (H100, A100…).")
    accelerator_count = IntegerFilter(field_name="offering__hardware__accelerator_count",
                                      help_text="Accelerators per instance, count.")
    as_of = AsOfFilter(method="filter_as_of",
                       help_text="Prices in force then; a date means the end of that day (default: all).")
    current = StrictBooleanFilter(method="filter_current", help_text="true: only prices in force now.")

    class Meta:
        model = HardwarePrice
        fields: list[str] = []

    def filter_as_of(self, queryset: QuerySet[HardwarePrice], name: str,
                     value: date | datetime) -> QuerySet[HardwarePrice]:
        at = as_of_moment(value)
        in_force = Q(effective_to__isnull=True) | Q(effective_to__gt=at)
        return queryset.filter(effective_from__lte=at).filter(in_force)

    def filter_current(self, queryset: QuerySet[HardwarePrice], name: str, value: bool) -> QuerySet[HardwarePrice]:
        return self.filter_as_of(queryset, name, timezone.now()) if value else queryset
