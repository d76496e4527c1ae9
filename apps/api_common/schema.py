"""OpenAPI details drf-spectacular cannot guess: CSV bodies, error bodies, throttling headers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

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
        return operation


class FilterExtension(DjangoFilterExtension):
    """A filter's help_text is its parameter's description, also for filters whose type is declared by hand."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        help_text = filter_field.extra.get("help_text")
        if help_text:
            for parameter in parameters:
                described = parameter.get("description") or ""
                if help_text not in described:
                    parameter["description"] = f"{help_text} {described}".strip()
        return parameters
