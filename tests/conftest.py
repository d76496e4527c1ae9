"""Shared test fixtures."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# CI and every developer have ../shared beside the checkout.
SHARED_DATA = Path(os.environ.get("TOKENWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = REPO / "fixtures"


@pytest.fixture(autouse=True)
def _fresh_key_maps():
    """Each test starts from an empty database, where yesterday's slug -> id map means nothing."""
    from django.core.cache import caches

    from apps.api_common.filters import key_maps_clear

    key_maps_clear()
    # Nor does an earlier test's page in the page cache (apps.dashboard.pagecache): a test's rolled-back
    # database can come back to a data version that an earlier test's pages were kept under.
    caches["default"].clear()
    yield
    key_maps_clear()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data missing at {SHARED_DATA}")
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def need(reason: str) -> None:
    """Skip for a missing service locally; under CI=true a missing service is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture
def postgres(db) -> None:
    if not is_postgres():
        need("needs PostgreSQL (set DATABASE_URL=postgres://...)")


def redis_url() -> str | None:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        return None
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:  # any failure to talk to it means "not available"
        return None
    return url


@pytest.fixture
def redis_broker() -> str:
    url = redis_url()
    if url is None:
        need("needs Redis (set CELERY_BROKER_URL=redis://127.0.0.1:6379/15)")
    return url  # type: ignore[return-value]


def get_source(key: str):
    """A default source; transactional tests flush the migration's rows, so make sure they exist."""
    from apps.sources.defaults import sources_ensure_defaults
    from apps.sources.models import Source

    source = Source.objects.filter(key=key).first()
    if source is None:
        sources_ensure_defaults(Source)
        source = Source.objects.get(key=key)
    return source


@pytest.fixture
def ingest_file(db, shared_data):
    from apps.sources.services import FetchMeta, source_ingest_bytes

    def run(key: str, path: Path | str, observed_at=None, trigger: str = "command"):
        path = Path(path)
        if not path.is_absolute():
            path = shared_data / path
        return source_ingest_bytes(source=get_source(key), content=path.read_bytes(), trigger=trigger,
                                   observed_at=observed_at, meta=FetchMeta(filename=path.name))

    return run


def pytest_collection_modifyitems(config, items):
    # A test that asks for the `postgres` fixture is a PostgreSQL test, so that
    # `-m "not postgres"` (CI's SQLite pass) deselects it instead of skipping it.
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@contextmanager
def served_source(handler: type[BaseHTTPRequestHandler], key: str = "litellm") -> Iterator:
    """The source ``key`` pointed at a server on 127.0.0.1 that answers with ``handler`` (fetch tests never
    leave loopback; the caller allows private addresses with settings.TOKENWATCH_FETCH_ALLOW_PRIVATE)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    source = get_source(key)
    source.url = f"http://127.0.0.1:{httpd.server_address[1]}/prices.json"
    source.save()
    try:
        yield source
    finally:
        httpd.shutdown()


@pytest.fixture
def two_sources_ingested(db):
    """gpt-4o listed by two sources of the LiteLLM format (LiteLLM, then "mirror" a day later): every catalog and
    price table holds a row, and each source has its own alias of one canonical model."""
    import json
    from datetime import UTC, datetime

    from apps.sources.models import Source
    from apps.sources.services import FetchMeta, source_ingest_bytes

    doc = json.dumps({"gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-06,
                                 "output_cost_per_token": 1e-05}}).encode()
    mirror = Source.objects.create(key="mirror", name="A second LiteLLM-format feed", format="litellm")
    for day, source in ((1, get_source("litellm")), (2, mirror)):
        run = source_ingest_bytes(source=source, content=doc, trigger="command", meta=FetchMeta(filename=f"{day}.json"),
                                  observed_at=datetime(2026, 1, day, tzinfo=UTC))
        assert run.status == "ok", run.message
    return get_source("litellm"), mirror


def direct_connection_params() -> dict:
    """The test database's connection parameters as Django connects, for a psycopg connection of a test's own."""
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return params


def waits_then_refused(holder, waiter, statement: str, params: list) -> None:
    """``statement`` on ``waiter`` waits for ``holder``'s open transaction, and once ``holder`` commits it is
    refused (an IntegrityError, rolled back). For two-connection tests of what a row lock holds off."""
    import psycopg

    out: dict[str, str] = {}

    def go() -> None:
        try:
            waiter.execute(statement, params)
            waiter.commit()
            out["result"] = "done"
        except psycopg.IntegrityError:
            waiter.rollback()
            out["result"] = "refused"
    thread = threading.Thread(target=go)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), out
    holder.commit()
    thread.join(10)
    assert out == {"result": "refused"}
