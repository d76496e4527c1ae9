"""Issue 14, demo first impression: the overview says the data is the bundled snapshots (with their dates)
instead of warning that sources were never fetched; failures still warn; load_demo names what it skipped."""

from __future__ import annotations

import csv
import io
import re
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import FIXTURES, get_source

pytestmark = pytest.mark.django_db

LITELLM = FIXTURES / "litellm" / "model_prices_2024-04-22_tokencost-569280a.json"


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _overview(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _note(html: str) -> str:
    match = re.search(r"<div class=\"alert\" role=\"note\" data-demo-note>(.*?)</div>", html, re.S)
    assert match, "no demo note"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def _fail_last_fetch(key: str, message: str) -> None:
    from apps.sources.models import IngestRun

    IngestRun.objects.create(source=get_source(key), trigger=IngestRun.Trigger.TASK, started_at=timezone.now(),
                             finished_at=timezone.now(), status=IngestRun.Status.FAILED, message=message)


def test_it_says_the_data_is_the_bundled_snapshots_with_their_dates_and_warns_about_nothing(web):
    html = _overview(web)
    assert "data-source-warning" not in html  # OpenRouter never fetched and old bundled data: not failures
    note = " ".join(_note(html).split())
    assert "Demo data." in note and "load_demo" in note
    assert "LiteLLM model cost map: 2 snapshots, 2024-04-23 to 2024-09-22" in note  # from the Snapshot rows (UTC)
    assert "LLMPerf leaderboard (Anyscale/Ray): 5 snapshots" in note
    assert "Curated market sizes (CSV uploads): 1 snapshot, 2024-01-01" in note
    # Scheduled sources with no data are named as waiting, not as failed.
    assert re.search(r"Scheduled, not fetched yet: [^.]*OpenRouter models API", note)
    assert 'role="alert"' not in html.split("data-demo-note")[0].rsplit("<div", 1)[-1]  # a calm note


def test_a_failed_fetch_still_warns_beside_the_note(web):
    _fail_last_fetch("openrouter", "HTTP 503 from openrouter.ai")
    html = _overview(web)
    warning = html.split("data-source-warning", 1)[1].split("</div>", 1)[0]
    assert "1 source whose last fetch" in warning
    assert "openrouter" in warning and "HTTP 503 from openrouter.ai" in warning
    assert "litellm" not in warning  # its files are old, but nothing failed
    assert "data-demo-note" in html  # nothing was fetched yet: the data is still the bundled files


def test_once_a_source_is_fetched_the_note_goes_and_its_stale_data_warns(web):
    from apps.sources.models import IngestRun
    from apps.sources.services import FetchMeta, source_ingest_bytes

    # A real fetch (fetch metadata, task trigger) that brings a document dated last year: stale, and warned.
    source_ingest_bytes(source=get_source("litellm"), content=LITELLM.read_bytes(), trigger=IngestRun.Trigger.TASK,
                        observed_at=datetime(2025, 1, 1, tzinfo=UTC),
                        meta=FetchMeta(url="https://example.invalid/prices.json", fetched_at=timezone.now()))
    html = _overview(web)
    assert "data-demo-note" not in html
    warning = html.split("data-source-warning", 1)[1].split("</div>", 1)[0]
    assert "LiteLLM model cost map" in warning and "old; expected within 24 h" in warning
    assert "openrouter" not in warning  # still never fetched, never failed


def test_fresh_fetched_data_gives_neither_note_nor_warning(web):
    from apps.dashboard import selectors as sel
    from apps.sources.models import IngestRun
    from apps.sources.services import FetchMeta, source_ingest_bytes

    source_ingest_bytes(source=get_source("litellm"), content=LITELLM.read_bytes(), trigger=IngestRun.Trigger.TASK,
                        observed_at=timezone.now() - timedelta(hours=1),
                        meta=FetchMeta(url="https://example.invalid/prices.json", fetched_at=timezone.now()))
    assert sel.source_warnings(sel.source_health()).empty
    html = _overview(web)
    assert "data-demo-note" not in html and "data-source-warning" not in html


# --- load_demo ----------------------------------------------------------------------------------


def _manifest(tmp_path, rows: list[dict[str, str]]):
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["source", "path", "observed_at", "note"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_load_demo_names_each_optional_file_it_skipped_and_why(tmp_path):
    shutil.copy(FIXTURES / "seed-article" / "providers.csv", tmp_path / "providers.csv")
    manifest = _manifest(tmp_path, [
        {"source": "providers-csv", "path": "providers.csv", "observed_at": "2024-01-01T00:00:00+00:00",
         "note": "bundled"},
        {"source": "gpu-catalog", "path": "missing/skypilot_lambda_vms_v8.csv",
         "observed_at": "2025-06-01T00:00:00+00:00",
         "note": "optional: licence unclear so not bundled; read from ../shared/data when present"},
    ])
    out = io.StringIO()
    call_command("load_demo", manifest=str(manifest), stdout=out)  # default verbosity: what make run shows
    text = out.getvalue()
    skipped = next(line for line in text.splitlines() if line.startswith("skipped"))
    assert "gpu-catalog" in skipped and str(tmp_path / "missing" / "skypilot_lambda_vms_v8.csv") in skipped
    assert "licence unclear so not bundled" in skipped
    summary = text.strip().splitlines()[-1]
    assert summary.startswith("demo data: 1 files in ")
    assert "1 optional skipped (not present): gpu-catalog (missing/skypilot_lambda_vms_v8.csv)" in summary



def test_load_demo_inside_a_transaction_runs_no_analyze(tmp_path, postgres):
    """ANALYZE in a transaction that is rolled back still rewrites pg_class's row counts (in place): a
    caller's (a test's) load_demo must not leave later transactions planned for tables of the wrong size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    manifest = _manifest(tmp_path, [])
    with CaptureQueriesContext(connection) as queries:
        call_command("load_demo", manifest=str(manifest), stdout=io.StringIO())
    assert not [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("ANALYZE")]
