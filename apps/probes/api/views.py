"""Probe targets (staff only: endpoints and the names of key variables) and probe runs' raw samples."""

from __future__ import annotations

from apps.api_common.pagination import CountedKeysetPagination
from apps.api_common.permissions import StaffOnly
from apps.api_common.views import TableViewSet
from apps.probes.filtersets import ProbeSampleFilterSet, ProbeTargetFilterSet
from apps.probes.models import ProbeSample, ProbeTarget

from .serializers import ProbeSampleSerializer, ProbeTargetSerializer


class ProbeTargetViewSet(TableViewSet):
    """Staff: the endpoints tokenwatch probes for measured speed, with their default workloads."""

    permission_classes = [StaffOnly]
    pagination_class = CountedKeysetPagination  # a handful of rows
    queryset = ProbeTarget.objects.select_related("provider", "model")
    serializer_class = ProbeTargetSerializer
    filterset_class = ProbeTargetFilterSet


class ProbeSampleViewSet(TableViewSet):
    """Every request of every probe run as measured: the raw data behind the probe source's benchmark runs."""

    queryset = ProbeSample.objects.select_related("run")
    serializer_class = ProbeSampleSerializer
    filterset_class = ProbeSampleFilterSet
