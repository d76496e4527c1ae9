"""One FilterSet per list, shared by the pages and the API."""

from __future__ import annotations

import django_filters

from apps.api_common.filters import IntegerFilter, StrictBooleanFilter

from .models import Delivery, Watch


class WatchFilterSet(django_filters.FilterSet):
    paused = StrictBooleanFilter(help_text="true: paused watches only; false: active ones only.")

    class Meta:
        model = Watch
        fields = ["paused", "target", "condition"]


class DeliveryFilterSet(django_filters.FilterSet):
    watch = IntegerFilter(field_name="watch_id", help_text="Deliveries of this watch (id).")

    class Meta:
        model = Delivery
        fields = ["watch", "status", "channel"]
