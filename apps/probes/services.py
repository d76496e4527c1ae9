"""Writes for probes: run a target's load, store its raw document through the ingest pipeline, apply it.

Flow: target -> checks (limits, SSRF guard with the allow-list, the key's environment variable) ->
load (apps.probes.load) -> one JSON document of every request's timings -> a snapshot of the "probe"
source (source_ingest_bytes: kept, deduplicated, parsed by scrapers/probe.py) -> probe_run_apply:
a BenchmarkRun with the full context and a ProbeRun with its ProbeSamples, in the ingest's transaction.

The API key is read from the environment at run time and handed to the load generator only: it is
not in the document, the database, an error message or a log line.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction

from apps.benchmarks.models import BenchmarkRun
from apps.benchmarks.services import run_key
from apps.catalog.models import Model, ModelAlias, Provider
from apps.sources.models import IngestRun, Snapshot, Source
from apps.sources.registry import ApplyCounts
from apps.sources.services import FetchMeta, source_ingest_bytes
from scrapers.bench_records import MOSTLY_FAILED_ERROR_RATE, BenchmarkRecord
from scrapers.http import FetchError, guard_url
from scrapers.probe import FORMAT, ProbeRecord, sample_to_json
from scrapers.records import ParseResult

from . import load
from .models import ProbeRun, ProbeSample, ProbeTarget

logger = logging.getLogger(__name__)

PROBE_SOURCE_KEY = "probe"
SERVING_STACK = "API (tokenwatch probe)"


class ProbeError(Exception):
    """A probe that cannot run; the message is one plain sentence (never the API key)."""


@dataclass(frozen=True)
class ProbeOutcome:
    ingest_run: IngestRun
    probe_run: ProbeRun | None
    load: load.LoadResult


def limits_from_settings() -> load.Limits:
    return load.Limits(
        max_requests=settings.TOKENWATCH_PROBE_MAX_REQUESTS,
        max_concurrency=settings.TOKENWATCH_PROBE_MAX_CONCURRENCY,
        max_input_tokens=settings.TOKENWATCH_PROBE_MAX_INPUT_TOKENS,
        max_output_tokens=settings.TOKENWATCH_PROBE_MAX_OUTPUT_TOKENS,
        max_total_tokens=settings.TOKENWATCH_PROBE_MAX_TOTAL_TOKENS,
        max_wall_s=settings.TOKENWATCH_PROBE_MAX_WALL_S,
        read_timeout_s=settings.TOKENWATCH_PROBE_READ_TIMEOUT_S,
    )


def probe_url_check(*, base_url: str) -> None:
    """The SSRF guard for probe targets: a host in TOKENWATCH_PROBE_ALLOWED_HOSTS may be anything (loopback,
    LAN); any other host must pass the fetch layer's guard (public addresses only). Raises ProbeError."""
    allowed = {host.strip("[]").lower() for host in settings.TOKENWATCH_PROBE_ALLOWED_HOSTS}
    host = (urlsplit(base_url).hostname or "").lower()
    try:
        guard_url(base_url, allow_private=host in allowed)
    except FetchError as exc:
        hint = "" if host in allowed else " (add the host to TOKENWATCH_PROBE_ALLOWED_HOSTS to allow it)"
        raise ProbeError(f"{exc.message}{hint}") from None


def probe_source() -> Source:
    """tokenwatch's own measurements: one source whose snapshots are probe documents."""
    source, _ = Source.objects.get_or_create(
        key=PROBE_SOURCE_KEY,
        defaults={"name": "tokenwatch probes (own measurements)", "format": "probe", "schedule": "",
                  "licence": "own measurement", "attribution": "tokenwatch speed probes", "freshness_hours": 24 * 7},
    )
    return source


def workload_for(*, target: ProbeTarget, requests: int | None = None, concurrency: int | None = None,
                 input_tokens: int | None = None, output_tokens: int | None = None) -> load.Workload:
    return load.Workload(
        requests=requests if requests is not None else target.requests,
        concurrency=concurrency if concurrency is not None else target.concurrency,
        input_tokens=input_tokens if input_tokens is not None else target.input_tokens,
        output_tokens=output_tokens if output_tokens is not None else target.output_tokens,
    )


