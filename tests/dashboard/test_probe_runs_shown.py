"""Probe runs beside published runs (issue 15): the Benchmarks page, the model and provider pages and the Compare
page's speed card show tokenwatch's own probe runs (source "probe") beside LLMPerf's and the seed table's, marked
by source, and runs measured under different workloads are marked not comparable.

The probe runs are real probe documents (scrapers/probe.py's format) ingested through the pipeline, as a probe
stores them; the published runs are the demo subset's LLMPerf files and seed table."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest

from .html_tables import read_table

pytestmark = pytest.mark.django_db

LLAMA3 = "llama-3-70b-instruct"
LLAMA2 = "llama-2-70b-chat"


def ingest_probe(*, provider: str, model: str, target: str, started_at: datetime, ttft_ms: float = 250.0,
                 itl_ms: float = 12.0, tokens: int = 64, requests: int = 4, concurrency: int = 2,
                 input_tokens: int = 100) -> None:
    """A probe run's raw document through the ingest pipeline (what apps.probes stores after a run)."""
    from apps.probes.services import probe_source
    from apps.sources.models import IngestRun
    from apps.sources.services import FetchMeta, source_ingest_bytes

    e2e = ttft_ms + itl_ms * (tokens - 1)
    samples = [{"index": i, "offset_ms": 0.0, "ttft_ms": ttft_ms, "e2e_ms": e2e,
                "inter_token_ms": [itl_ms] * (tokens - 1), "output_tokens": tokens, "tokens_from_usage": True,
                "error": "", "http_status": 200, "detail": ""} for i in range(requests)]
    document = {"format": "tokenwatch-probe/1", "tokenwatch_version": "0.1.0",
                "target": {"id": None, "name": target, "endpoint": "http://127.0.0.1:9/v1/chat/completions",
                           "provider": provider, "model": model, "model_id": f"{provider}/{model}"},
                "workload": {"requests": requests, "concurrency": concurrency, "input_tokens": input_tokens,
                             "output_tokens": tokens},
                "started_at": started_at.isoformat(), "wall_s": e2e / 1000 * requests / concurrency,
                "samples": samples}
    run = source_ingest_bytes(source=probe_source(), content=json.dumps(document).encode(),
                              trigger=IngestRun.Trigger.COMMAND, observed_at=started_at,
                              meta=FetchMeta(filename=f"probe-{target}.json"))
    assert run.status == IngestRun.Status.OK, run.message


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    # Groq serves both models; one probe of each, under the probe's own workload (100 in / 64 out, 2 concurrent),
    # which differs from LLMPerf's (550 in / 150 out, 5 concurrent) and the seed table's (not stated).
    ingest_probe(provider="groq", model=LLAMA2, target="groq-llama-2", started_at=datetime(2026, 11, 1, tzinfo=UTC))
    ingest_probe(provider="groq", model=LLAMA3, target="groq-llama-3", started_at=datetime(2026, 11, 2, tzinfo=UTC))
    return client


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _rows(html: str, table: str) -> list[dict[str, str]]:
    header, rows = read_table(html, table)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _figure(html: str, chart: str) -> dict:
    return json.loads(re.search(rf'<script type="application/json" id="fig-{chart}">(.*?)</script>', html, re.S)[1])


def test_the_benchmarks_page_lists_probe_runs_beside_llmperf_runs_marked_by_source(web):
    html = _html(web.get("/benchmarks/"))
    rows = _rows(html, "llmperf")
    probes = [r for r in rows if r["Source"] == "probe"]
    assert [(r["Provider"], r["Measured by"], r["Published by"]) for r in probes] == [
        ("Groq", "tokenwatch probe", "groq-llama-2"), ("Groq", "tokenwatch probe", "groq-llama-3")]
    published = [r for r in rows if r["Source"] == "llmperf"]
    assert published and {r["Measured by"] for r in published} == {"published"}
    # Different workloads: different comparable groups, and the page says so.
    groq_llmperf = next(r for r in published if r["Provider"] == "Groq")
    groq_probe = next(r for r in probes if r["Model"] == groq_llmperf["Model"])
    assert groq_llmperf["Group"] != groq_probe["Group"]
    assert "100 in / 64 out tokens, 2 concurrent" in html and "workload differs" in html
    figure = _figure(html, "llmperf")
    probe_trace = next(trace for trace in figure["data"] if trace["name"] == "Groq (tokenwatch probe)")
    assert set(probe_trace["marker"]["symbol"]) == {"diamond"}
    assert {s for trace in figure["data"] if "probe" not in trace["name"] for s in trace["marker"]["symbol"]} <= {
        "circle", "circle-open"}
    assert "Not comparable across workloads" in html and "All runs share one workload" not in html


