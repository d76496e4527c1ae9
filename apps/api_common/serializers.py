"""Serializer building blocks: exact decimals as normalised strings, described units."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.common.fields import ExactDecimalField


class DecimalStringField(serializers.DecimalField):
    """An exact decimal as a JSON string without trailing zeros: "2.5", "10", "0.0001" (never 2.4999…)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 10)
        kwargs["coerce_to_string"] = True
        kwargs["normalize_output"] = True
        super().__init__(**kwargs)


class ExactMoneyField(DecimalStringField):
    """A stored price with every digit the source gave: "15.000020000000002", "2.5", "10".

    DecimalStringField's default 10 decimal places would round 15.000020000000002 to
    15.00002 wherever DRF serializes per object (a price's detail page, /compare/), and
    DRF's normalize() rounds to the 28-digit context; list pages and CSV already write
    ``decimal_text``. The money columns are exact (ExactDecimalField), so is this.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["max_digits"] = None
        kwargs["decimal_places"] = None
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        from .columns import decimal_text

        return decimal_text(value if isinstance(value, Decimal) else Decimal(str(value)))


class ApiModelSerializer(serializers.ModelSerializer):
    """Read-only rows; model decimals become normalised decimal strings, exact money keeps every digit."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: DecimalStringField,
        ExactDecimalField: ExactMoneyField,
    }


UNIT_PRICES_SCHEMA = {
    "type": "array",
    "description": "Prices that are not per token, each with its own unit.",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "The source's name for the price."},
            "unit": {"type": "string", "description": "What one unit is: image, request, second, character…"},
            "usd_per_unit": {"type": "string", "format": "decimal", "description": "USD per one unit (exact)."},
        },
    },
}


@extend_schema_field(UNIT_PRICES_SCHEMA)
class UnitPricesField(serializers.JSONField):
    """Non-token prices; their amounts are written like every other decimal ("0.00000024414", not "2.4414E-7")."""

    column_kind = "other"
    postgres_json = True  # postgres_sql below is the field's JSON as text (pages read it, unparsed when empty)
    # The same in SQL for CSV straight from PostgreSQL (apps.api_common.columns.postgres_copy_query):
    # every numeric usd_per_unit string rewritten without exponent or trailing zeros.
    postgres_sql = (
        "CASE WHEN {x} = '[]'::jsonb THEN '[]' "  # nearly every row: skip the per-row subquery
        "WHEN jsonb_typeof({x}) = 'array' THEN (SELECT coalesce(jsonb_agg(CASE "
        "WHEN jsonb_typeof(e -> 'usd_per_unit') = 'string' "
        "AND (e ->> 'usd_per_unit') ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$' "
        "THEN jsonb_set(e, '{usd_per_unit}', to_jsonb(trim_scale((e ->> 'usd_per_unit')::numeric)::text)) "
        "ELSE e END ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements({x}) WITH ORDINALITY AS u(e, n))::text "
        "ELSE ({x})::text END"
    )

    def to_representation(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [{**item, "usd_per_unit": _decimal_string(item["usd_per_unit"])}
                if isinstance(item, dict) and isinstance(item.get("usd_per_unit"), str) else item
                for item in value]


def _decimal_string(text: str) -> str:
    from .columns import decimal_text

    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    return decimal_text(value) if value.is_finite() else text


@extend_schema_field({"type": "string", "format": "date",
                      "description": "A date (YYYY-MM-DD, the end of that day, UTC) or an ISO 8601 date-time."})
class MomentSerializerField(serializers.Field):
    """A query parameter taking a date or a date-time (see api_common.filters.MomentField)."""

    def to_internal_value(self, data: Any):
        from django.core.exceptions import ValidationError as DjangoValidationError

        from .filters import MomentField

        try:
            return MomentField().clean(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def to_representation(self, value: Any) -> str:
        return value.isoformat()
