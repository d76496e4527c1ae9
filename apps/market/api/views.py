"""Market segments and sizes, projections, and stated vs implied CAGR."""

from __future__ import annotations

from typing import Any

from apps.api_common.pagination import CountedKeysetPagination
from apps.api_common.views import ComputedView, TableViewSet, records
from apps.market import selectors
from apps.market.filtersets import SegmentFilterSet, SizeEstimateFilterSet
from apps.market.models import Segment, SizeEstimate

from .serializers import (
    CagrQuerySerializer,
    CagrResponseSerializer,
    CagrSerializer,
    ProjectionQuerySerializer,
    ProjectionResponseSerializer,
    ProjectionSerializer,
    SegmentSerializer,
    SizeEstimateSerializer,
)


class SegmentViewSet(TableViewSet):
    """Market segments (AI inference infrastructure, endpoint APIs…)."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = Segment.objects.all()
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilterSet
    ordering_fields = {"id": "pk", "name": "name"}


class SizeEstimateViewSet(TableViewSet):
    """A segment's size in a year as one source gives it (actual or projected by the source)."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = SizeEstimate.objects.select_related("segment", "source", "snapshot").defer("snapshot__content")
    serializer_class = SizeEstimateSerializer
    filterset_class = SizeEstimateFilterSet
    ordering_fields = {"id": "pk", "year": "year", "value_usd_bn": "value_usd_bn", "segment": "segment__slug"}


class MarketProjectionView(ComputedView):
    """Every segment projected year by year from its earliest size at a CAGR (implied by its sizes, or stated)."""

    query_serializer_class = ProjectionQuerySerializer
    response_serializer_class = ProjectionResponseSerializer
    csv_serializer_class = ProjectionSerializer
    csv_name = "market-projections"

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        frame = selectors.projections(years=range(params["year_from"], params["year_to"] + 1), rate=params["rate"],
                                      source_label=params.get("source_label"))
        return {"rate": params["rate"], "results": records(frame)}


class MarketCagrView(ComputedView):
    """Each CAGR a source states beside the CAGR its own sizes imply, flagged where they disagree."""

    query_serializer_class = CagrQuerySerializer
    response_serializer_class = CagrResponseSerializer
    csv_serializer_class = CagrSerializer
    csv_name = "market-cagrs"

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        frame = selectors.cagr_table(tolerance_pp=params["tolerance_pp"])
        return {"tolerance_pp": params["tolerance_pp"], "results": records(frame)}
