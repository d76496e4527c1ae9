"""OpenAPI details drf-spectacular cannot guess: CSV bodies, error bodies, throttling headers, and query parameters
as the API reads them (empty values, NUL characters, exact decimal patterns, comma-separated lists)."""

from __future__ import annotations

from typing import Any

from django_filters.filters import BaseInFilter
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

from .serializers import decimal_pattern

CSV_SCHEMA = {
    "type": "string",
    "description": ("CSV (RFC 4180, UTF-8): a header row of the same field names as the JSON (units in the names), "
                    "then every matching row, unpaginated and streamed. Numbers are plain decimals; text cells "
                    "starting with = + - @ tab or carriage return get a leading apostrophe (formula injection)."),
}

ERROR_SCHEMA = {
    "type": "object",
    "description": ('An error. A 400 names each bad parameter or field: {"as_of": ["Enter a date…"]}; '
                    'other errors say why in "detail".'),
    "additionalProperties": {},
}

ERRORS = {
    "400": "A parameter or field has a value that cannot be used; the body names it.",
    "401": "Authentication needed (no or a bad token): send 'Authorization: Token <key>'.",
    "403": "Signed in, but not allowed (writes are for staff).",
    "404": "No such object.",
    "415": "The request body is not in a media type this operation takes.",
    "429": "Too many requests; retry after the number of seconds in Retry-After.",
}


def _error(code: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": ERRORS[code],
                                "content": {"application/json": {"schema": ERROR_SCHEMA}}}
    if code == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                               "description": "Seconds to wait before the next request."}}
    return response


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        query = getattr(self.view, "query_serializer_class", None)
        if query is not None and self.method == "GET":
            parameters = [*parameters, query]
        return parameters

    def _get_filter_parameters(self):
        filterset_class = getattr(self.view, "filterset_class", None)
        if filterset_class is None or not hasattr(self.view, "query_serializer_class") or self.method != "GET":
            return super()._get_filter_parameters()
        # A computed table whose rows a list's FilterSet chooses: document that FilterSet's parameters.
        from django_filters.rest_framework import DjangoFilterBackend

        extension = FilterExtension(DjangoFilterBackend())
        model = filterset_class._meta.model
        parameters = []
        for name, field in filterset_class.base_filters.items():
            parameters += extension.resolve_filter_field(self, model, filterset_class, name, field)
        return parameters

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema and field.max_digits is not None:
            schema["pattern"] = decimal_pattern(field)
        return schema

    def get_response_serializers(self):
        response = getattr(self.view, "response_serializer_class", None)
        if response is not None and self.method == "GET":
            return response
        return super().get_response_serializers()

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content") or {}
        if "text/csv" in content:
            content["text/csv"] = {"schema": CSV_SCHEMA}
        return response

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        has_input = bool(operation.get("parameters")) or "requestBody" in operation
        codes = ["401", "403", "429"]
        if has_input:
            codes.insert(0, "400")
        if "{" in self.path:
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        for code in codes:
            responses.setdefault(code, _error(code))
        for parameter in operation.get("parameters", ()):
            if parameter.get("in") == "query":
                _as_read(parameter)
        return operation


# Django's forms and DRF refuse a NUL character in any text (PostgreSQL cannot hold one): a 400 naming the field.
NO_NUL = "^[^\\x00]*$"


def _as_read(parameter: dict[str, Any]) -> None:
    """A query parameter's schema as the API reads it (the schema is a contract: schemathesis checks both ways).

    - An optional parameter given empty (``?as_of=``) means "not given", as django-filter, DRF and the
      pagination read it: ``allowEmptyValue``.
    - No text holds a NUL character.
    """
    if not parameter.get("required"):
        parameter["allowEmptyValue"] = True
    schema = parameter.get("schema") or {}
    for text in (schema, schema.get("items") or {}):
        if text.get("type") == "string" and not ({"format", "enum", "pattern"} & text.keys()):
            text["pattern"] = NO_NUL


class FilterExtension(DjangoFilterExtension):
    """A filter's help_text is its parameter's description, also for filters whose type is declared by hand."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        if isinstance(filter_field, BaseInFilter):
            # A comma-separated list is one text on the wire ("standard" is also a one-item list): say so.
            for parameter in parameters:
                parameter.pop("style", None)
                parameter.pop("explode", None)
                parameter["schema"] = {"type": "string", "pattern": NO_NUL}
        help_text = filter_field.extra.get("help_text")
        if help_text:
            for parameter in parameters:
                described = parameter.get("description") or ""
                if help_text not in described:
                    parameter["description"] = f"{help_text} {described}".strip()
        return parameters
