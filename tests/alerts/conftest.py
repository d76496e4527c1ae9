"""Alerts fixtures: a market built through the real ingest pipeline (LiteLLM-format documents), users, watches,
and a webhook receiver on loopback that checks signatures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.alerts.webhooks import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature_valid
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.browser.conftest import browser, page, site  # noqa: F401 (the browser tests' fixtures)
from tests.conftest import get_source

SECRET = "whsec-test-secret"


def doc(models: dict[str, tuple], provider: str = "openai") -> bytes:
    """A LiteLLM cost map: {raw id: (USD per input token, per output token[, provider])}."""
    return json.dumps({name: {"litellm_provider": (rest[2] if len(rest) > 2 else provider), "mode": "chat",
                              "input_cost_per_token": rest[0], "output_cost_per_token": rest[1]}
                       for name, rest in models.items()}).encode()


def ingest(content: bytes, day: int, key: str = "litellm"):
    run = source_ingest_bytes(source=get_source(key), content=content, trigger="command",
                              observed_at=datetime(2026, 1, day, tzinfo=UTC), meta=FetchMeta(filename=f"{day}.json"))
    assert run.status == "ok" or "seen again" in run.message, run.message
    return run


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user("ann", email="ann@example.com", password="pw-ann-123456")


@pytest.fixture
def other_user(db, django_user_model):
    return django_user_model.objects.create_user("bob", email="bob@example.com", password="pw-bob-123456")


@dataclass
class Receiver:
    url: str
    answers: list[int]
    received: list[dict] = field(default_factory=list)  # every request: headers, body, signature verdict


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1: answers 500 twice then 200, and records every request it got."""
    state = Receiver(url="", answers=[500, 500, 200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append({
                "headers": dict(self.headers), "body": body,
                "signature_ok": signature_valid(self.headers.get(SIGNATURE_HEADER, ""), SECRET, body),
                "idempotency_key": self.headers.get(IDEMPOTENCY_HEADER)})
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