def test_the_benchmarks_page_filters_and_exports_runs_by_source(web):
    only_probes = _rows(_html(web.get("/benchmarks/?source=probe")), "llmperf")
    assert {r["Source"] for r in only_probes} == {"probe"} and len(only_probes) == 2
    response = web.get("/benchmarks/?download=csv&table=llmperf")
    exported = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["Source"] for r in exported} == {"llmperf", "probe"}
    assert {r["Measured by"] for r in exported if r["Source"] == "probe"} == {"tokenwatch probe"}
    assert all(r["Group"] for r in exported)
    # The provider picker offers providers that only a probe measured too.
    assert 'value="groq"' in _html(web.get("/benchmarks/"))


def test_the_model_page_marks_the_probe_run_and_that_it_is_not_comparable_with_the_seed_runs(web):
    html = _html(web.get(f"/models/{LLAMA3}/"))
    rows = _rows(html, "speed")
    probe = next(r for r in rows if r["Source"] == "probe")
    assert probe["Measured by"] == "tokenwatch probe" and probe["Served by"] == "Groq"
    seed = [r for r in rows if r["Source"] == "benchmarks-csv"]
    assert {r["Measured by"] for r in seed} == {"published"}
    assert probe["Group"] not in {r["Group"] for r in seed}
    assert "Comparable: no: workload differs" in html


def test_the_provider_page_lists_the_runs_it_served_with_their_sources(web):
    html = _html(web.get("/providers/groq/"))
    rows = _rows(html, "speed")
    assert sorted(r["Source"] for r in rows) == ["benchmarks-csv", "llmperf", "probe", "probe"]
    assert {r["Measured by"] for r in rows if r["Source"] == "probe"} == {"tokenwatch probe"}
    assert re.search(r"<dt>Benchmarks</dt><dd><a [^>]*>4 runs</a>", html)
    assert "Comparable: no:" in html and "workload differs" in html
    exported = list(csv.DictReader(io.StringIO(
        web.get("/providers/groq/?download=csv&table=speed").content.decode("utf-8-sig"))))
    assert len(exported) == 4 and {r["Model"] for r in exported} >= {"Llama 3 70B Instruct"}


def test_the_compare_speed_card_draws_the_newest_probe_run_marked_as_a_probe(web):
    # A second, newer probe of the same target: one point for the series, with the newer figures.
    ingest_probe(provider="groq", model=LLAMA3, target="groq-llama-3", started_at=datetime(2026, 11, 3, tzinfo=UTC),
                 itl_ms=8.0)
    html = _html(web.get(f"/compare/?model={LLAMA3}"))
    figure = _figure(html, "speed")
    labels = [label for trace in figure["data"] for label in trace.get("text", [])]
    assert labels.count("Groq (probe)") == 1
    point = labels.index("Groq (probe)")
    symbols = [symbol for trace in figure["data"] for symbol in trace["marker"]["symbol"]]
    assert symbols[point] == "diamond" and set(symbols) - {"diamond"} <= {"circle", "circle-open"}
    speeds = [x for trace in figure["data"] for x in trace["x"]]
    assert speeds[point] == pytest.approx(64 / ((250 + 8 * 63) / 1000), rel=1e-3)  # the newer run's speed
    rows = _rows(html, "speed")
    assert [r["Measured by"] for r in rows if r["Source"] == "probe"] == ["tokenwatch probe"] * 2


def test_the_compare_speed_card_says_points_under_different_workloads_are_not_comparable(web):
    from apps.catalog.models import Provider

    other = next(slug for slug in ("together_ai", "deepinfra", "replicate", "perplexity", "fireworks_ai")
                 if Provider.objects.filter(slug=slug).exists())
    ingest_probe(provider=other, model=LLAMA3, target=f"{other}-llama-3", input_tokens=550, tokens=150,
                 concurrency=1, started_at=datetime(2026, 11, 2, tzinfo=UTC))
    html = _html(web.get(f"/compare/?model={LLAMA3}"))
    labels = [label for trace in _figure(html, "speed")["data"] for label in trace.get("text", [])]
    assert "Groq (probe)" in labels and len(labels) >= 2
    assert ("Not comparable: workload differs: 100 in / 64 out tokens, 2 concurrent vs 550 in / 150 out tokens, "
            "1 concurrent") in html
