"""One FilterSet per list, shared by the HTML page, the API and the CSV export."""

from __future__ import annotations

import django_filters

from apps.api_common.filters import IntegerFilter

from .models import Segment, SizeEstimate, StatedCagr


class SegmentFilterSet(django_filters.FilterSet):
    slug = django_filters.CharFilter(help_text="Segment slug.")
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Words in the segment name.")

    class Meta:
        model = Segment
        fields: list[str] = []


class SizeEstimateFilterSet(django_filters.FilterSet):
    segment = django_filters.CharFilter(field_name="segment__slug", help_text="Segment slug.")
    source = django_filters.CharFilter(field_name="source__key", help_text="Source key, e.g. market-csv.")
    source_label = django_filters.CharFilter(help_text="Publisher as the file names it.")
    kind = django_filters.ChoiceFilter(choices=SizeEstimate.Kind.choices, help_text="actual or projection.")
    year = IntegerFilter(help_text="Calendar year.")
    year_from = IntegerFilter(field_name="year", lookup_expr="gte", help_text="From this year on.")
    year_to = IntegerFilter(field_name="year", lookup_expr="lte", help_text="Up to this year.")

    class Meta:
        model = SizeEstimate
        fields: list[str] = []


class StatedCagrFilterSet(django_filters.FilterSet):
    segment = django_filters.CharFilter(field_name="segment__slug", help_text="Segment slug.")
    source = django_filters.CharFilter(field_name="source__key", help_text="Source key.")
    source_label = django_filters.CharFilter(help_text="Publisher as the file names it.")
    start_year = IntegerFilter(help_text="First year of the stated rate.")
    end_year = IntegerFilter(help_text="Last year of the stated rate.")

    class Meta:
        model = StatedCagr
        fields: list[str] = []
