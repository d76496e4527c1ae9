"""One FilterSet per list, shared by the pages and the API."""

from __future__ import annotations

import django_filters

from .models import Delivery, Watch


class WatchFilterSet(django_filters.FilterSet):
    class Meta:
        model = Watch
        fields = ["paused", "target", "condition"]


class DeliveryFilterSet(django_filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["watch", "status", "channel"]