def probe_document(*, target: ProbeTarget, workload: load.Workload, result: load.LoadResult) -> bytes:
    """The raw document of one run (scrapers/probe.py's format); no API key, no env variable name."""
    from apps.dashboard.exports import tokenwatch_version

    document: dict[str, Any] = {
        "format": FORMAT,
        "tokenwatch_version": tokenwatch_version(),
        "target": {"id": target.pk, "name": target.name, "endpoint": load.chat_completions_url(target.base_url),
                   "provider": target.provider.slug, "model": target.model.slug, "model_id": target.api_model_id},
        "workload": {"requests": workload.requests, "concurrency": workload.concurrency,
                     "input_tokens": workload.input_tokens, "output_tokens": workload.output_tokens},
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "wall_s": round(result.wall_s, 6),
        "stopped_at_wall_limit": result.stopped_at_wall_limit,
        "requests_not_sent": result.requests_not_sent,
        "token_count_method": load.TOKEN_COUNT_METHOD,
        "prompt_chars_per_token": load.CHARS_PER_TOKEN,
        "notes": result.notes,
        "samples": [sample_to_json(sample) for sample in result.samples],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def probe_target_run(*, target: ProbeTarget, trigger: str = IngestRun.Trigger.COMMAND,
                     requests: int | None = None, concurrency: int | None = None, input_tokens: int | None = None,
                     output_tokens: int | None = None, limits: load.Limits | None = None) -> ProbeOutcome:
    """Probe ``target`` once and store the run. Raises ProbeError (or load.LimitError) before sending anything
    when the workload is over a limit, the host is refused or the key's variable is not set."""
    workload = workload_for(target=target, requests=requests, concurrency=concurrency, input_tokens=input_tokens,
                            output_tokens=output_tokens)
    limits = limits or limits_from_settings()
    limits.check(workload)
    probe_url_check(base_url=target.base_url)
    api_key = ""
    if target.api_key_env:
        api_key = os.environ.get(target.api_key_env, "")
        if not api_key:
            raise ProbeError(f"{target.name}: the environment variable {target.api_key_env} that should hold "
                             "its API key is not set")
    allowed = {host.strip("[]").lower() for host in settings.TOKENWATCH_PROBE_ALLOWED_HOSTS}
    result = load.run(base_url=target.base_url, api_key=api_key, model_id=target.api_model_id, workload=workload,
                      limits=limits, allow_private=(urlsplit(target.base_url).hostname or "").lower() in allowed)
    content = probe_document(target=target, workload=workload, result=result)
    meta = FetchMeta(url=load.chat_completions_url(target.base_url), fetched_at=result.finished_at,
                     content_type="application/json",
                     filename=f"probe-{target.name}-{result.started_at:%Y%m%dT%H%M%S}.json")
    ingest = source_ingest_bytes(source=probe_source(), content=content, trigger=trigger,
                                 observed_at=result.started_at, meta=meta)
    probe_run = ProbeRun.objects.filter(snapshot_id=ingest.snapshot_id).first() if ingest.snapshot_id else None
    ok = len([s for s in result.samples if not s.error])
    logger.info("probe %s: %d/%d requests ok in %.1f s (ingest run %s: %s)%s", target.name, ok,
                workload.requests, result.wall_s, ingest.pk, ingest.status,
                "; " + "; ".join(result.notes) if result.notes else "")
    return ProbeOutcome(ingest_run=ingest, probe_run=probe_run, load=result)


def _alias(*, source: Source, record: ProbeRecord, model: Model) -> ModelAlias:
    """The probe's raw model name (provider/model id), resolved to the target's canonical model."""
    raw_id = f"{record.provider_slug}/{record.model_id}"[:500]
    alias, created = ModelAlias.objects.get_or_create(
        source=source, raw_id=raw_id,
        defaults={"model": model, "status": ModelAlias.Status.MANUAL, "rule": "probe target",
                  "provider_hint": record.provider_slug, "name_hint": record.model_id[:300]},
    )
    if not created and alias.model_id != model.pk and not alias.curator:
        # The target names its canonical model; only a curator's own decision outranks it.
        alias.model = model
        alias.save(update_fields=["model", "updated_at"])
    return alias


def probe_run_apply(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Apply a parsed probe document: its BenchmarkRun, ProbeRun and samples. Idempotent (re-parse)."""
    from scrapers.records import Reject

    counts = ApplyCounts()
    source = snapshot.source
    for record in result.records:
        provider = Provider.objects.filter(slug=record.provider_slug).first()
        model = Model.objects.filter(slug=record.model_slug).first()
        if provider is None or model is None:
            missing = "provider " + record.provider_slug if provider is None else "model " + record.model_slug
            counts.rejects.append(Reject(locator="target", reason=f"unknown {missing}",
                                         raw_excerpt=record.target_name))
            continue
        alias = _alias(source=source, record=record, model=model)
        metrics = record.metrics
        notes = [f"tokenwatch {record.tokenwatch_version} probe of {record.target_name} at {record.endpoint}",
                 f"output tokens: {record.token_count_method}",
                 "inter-token latency: gaps between streamed content chunks"]
        if record.stopped_at_wall_limit:
            notes.append(f"stopped at the run's wall-time limit: {record.requests_not_sent} request(s) not sent")
        bench = BenchmarkRecord(
            source_model_id=f"{record.provider_slug}/{record.model_id}", provider_key=record.provider_slug,
            serving_stack=SERVING_STACK, input_tokens=record.input_tokens, output_tokens=record.output_tokens,
            concurrency=record.concurrency, measured_at=record.started_at, source_label=record.target_name,
        )
        mostly_failed = metrics.error_rate is not None and metrics.error_rate > MOSTLY_FAILED_ERROR_RATE
        values = {
            "snapshot": snapshot, "alias": alias, "source_model_id": bench.source_model_id[:500],
            "provider": provider, "serving_stack": SERVING_STACK,
            "input_tokens": record.input_tokens, "output_tokens": record.output_tokens,
            "concurrency": record.concurrency, "tokens_per_s": metrics.tokens_per_s,
            "request_tokens_per_s_p50": metrics.request_tokens_per_s_p50,
            "request_tokens_per_s_mean": metrics.request_tokens_per_s_mean,
            "ttft_p50_ms": metrics.ttft_p50_ms, "ttft_p90_ms": metrics.ttft_p90_ms, "ttft_p99_ms": metrics.ttft_p99_ms,
            "inter_token_latency_p50_ms": metrics.inter_token_latency_p50_ms,
            "inter_token_latency_p99_ms": metrics.inter_token_latency_p99_ms,
            "e2e_latency_p50_ms": metrics.e2e_latency_p50_ms, "e2e_latency_p99_ms": metrics.e2e_latency_p99_ms,
            "p99_latency_ms": metrics.e2e_latency_p99_ms, "error_rate": metrics.error_rate,
            "requests_completed": metrics.requests_completed, "requests_failed": metrics.requests_failed,
            "error_counts": dict(metrics.error_counts), "mostly_failed": mostly_failed,
            "measured_at": record.started_at, "source_label": record.target_name[:200], "notes": "; ".join(notes),
        }
        with transaction.atomic():
            run, created = BenchmarkRun.objects.update_or_create(source=source, run_key=run_key(bench),
                                                                 defaults=values)
            target = ProbeTarget.objects.filter(pk=record.target_id).first() if record.target_id else None
            probe_run, _ = ProbeRun.objects.update_or_create(snapshot=snapshot, defaults={
                "benchmark_run": run, "target": target, "target_name": record.target_name,
                "endpoint": record.endpoint[:500], "started_at": record.started_at, "wall_s": record.wall_s,
                "stopped_at_wall_limit": record.stopped_at_wall_limit,
                "requests_not_sent": record.requests_not_sent, "tokenwatch_version": record.tokenwatch_version[:50],
            })
            probe_run.samples.all().delete()
            ProbeSample.objects.bulk_create([
                ProbeSample(run=probe_run, index=s.index, offset_ms=s.offset_ms, ttft_ms=s.ttft_ms, e2e_ms=s.e2e_ms,
                            inter_token_ms=list(s.inter_token_ms), output_tokens=s.output_tokens,
                            tokens_from_usage=s.tokens_from_usage, error=s.error[:40], http_status=s.http_status,
                            detail=s.detail[:500])
                for s in record.samples
            ], batch_size=500)
        if created:
            counts.created += 1
        else:
            counts.unchanged += 1
    return counts


def probe_target_schedule_sync(*, target: ProbeTarget) -> None:
    """Mirror a target's cron schedule into django-celery-beat, like sources' schedules."""
    from apps.common.schedules import periodic_task_sync

    periodic_task_sync(name=f"probe-target:{target.pk}", schedule=target.schedule, enabled=target.enabled,
                       task="apps.probes.tasks.probe_target", args=f"[{target.pk}]")


__all__ = ["ProbeError", "ProbeOutcome", "limits_from_settings", "probe_document", "probe_run_apply",
           "probe_source", "probe_target_run", "probe_target_schedule_sync", "probe_url_check"]
