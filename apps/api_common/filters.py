"""Filter building blocks for the FilterSets that pages, the API and exports share.

Every filter here validates strictly: a value it cannot use is a form error
(the API answers 400 naming the parameter), never a silently ignored
parameter and never a database error.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic as time_monotonic

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

BIGINT_MAX = 2**63 - 1

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
# RFC 3339 (what the schema's ``format: date-time`` admits): seconds and an offset are required.
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
                        r"(?:([Zz])|([+-])(\d{2}):(\d{2}))", re.ASCII)
FIRST_MOMENT = datetime.min.replace(tzinfo=UTC)
LAST_MOMENT = datetime.max.replace(tzinfo=UTC)


class MomentField(forms.Field):
    """A date (``2025-01-31``) or an RFC 3339 date-time (``2025-01-31T12:00:00Z``), exactly what the schema says.

    The schema documents these parameters as ``anyOf: [format: date, format: date-time]``; every value
    those formats admit is accepted, so the edges RFC 3339 allows and Python's datetime cannot hold are
    read as the nearest moment it can: year 0000 as the first moment, an instant past year 9999 in UTC as
    the last one, a leap second as the end of its minute, digits beyond microseconds dropped.
    """

    default_error_messages = {
        "invalid": "Enter a date (YYYY-MM-DD) or an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.ffffff] then Z or "
                   "±HH:MM).",
    }

    def to_python(self, value: object) -> date | datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime | date):
            return value
        text = str(value)
        match = _DATE.fullmatch(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            if year == 0 and _day_exists(2000, month, day):  # year 0 is a leap year, like 2000
                return date.min
            if year > 0 and _day_exists(year, month, day):
                return date(year, month, day)
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        match = _DATE_TIME.fullmatch(text)
        if match is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        fraction, zulu, sign, offset_hours, offset_minutes = match.groups()[6:]
        valid_day = _day_exists(year or 2000, month, day)
        offset_ok = zulu is not None or (int(offset_hours) <= 23 and int(offset_minutes) <= 59)
        if not (valid_day and hour <= 23 and minute <= 59 and second <= 60 and offset_ok):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if year == 0:
            return FIRST_MOMENT
        microsecond = int((fraction or "0")[:6].ljust(6, "0"))
        if second == 60:  # a leap second: the last instant of its minute
            second, microsecond = 59, 999_999
        offset = timedelta(0) if zulu else (1 if sign == "+" else -1) * timedelta(hours=int(offset_hours),
                                                                                minutes=int(offset_minutes))
        local = datetime(year, month, day, hour, minute, second, microsecond)
        try:
            return (local - offset).replace(tzinfo=UTC)
        except OverflowError:  # 9999-12-31T23:00:00-05:00 is in year 10000 in UTC; 0001-01-01T00:00+01:00 in year 0
            return LAST_MOMENT if offset < timedelta(0) else FIRST_MOMENT


def _day_exists(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def moment_schema(description: str) -> dict:
    """A date or a date-time, as MomentField reads them."""
    return {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
            "description": description}


def start_of(moment: date | datetime) -> datetime:
    """A date means its first instant (UTC); a date-time is itself."""
    if isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time.min, tzinfo=UTC)


@extend_schema_field(moment_schema("A date (YYYY-MM-DD, meaning 00:00 UTC) or an RFC 3339 date-time."))
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


@extend_schema_field(moment_schema("A date (YYYY-MM-DD, meaning the end of that day, UTC) or an RFC 3339 "
                                   "date-time."))
class AsOfFilter(django_filters.Filter):
    """A moment handed to a filter method (as_of): the method decides what a date means."""

    field_class = MomentField


WHOLE_NUMBER = re.compile(r"-?[0-9]+", re.ASCII)


class IntegerField(forms.IntegerField):
    """A whole number written in plain ASCII digits (``int()`` would also take ``1_0``, `` 5`` and ``٥``)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value not in self.empty_values and not WHOLE_NUMBER.fullmatch(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": BIGINT_MAX})
class IntegerFilter(django_filters.Filter):
    """A whole number from 0 within the database's range (ids, years, token counts)."""

    field_class = IntegerField


# The decimals these filters take, as patterns the schema states and the fields enforce: Decimal() alone
# would also take "1e5", " 5" and "٥".
MONEY_PATTERN = r"^-?(?:\d{1,10}(?:\.\d{0,10})?|\.\d{1,10})$"
PERCENT_PATTERN = r"^(?:\d{1,10}(?:\.\d{0,2})?|\.\d{1,2})$"


class _PatternDecimalField(forms.DecimalField):
    pattern = ""

    def to_python(self, value):
        if isinstance(value, str) and value not in self.empty_values and not re.fullmatch(self.pattern, value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class MoneyField(_PatternDecimalField):
    pattern = MONEY_PATTERN

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 20)
        kwargs.setdefault("decimal_places", 10)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN})
class MoneyFilter(django_filters.Filter):
    """An exact decimal amount, at most 10 digits before and 10 after the point."""

    field_class = MoneyField


class PercentField(_PatternDecimalField):
    pattern = PERCENT_PATTERN

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": PERCENT_PATTERN})
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
    if data is not None:
        # An empty value means "not given" (the schema's allowEmptyValue), for repeatable filters too:
        # ``?provider=`` binds no provider rather than an unknown one named "".
        given = QueryDict(mutable=True)
        for key, values in data.lists():
            kept = [v for v in values if v != ""]
            if kept:
                given.setlist(key, kept)
        data = given
    keys = set(data.keys()) if data is not None else set()
    filterset = filterset_class.__new__(filterset_class)
    # An instance attribute shadows the class's filters for FilterSet.__init__ (which deep-copies them).
    filterset.base_filters = {name: f for name, f in filterset_class.base_filters.items()
                              if name in keys or any(k.startswith(f"{name}_") for k in keys)}
    filterset.__init__(data, queryset=queryset, request=request)
    return filterset
