"""One FilterSet per list, shared by the HTML pages, the API and the CSV exports."""

from __future__ import annotations

import django_filters

from apps.api_common.filters import IntegerFilter, MomentFilter, SlugMultipleChoiceFilter, StrictBooleanFilter

from .models import IngestRun, Rejection, Snapshot, Source


class SourceFilterSet(django_filters.FilterSet):
    # Not "format": ?format= picks the response format (json or csv).
    source_format = django_filters.MultipleChoiceFilter(field_name="format", choices=Source.Format.choices,
                                                        distinct=False, help_text="Which parser reads the source.")
    enabled = StrictBooleanFilter(help_text="true: sources fetched on their schedule.")

    class Meta:
        model = Source
        fields: list[str] = []


class SnapshotFilterSet(django_filters.FilterSet):
    source = SlugMultipleChoiceFilter(field_name="source", to_field_name="key", queryset=Source.objects.all(),
                                      help_text="Source key; repeat the parameter for several.")
    parse_status = django_filters.MultipleChoiceFilter(choices=Snapshot.Status.choices, distinct=False,
                                                       help_text="pending, ok or failed.")
    observed_after = MomentFilter(field_name="observed_at", lookup_expr="gte",
                                  help_text="Observed on or after this date (or date-time).")
    observed_before = MomentFilter(field_name="observed_at", lookup_expr="lt",
                                   help_text="Observed before this date (or date-time).")
    sha256 = django_filters.CharFilter(help_text="SHA-256 of the raw bytes, 64 hex digits.")

    class Meta:
        model = Snapshot
        fields: list[str] = []


class IngestRunFilterSet(django_filters.FilterSet):
    source = SlugMultipleChoiceFilter(field_name="source", to_field_name="key", queryset=Source.objects.all(),
                                      help_text="Source key; repeat the parameter for several.")
    status = django_filters.MultipleChoiceFilter(choices=IngestRun.Status.choices, distinct=False,
                                                 help_text="Outcome of the run.")
    trigger = django_filters.MultipleChoiceFilter(choices=IngestRun.Trigger.choices, distinct=False,
                                                  help_text="What started the run.")
    snapshot = IntegerFilter(field_name="snapshot_id", help_text="Snapshot id.")
    started_after = MomentFilter(field_name="started_at", lookup_expr="gte",
                                 help_text="Started on or after this date (or date-time).")
    started_before = MomentFilter(field_name="started_at", lookup_expr="lt",
                                  help_text="Started before this date (or date-time).")

    class Meta:
        model = IngestRun
        fields: list[str] = []


class RejectionFilterSet(django_filters.FilterSet):
    source = SlugMultipleChoiceFilter(field_name="snapshot__source", to_field_name="key",
                                      queryset=Source.objects.all(),
                                      help_text="Source key; repeat the parameter for several.")
    snapshot = IntegerFilter(field_name="snapshot_id", help_text="Snapshot id.")
    reason = django_filters.CharFilter(lookup_expr="icontains", help_text="Words in the reason, case-insensitive.")

    class Meta:
        model = Rejection
        fields: list[str] = []
