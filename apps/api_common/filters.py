"""Filter building blocks for the FilterSets that pages, the API and exports share.

Every filter here validates strictly: a value it cannot use is a form error
(the API answers 400 naming the parameter), never a silently ignored
parameter and never a database error.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from time import monotonic as time_monotonic

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

BIGINT_MAX = 2**63 - 1

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


class MomentField(forms.Field):
    """A date (``2025-01-31``) or an ISO 8601 date-time (``2025-01-31T12:00:00Z``); naive times are UTC."""

    default_error_messages = {
        "invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]).",
        "range": "The date-time is out of range.",
    }

    def to_python(self, value: object) -> date | datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime | date):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10:
                parsed_date = parse_date(text)
                if parsed_date is not None:
                    return parsed_date
            parsed = parse_datetime(text)
        except ValueError:  # well formed but impossible (2025-02-30, offset +25:00)
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            # Normalise to UTC now, so that year-9999 offsets fail here and not in the database.
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["range"], code="range") from None


def start_of(moment: date | datetime) -> datetime:
    """A date means its first instant (UTC); a date-time is itself."""
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time.min, tzinfo=UTC)


@extend_schema_field({"type": "string", "format": "date-time",
                      "description": "A date (YYYY-MM-DD, meaning 00:00 UTC) or an ISO 8601 date-time."})
class MomentFilter(django_filters.Filter):
    """Compare a date-time column with a date or a date-time.

    ``lookup_expr="gte"`` with a date means "on or after that day";
    ``lookup_expr="lt"`` with a date means "before that day".
    """

    field_class = MomentField

    def filter(self, qs: QuerySet, value: date | datetime | None) -> QuerySet:
        if value in (None, ""):
            return qs
        return super().filter(qs, start_of(value))


@extend_schema_field({"type": "string", "format": "date",
                      "description": "A date (YYYY-MM-DD, meaning the end of that day, UTC) or an ISO 8601 "
                                     "date-time."})
class AsOfFilter(django_filters.Filter):
    """A moment handed to a filter method (as_of): the method decides what a date means."""

    field_class = MomentField


class IntegerField(forms.IntegerField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.Filter):
    """A whole number within the database's range (ids, years, token counts)."""

    field_class = IntegerField


class MoneyField(forms.DecimalField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 10)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^-?\d{0,10}(?:\.\d{0,10})?$"})
class MoneyFilter(django_filters.Filter):
    """An exact decimal amount, at most 10 digits before and 10 after the point."""

    field_class = MoneyField


class PercentField(forms.DecimalField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{0,10}(?:\.\d{0,2})?$"})
class MinAbsPercentFilter(django_filters.Filter):
    """Rows whose percentage moved by at least this much, up or down (``10`` keeps +12 % and -30 %)."""

    field_class = PercentField

    def filter(self, qs: QuerySet, value: Decimal | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(Q(**{f"{self.field_name}__gte": value}) | Q(**{f"{self.field_name}__lte": -value}))


class StrictBooleanField(forms.Field):
    """true/false, 1/0, yes/no, on/off; anything else is an error rather than "no filter"."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Enter true or false."}

    def to_python(self, value: object) -> bool | None:
        if value in self.empty_values:
            return None
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationError(self.error_messages["invalid"], code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField

    def filter(self, qs: QuerySet, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return super().filter(qs, value)


# How long a process trusts its map of keys (provider slugs, model slugs, source keys) to ids.
KEY_MAP_TTL_SECONDS = 60.0
_key_maps: dict[tuple[str, str], tuple[float, dict[str, int]]] = {}


def key_map(queryset: QuerySet, field: str) -> dict[str, int] | None:
    """``{key: id}`` of every row of an unfiltered queryset, kept per process for KEY_MAP_TTL_SECONDS.

    None for a filtered queryset (its rows depend on the filter). The map is only ever used to
    accept keys it holds; a key it lacks goes to the database, so a row added a moment ago is
    found at once. A key renamed or deleted within the TTL still maps to its old id: the filter
    then matches that row's data, or nothing.
    """
    if queryset.query.where or queryset.query.is_sliced:
        return None
    label = (queryset.model._meta.label, field)
    now = time_monotonic()
    cached = _key_maps.get(label)
    if cached is not None and cached[0] > now:
        return cached[1]
    mapping = {str(key): pk for key, pk in queryset.order_by().values_list(field, "pk")}
    _key_maps[label] = (now + KEY_MAP_TTL_SECONDS, mapping)
    return mapping


def key_maps_clear() -> None:
    _key_maps.clear()


class SlugMultipleChoiceField(django_filters.fields.ModelMultipleChoiceField):
    """Keys (``?provider=openai``) to ids; an unknown key is a form error naming it.

    Keys the process has seen in the table resolve from :func:`key_map` without a query
    (every filtered API page used to spend a round trip checking the provider slug);
    anything else is checked in the database as before. Refuses NUL characters before
    they reach the database (PostgreSQL cannot hold them).
    """

    def clean(self, value):
        for item in value or ():
            if "\x00" in str(item):
                raise ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
        return super().clean(value)

    def _check_values(self, value):
        if self.null_label is None and value:
            known = key_map(self.queryset, self.to_field_name or "pk")
            if known is not None:
                ids = [known.get(str(v)) for v in value]
                if None not in ids:
                    return list(dict.fromkeys(ids))
        return super()._check_values(value)


class SlugMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """One or more rows named by a unique key (``?provider=openai&provider=groq``); unknown keys are a 400.

    ``field_name`` is the foreign key (``offering__provider``) and ``to_field_name`` the
    key users type (``slug``): the query compares ids, with no join to the named table.
    ``distinct`` is off: these filters follow many-to-one paths only, so no row repeats.
    """

    field_class = SlugMultipleChoiceField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value) -> QuerySet:
        # One id is ``=``, several ``IN (...)`` (an index range each), never a chain of ORs.
        if not value:
            return qs
        ids = list(dict.fromkeys(getattr(v, "pk", v) for v in value))
        if len(ids) == 1:
            return qs.filter(**{self.field_name: ids[0]})
        return qs.filter(**{f"{self.field_name}__in": ids})


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """A comma-separated list of exact values (``?service_tier=standard,batch``)."""


def lean_filterset(filterset_class: type[django_filters.FilterSet], data, queryset: QuerySet, request=None):
    """The FilterSet with only the filters the query names: the same rows and the same errors, without
    copying and validating dozens of absent filters on every API request.

    Pages keep binding the full FilterSet (their forms show every filter).
    """
    keys = set(data.keys()) if data is not None else set()
    filterset = filterset_class.__new__(filterset_class)
    # An instance attribute shadows the class's filters for FilterSet.__init__ (which deep-copies them).
    filterset.base_filters = {name: f for name, f in filterset_class.base_filters.items()
                              if name in keys or any(k.startswith(f"{name}_") for k in keys)}
    filterset.__init__(data, queryset=queryset, request=request)
    return filterset
