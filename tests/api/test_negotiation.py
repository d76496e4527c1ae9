"""The negotiation's short way for the common request (no Accept, */*, or the JSON type; no format or
format=json) picks what DRF's full negotiation picks, and leaves every other request to it."""

from __future__ import annotations

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from apps.api_common.renderers import ContentNegotiation

ACCEPTS = [None, "*/*", "application/json", "text/csv", "text/html", "application/json; indent=2",
           "application/*", "text/csv, */*", "", "image/png"]
FORMATS = [None, "json", "csv", "api", ""]


def renderers():
    return [cls() for cls in api_settings.DEFAULT_RENDERER_CLASSES]


def outcome(negotiation, accept, format_):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/api/v1/prices/", {} if format_ is None else {"format": format_},
                                              **extra))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers())
    except Exception as error:  # the kind of refusal is what is compared
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("format_", FORMATS)
def test_it_picks_what_drfs_negotiation_picks(accept, format_, monkeypatch):
    ours = outcome(ContentNegotiation(), accept, format_)
    with monkeypatch.context() as patched:
        # DRF's own selection, with this project's refusal of unknown formats (filter_renderers) kept.
        patched.setattr(ContentNegotiation, "select_renderer", DefaultContentNegotiation.select_renderer)
        theirs = outcome(ContentNegotiation(), accept, format_)
    assert ours == theirs
