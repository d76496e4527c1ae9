"""Serializer building blocks: exact decimals as normalised strings, described units."""

from __future__ import annotations

import re
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


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The pattern of a DRF decimal as QueryDecimalField reads one (ASCII digits, at least one of them).

    No sign when negative numbers are refused; a share (0 to 1) spelled out; a positive minimum is
    "some digit is not 0". Output fields get the same pattern, which their normalised strings keep.
    """
    places = field.decimal_places or 0
    whole = max((field.max_digits or 0) - places, 1)
    sign = "-?" if field.min_value is None or field.min_value < 0 else ""
    positive = "(?=[0-9.]*[1-9])" if field.min_value is not None and field.min_value > 0 else ""
    fraction = rf"(?:\.[0-9]{{0,{places}}})?" if places else ""
    bare_fraction = rf"|\.[0-9]{{1,{places}}}" if places else ""
    if field.max_value is not None and field.max_value == 1 and sign == "":
        one = rf"1(?:\.0{{0,{places}}})?" if places else "1"
        return rf"^{positive}(?:0{fraction}{bare_fraction}|{one})$"
    return rf"^{sign}{positive}(?:[0-9]{{1,{whole}}}{fraction}{bare_fraction})$"


class QueryDecimalField(serializers.DecimalField):
    """A decimal query parameter read exactly as the schema's pattern states it (``Decimal()`` alone would
    also take "1e-3", " 5" and "٥")."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str) or not re.fullmatch(decimal_pattern(self), data):
            self.fail("invalid")
        return super().to_internal_value(data)


class OptionalTextField(serializers.CharField):
    """Text whose empty value means "none" (no region, no notes, not stated): written as null, never "".

    The API's null convention: an absent value is ``null`` in JSON and an empty cell in CSV, so a column
    read from either (``pandas.read_json`` / ``read_csv``) has the same missing values. The database keeps
    "" (the text columns are NOT NULL and "" is part of natural keys such as an offering's region); on the
    way in, null is taken as "".
    """

    column_kind = "optional_text"  # apps.api_common.columns: "" -> null in JSON pages, an empty CSV cell

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_null"] = True
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return super().to_representation(value) or None

    def run_validation(self, data: Any = serializers.empty) -> Any:
        return super().run_validation("" if data is None else data)


class OptionalChoiceField(serializers.ChoiceField):
    """A choice whose empty value means "none" (a model's modality not stated): null, and not in the enum."""

    column_kind = "optional_text"

    def __init__(self, **kwargs: Any) -> None:
        kwargs["choices"] = [choice for choice in kwargs["choices"]
                             if (choice[0] if isinstance(choice, list | tuple) else choice) != ""]
        kwargs["allow_null"] = True
        kwargs["allow_blank"] = False
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return super().to_representation(value) if value != "" else None


class ApiModelSerializer(serializers.ModelSerializer):
    """Read-only rows; model decimals become normalised decimal strings, exact money keeps every digit,
    and text that may be blank is null when it is (:class:`OptionalTextField`)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: DecimalStringField,
        ExactDecimalField: ExactMoneyField,
    }

    def build_standard_field(self, field_name: str, model_field: models.Field) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if kwargs.get("allow_blank") and not model_field.null:
            if "choices" in kwargs:
                field_class = OptionalChoiceField
                kwargs.pop("allow_blank")
            elif field_class in (serializers.CharField, serializers.URLField):
                field_class = OptionalTextField
        return field_class, kwargs


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
    # (condition, cell) the CSV export tests before its formula guard: nearly every row, and a cell the guard
    # leaves as it is (apps.api_common.pgcopy.cell_expression).
    postgres_common = ("{x} = '[]'::jsonb", "'[]'")

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
