"""An API response, once served, is freed by reference counting, not left for the cyclic collector.

DRF links a response to itself while rendering (``renderer_context["response"]``) and the view to its
response (``view.response``). Both are cycles, so every page (100 row dicts, its rendered bytes) stayed
in memory until Python's cyclic collector came round: in a gunicorn worker under load that collector
took ~8 % of the worker's CPU and its full collections paused the worker for 20-110 ms, holding every
connection the worker serves (bench/README.md, issue 14, "twelfth look"). The API's views break both
links once the body is rendered, so the page goes as soon as the server has sent it.

Driven through Django's WSGI handler as a server drives it (the test client keeps its own references
to a response), with the collector off so only reference counting can free anything. The browsable API
(``format=api``, HTML for a person at a browser) is left out: Django's template machinery keeps cycles of
its own around the page's context, which the collector frees as before.
"""

from __future__ import annotations

import gc
import io
import sys
import weakref
from collections.abc import Iterator

import pytest
from django.core.handlers.wsgi import WSGIHandler

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector_off() -> Iterator[None]:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def serve(app: WSGIHandler, path: str, query: str = "", **headers: str) -> tuple[str, weakref.ref]:
    """One request as a WSGI server makes it: call, iterate the body, close. Returns the status and a weak
    reference to the response object the handler returned."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "testserver",
               "SERVER_PORT": "80", "HTTP_HOST": "testserver", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
               "wsgi.errors": sys.stderr, **headers}
    statuses: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    for _ in body:
        pass
    body.close()
    ref = weakref.ref(body)
    del body
    return statuses[0], ref


@pytest.mark.parametrize(("path", "query", "status"), [
    ("/api/v1/prices/", "", "200"),  # a list page (the lean path)
    ("/api/v1/prices/", "provider=openai&ordering=-id", "200"),  # a list page (the FilterSet path)
    ("/api/v1/prices/", "page_size=abc", "400"),  # an error
    ("/api/v1/providers/", "", "200"),
    ("/api/v1/compare/", "model=gpt-4o&input_tokens=1000&output_tokens=100", "200"),  # a computed table
])
def test_a_served_response_is_freed_without_the_cyclic_collector(prices, public_api, wsgi_connections_kept,
                                                                  collector_off, path, query, status):
    app = WSGIHandler()
    served, ref = serve(app, path, query)
    assert served.startswith(status), served
    assert ref() is None, "the response is still referenced: a cycle keeps it (and its page) alive"


def test_a_users_own_list_is_freed_too(user, wsgi_connections_kept, collector_off):
    """/api/v1/watches/ (a signed-in user's own rows, DRF's cursor paginator) shares the release."""
    from rest_framework.authtoken.models import Token

    key = Token.objects.get_or_create(user=user)[0].key
    served, ref = serve(WSGIHandler(), "/api/v1/watches/", HTTP_AUTHORIZATION=f"Token {key}")
    assert served.startswith("200"), served
    assert ref() is None, "the response is still referenced: a cycle keeps it alive"
