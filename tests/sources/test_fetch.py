"""Fetching a source over HTTP (a real loopback server): conditional GET, errors classed for retry."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.sources.models import IngestRun, Snapshot
from apps.sources.services import TransientFetchError, source_fetch
from tests.conftest import served_source

pytestmark = pytest.mark.django_db

DOC = json.dumps({
    "last_updated": "2026-03-01T00:00:00+00:00",
    "m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
}).encode()


class Handler(BaseHTTPRequestHandler):
    status = 200
    seen: list[dict[str, str]] = []

    def do_GET(self):
        Handler.seen.append(dict(self.headers))
        if Handler.status != 200:
            self.send_response(Handler.status)
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(DOC)))
        self.end_headers()
        self.wfile.write(DOC)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(settings):
    settings.TOKENWATCH_FETCH_ALLOW_PRIVATE = True
    Handler.status, Handler.seen = 200, []
    with served_source(Handler) as source:
        yield source


def test_it_fetches_stores_and_then_asks_conditionally(server, capsys):
    call_command("ingest", "litellm")
    assert "1 created" in capsys.readouterr().out
    snapshot = Snapshot.objects.get()
    assert snapshot.etag == '"v1"' and snapshot.http_status == 200 and bytes(snapshot.content) == DOC
    assert snapshot.url.endswith("/prices.json")
    run = source_fetch(source=server, trigger="command")
    assert run.status == IngestRun.Status.NOT_MODIFIED
    assert Handler.seen[-1].get("If-None-Match") == '"v1"'
    assert Snapshot.objects.count() == 1


def test_a_conditional_fetch_reads_the_last_validators_not_the_last_document(server):
    """Each scheduled fetch asks with the last snapshot's ETag and Last-Modified; the row's document (1.5 MB for a
    LiteLLM file) stays in the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("ingest", "litellm")
    with CaptureQueriesContext(connection) as queries:
        assert source_fetch(source=server, trigger="command").status == IngestRun.Status.NOT_MODIFIED
    assert Handler.seen[-1].get("If-None-Match") == '"v1"'
    assert not [q["sql"] for q in queries.captured_queries if '"sources_snapshot"."content"' in q["sql"]]


def test_a_server_error_is_transient_and_recorded(server):
    Handler.status = 503
    with pytest.raises(TransientFetchError):
        source_fetch(source=server, trigger="task", raise_transient=True)
    run = IngestRun.objects.get()
    assert run.status == IngestRun.Status.FAILED and "503" in run.message and "transient" in run.message
    assert not Snapshot.objects.exists()


def test_a_not_found_is_permanent_and_the_command_says_so(server):
    Handler.status = 404
    with pytest.raises(CommandError, match="404"):
        call_command("ingest", "litellm")
    assert source_fetch(source=server, trigger="task", raise_transient=True).status == IngestRun.Status.FAILED


def test_loopback_is_refused_unless_allowed(server, settings):
    settings.TOKENWATCH_FETCH_ALLOW_PRIVATE = False
    run = source_fetch(source=server, trigger="task")
    assert run.status == IngestRun.Status.FAILED
    assert "loopback" in run.message
    assert Handler.seen == []
