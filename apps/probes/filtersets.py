"""One FilterSet per list, shared by the API and its CSV export."""

from __future__ import annotations

import django_filters

from apps.api_common.filters import IntegerFilter, StrictBooleanFilter

from .models import ProbeSample, ProbeTarget


class ProbeTargetFilterSet(django_filters.FilterSet):
    provider = django_filters.CharFilter(field_name="provider__slug", help_text="Provider slug.")
    model = django_filters.CharFilter(field_name="model__slug", help_text="Canonical model slug.")
    enabled = StrictBooleanFilter(help_text="true: targets probed on their schedule.")

    class Meta:
        model = ProbeTarget
        fields: list[str] = []


class ProbeSampleFilterSet(django_filters.FilterSet):
    benchmark = IntegerFilter(field_name="run__benchmark_run_id",
                              help_text="Benchmark run id (/api/v1/benchmarks/): that probe run's samples.")
    target = django_filters.CharFilter(field_name="run__target_name", help_text="Probe target name.")
    failed = StrictBooleanFilter(field_name="error", method="filter_failed",
                                 help_text="true: failed requests only; false: successful ones only.")

    class Meta:
        model = ProbeSample
        fields: list[str] = []

    def filter_failed(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return queryset.exclude(error="") if value else queryset.filter(error="")
