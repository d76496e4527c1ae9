"""Issue 9, finding 3: every price says when it was first seen and last confirmed (on the page, in the
chart hover and in the export); a source is fresh by the date of its newest data, not by when a file
was last loaded; held snapshots are on the Sources page with their reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.conftest import FIXTURES, get_source

from .html_tables import as_exported, as_shown, read_table

pytestmark = pytest.mark.django_db

LITELLM = FIXTURES / "litellm" / "model_prices_2024-04-22_tokencost-569280a.json"
FIRST = datetime(2024, 4, 23, 6, 50, tzinfo=UTC)  # the file's observation time (2024-04-22 23:50 -07:00)
AGAIN = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)  # the same bytes, seen again
GROQ = "groq/llama3-70b-8192"


def _ingest(content: bytes, observed_at: datetime, *, key: str = "litellm", filename: str = LITELLM.name):
    from apps.sources.services import FetchMeta, source_ingest_bytes

    return source_ingest_bytes(source=get_source(key), content=content, trigger="command", observed_at=observed_at,
                               meta=FetchMeta(filename=filename))


@pytest.fixture
def web(client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


@pytest.fixture
def seen_twice(db) -> None:
    """One LiteLLM file, and the same bytes seen again five weeks later: a sighting, not a new snapshot."""
    from apps.sources.models import IngestRun, Sighting

    assert _ingest(LITELLM.read_bytes(), FIRST).status == IngestRun.Status.OK
    assert _ingest(LITELLM.read_bytes(), AGAIN).status == IngestRun.Status.UNCHANGED
    assert Sighting.objects.filter(source__key="litellm").count() == 2


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _row(headers: list[str], rows: list[list[str]], **match: str) -> dict[str, str]:
    found = [dict(zip(headers, row, strict=True)) for row in rows]
    found = [row for row in found if all(row.get(k) == v for k, v in match.items())]
    assert found, match
    return found[0]


# --- last confirmed, everywhere ------------------------------------------------------------------


@pytest.mark.parametrize("url, table, match", [
    ("/compare/?model=llama-3-70b-instruct", "offerings", {"Offering id": GROQ}),
    ("/compare/?model=llama-3-70b-instruct", "workload", {"Offering id": GROQ}),
    ("/models/llama-3-70b-instruct/", "current", {"Offering id": GROQ}),
    ("/models/llama-3-70b-instruct/", "history", {"Offering id": GROQ}),
    ("/providers/groq/", "current", {"Offering id": GROQ}),
    ("/trends/?model=llama-3-70b-instruct&lines=offering", "steps", {"Offering id": GROQ}),
])
def test_a_price_seen_again_reads_last_confirmed_on_that_later_day_on_screen_and_in_the_csv(
        web, seen_twice, url, table, match):
    headers, rows = read_table(_html(web.get(url)), table)
    assert "Snapshot (observed)" not in headers
    row = _row(headers, rows, **match)
    assert row["First seen (UTC)"] == "2024-04-23"
    assert row["Last confirmed (UTC)"] == "2024-06-01"  # not the two-year-old first sighting
    exported = _csv(web.get(f"{url}&download=csv&table={table}" if "?" in url
                            else f"{url}?download=csv&table={table}"))
    # The screen's columns, then "As of" (and, for the workload, its inputs: tests/dashboard/test_exports_about.py).
    assert exported[0][:len(headers) + 1] == [*headers, "As of (UTC date)"]
    assert [r[:len(headers)] for r in exported[1:]] == [[as_exported(c) for c in r] for r in rows]


def test_the_price_chart_hover_says_last_confirmed_with_its_source(web, seen_twice):
    html = _html(web.get("/trends/?model=llama-3-70b-instruct&lines=offering"))
    figure = json.loads(html.split('<script type="application/json" id="fig-trend">')[1].split("</script>")[0])
    hovers = [text for trace in figure["data"] for text in (trace.get("text") or []) if text and "Groq" in text]
    assert hovers and all("source: litellm, last confirmed 2024-06-01" in text for text in hovers)
    assert not any("snapshot 2024" in text for text in hovers)
    bars = _html(web.get("/compare/?model=llama-3-70b-instruct"))
    assert "last confirmed 2024-06-01" in bars and "snapshot 2024-04-23" not in bars


def test_the_overview_changes_name_first_seen_and_last_confirmed_of_the_new_price(web, db):
    newer = FIXTURES / "litellm" / "model_prices_2024-09-23_tokencost-50ea0a0.json"
    _ingest(LITELLM.read_bytes(), FIRST)
    _ingest(newer.read_bytes(), datetime(2024, 9, 22, 18, 43, tzinfo=UTC), filename=newer.name)
    _ingest(newer.read_bytes(), datetime(2024, 10, 5, tzinfo=UTC), filename=newer.name)
    headers, rows = read_table(_html(web.get("/")), "changes")
    assert rows and "Snapshot (observed)" not in headers
    assert {(r[headers.index("First seen (UTC)")], r[headers.index("Last confirmed (UTC)")]) for r in rows} == {
        ("2024-09-22", "2024-10-05")}


# --- freshness by the data's own date ------------------------------------------------------------


def test_a_source_loaded_a_minute_ago_with_old_data_is_stale(web, db):
    from apps.dashboard import selectors as sel

    _ingest(LITELLM.read_bytes(), FIRST)  # loaded now; its data is from April 2024, litellm expects 24 h
    health = sel.source_health().set_index("key")
    assert health.loc["litellm", "freshness"] == "stale"
    assert health.loc["litellm", "data_as_of"] == FIRST
    assert timezone.now() - health.loc["litellm", "last_fetched_at"] < timedelta(minutes=1)
    html = _html(web.get("/sources/"))
    headers, rows = read_table(html, "sources")
    row = _row(headers, rows, Key="litellm")
    assert row["Freshness"] == "stale"
    assert row["Newest data (UTC)"] == "2024-04-23"
    assert row["Last fetched (UTC)"].startswith(timezone.now().strftime("%Y-%m-%d"))
    assert "Fetched successfully" not in row["Why"]
    overview = _html(web.get("/"))
    # Files only, nothing fetched: the overview's demo note dates it instead of warning (issue 14).
    assert "data-source-warning" not in overview and "LiteLLM model cost map: 1 snapshot, 2024-04-23" in overview


def test_fresh_data_is_fresh_and_the_warning_counts_only_stale_or_failed_sources(web, db):
    from apps.dashboard import selectors as sel
    from apps.sources.models import IngestRun, Source

    _ingest(LITELLM.read_bytes(), timezone.now() - timedelta(hours=2))
    health = sel.source_health().set_index("key")
    assert health.loc["litellm", "freshness"] == "fresh"
    warned = set(sel.source_warnings(health.reset_index())["key"])
    assert "litellm" not in warned
    assert "llm-prices" not in warned  # files only and nothing loaded: nothing is late
    # The last fetch failed: a warning even though the data it has is fresh.
    Source.objects.filter(key="litellm").update(url="https://example.invalid/x.json")
    IngestRun.objects.create(source=Source.objects.get(key="litellm"), trigger="task", started_at=timezone.now(),
                             finished_at=timezone.now(), status=IngestRun.Status.FAILED, message="HTTP 503")
    warnings = sel.source_warnings(sel.source_health())
    assert "litellm" in set(warnings["key"])
    assert "HTTP 503" in _html(web.get("/"))


# --- held snapshots --------------------------------------------------------------------------------


def _truncated(share: float) -> bytes:
    entries = json.loads(LITELLM.read_bytes())
    keep = list(entries)[: int(len(entries) * share)]
    return json.dumps({k: entries[k] for k in keep}).encode()


@pytest.fixture
def held(db):
    from apps.sources.models import IngestRun, Snapshot

    _ingest(LITELLM.read_bytes(), FIRST)
    run = _ingest(_truncated(0.4), FIRST + timedelta(days=1), filename="truncated.json")
    assert run.status == IngestRun.Status.HELD, run.message
    return Snapshot.objects.get(pk=run.snapshot_id)


def test_a_held_snapshot_is_on_the_sources_page_with_its_reason(web, held):
    html = _html(web.get("/sources/"))
    assert "held for review" in html.lower()
    headers, rows = read_table(html, "held")
    row = _row(headers, rows, Source="litellm")
    assert row["Observed (UTC)"] == "2024-04-24 06:50"
    assert row["Records"] == f"{held.record_count:,}"
    assert "would end" in row["Reason"] and "%" in row["Reason"]
    assert f"/admin/sources/snapshot/{held.pk}/change/" not in html  # the review link is for staff
    sources_headers, sources = read_table(html, "sources")
    assert _row(sources_headers, sources, Key="litellm")["Held for review"] == "1"
    exported = _csv(web.get("/sources/?download=csv&table=held"))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [[as_shown(c) for c in r[:-1]] for r in exported[1:]] == [[as_exported(c) for c in r] for r in rows]


def test_staff_get_a_link_to_review_the_held_snapshot(admin_client, held, settings):
    html = _html(admin_client.get("/sources/"))
    assert f'href="/admin/sources/snapshot/{held.pk}/change/"' in html
    assert admin_client.get(f"/admin/sources/snapshot/{held.pk}/change/").status_code == 200
