"""Market segments, their sizes by year, projections, and stated vs implied CAGR."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from apps.api_common.serializers import (
    ApiModelSerializer,
    DecimalStringField,
    ExactMoneyField,
    OptionalTextField,
    QueryDecimalField,
)
from apps.market.models import Segment, SizeEstimate

RESULT = {"max_digits": 30, "decimal_places": 10}


class SegmentSerializer(ApiModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "slug", "name"]
        extra_kwargs = {"id": {"help_text": "Segment id."},
                        "slug": {"help_text": "Stable key; the segment filter takes it."},
                        "name": {"help_text": "Segment name."}}


class SizeEstimateSerializer(ApiModelSerializer):
    segment = serializers.CharField(source="segment.slug", help_text="Segment slug.")
    segment_name = serializers.CharField(source="segment.name", help_text="Segment name.")
    source = serializers.CharField(source="source.key", help_text="Key of the source.")
    snapshot = serializers.IntegerField(source="snapshot_id", help_text="Newest snapshot stating it.")
    snapshot_observed_at = serializers.DateTimeField(source="snapshot.observed_at",
                                                     help_text="When that snapshot describes the market (UTC).")

    class Meta:
        model = SizeEstimate
        fields = ["id", "segment", "segment_name", "year", "value_usd_bn", "kind", "driver", "source",
                  "source_label", "snapshot", "snapshot_observed_at"]
        extra_kwargs = {
            "id": {"help_text": "Size estimate id."},
            "year": {"help_text": "Calendar year."},
            "value_usd_bn": {"help_text": "Market size, billions of USD."},
            "kind": {"help_text": "actual (a year before the document) or projection."},
            "driver": {"help_text": "What the source says drives the segment."},
            "source_label": {"help_text": "Who published it, per the file."},
        }


class ProjectionQuerySerializer(serializers.Serializer):
    year_from = serializers.IntegerField(min_value=1900, max_value=2200, default=2023,
                                         help_text="First year to project (default 2023).")
    year_to = serializers.IntegerField(min_value=1900, max_value=2200, default=2030,
                                       help_text="Last year to project (default 2030); before year_from: no rows.")
    rate = serializers.ChoiceField(choices=[("implied", "implied"), ("stated", "stated")], default="implied",
                                   help_text="implied: the CAGR two sizes imply; stated: the source's CAGR.")
    source_label = serializers.CharField(max_length=200, required=False,
                                         help_text="Only sizes from this publisher (as the file names it).")


class ProjectionSerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="Segment name.")
    year = serializers.IntegerField(help_text="Calendar year.")
    rate = serializers.CharField(help_text="implied or stated.")
    cagr_pct = DecimalStringField(**RESULT, help_text="Compound annual growth rate used, percent per year.")
    # Unbounded: 2200 at a 40 % CAGR is a number of 30 digits, which a 30-digit field could not write (a 500).
    value_usd_bn = ExactMoneyField(help_text="Projected size: base x (1 + cagr) ^ (year - base year), "
                                             "billions of USD.")


class ProjectionResponseSerializer(serializers.Serializer):
    rate = serializers.CharField(help_text="implied or stated.")
    results = ProjectionSerializer(many=True, help_text="Every segment projected to every year asked for.")


class CagrQuerySerializer(serializers.Serializer):
    tolerance_pp = QueryDecimalField(max_digits=6, decimal_places=2, min_value=Decimal(0),
                                            default=Decimal(1), coerce_to_string=True,
                                            help_text="Flag a stated CAGR further than this from the implied one, "
                                                      "percentage points (default 1).")


class CagrSerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="Segment name.")
    start_year = serializers.IntegerField(help_text="First year of the stated CAGR.")
    end_year = serializers.IntegerField(help_text="Last year of the stated CAGR.")
    start_usd_bn = DecimalStringField(**RESULT, allow_null=True, help_text="Size in start_year, billions of USD.")
    end_usd_bn = DecimalStringField(**RESULT, allow_null=True, help_text="Size in end_year, billions of USD.")
    stated_cagr_pct = DecimalStringField(**RESULT, help_text="CAGR the source states, percent per year.")
    implied_cagr_pct = DecimalStringField(**RESULT, allow_null=True,
                                          help_text="(end / start) ^ (1 / years) - 1, percent per year.")
    gap_pp = DecimalStringField(**RESULT, allow_null=True, help_text="Stated minus implied, percentage points.")
    disagrees = serializers.BooleanField(help_text="The gap is wider than tolerance_pp.")
    driver = OptionalTextField(help_text="What the source says drives the segment; null = not stated.")
    source = serializers.CharField(help_text="Source key.")
    source_label = OptionalTextField(help_text="Who published it; null = not stated.")
    observed_at = serializers.DateTimeField(help_text="When the stating snapshot describes the market (UTC).")


class CagrResponseSerializer(serializers.Serializer):
    tolerance_pp = DecimalStringField(max_digits=6, decimal_places=2, help_text="Tolerance used, percentage points.")
    results = CagrSerializer(many=True, help_text="Each stated CAGR beside the one its own sizes imply.")
