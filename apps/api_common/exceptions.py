"""Errors as JSON: a 400 names each bad parameter (``{"as_of": ["Enter a date…"]}``), never a 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

HOW_TO_AUTHENTICATE = ("Authentication credentials were not provided: sign in, or send 'Authorization: Token <key>' "
                       "(python manage.py api_token USERNAME prints one).")


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        # A service refusing bad input is the client's error, not the server's.
        exc = ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, NotAuthenticated):
        auth_header = getattr(exc, "auth_header", None)
        exc = NotAuthenticated(HOW_TO_AUTHENTICATE)
        exc.auth_header = auth_header  # type: ignore[attr-defined]
    return drf_exception_handler(exc, context)
