"""Routing advice test data: the API's small LiteLLM market (Llama 3 70B at groq, together-ai, fireworks-ai,
ollama, replicate) and benchmark runs made by hand, as a probe or a published source would store them."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.api.conftest import V1, V1_AT, ingest_litellm

MODEL = "llama-3-70b-instruct"
NOW = datetime(2025, 8, 1, tzinfo=UTC)


@pytest.fixture
def market(db):
    ingest_litellm(V1, V1_AT, "v1.json")


def benchmark_source(key: str):
    from apps.sources.models import Source

    source, _ = Source.objects.get_or_create(key=key, defaults={"name": key, "format": Source.Format.BENCHMARKS_CSV})
    return source


def make_run(provider: str, *, ttft_ms: str | None = None, tokens_per_s: str | None = None,
             error_rate: str | None = None, measured_at: datetime | None = NOW, source: str = "probe",
             workload: tuple[int, int, int] = (550, 150, 1), mean_only: bool = False):
    """A benchmark run of the model at ``provider`` (a probe's by default), stored as an ingest would."""
    from apps.benchmarks.models import BenchmarkRun
    from apps.catalog.models import ModelAlias, Provider
    from apps.sources.models import Snapshot

    src = benchmark_source(source)
    content = f"{provider} {ttft_ms} {tokens_per_s} {measured_at} {uuid.uuid4()}".encode()
    snapshot = Snapshot.objects.create(source=src, sha256=hashlib.sha256(content).hexdigest(), content=content,
                                       size_bytes=len(content), observed_at=measured_at or NOW)
    # The run's source's own alias of the model, as an ingest makes it (an alias is one source's raw id; the
    # database refuses a run naming another source's alias: benchmarks 0005).
    alias, _ = ModelAlias.objects.get_or_create(
        source=src, raw_id=MODEL, defaults={"model": ModelAlias.objects.filter(model__slug=MODEL).first().model,
                                            "status": ModelAlias.Status.RULE})
    speed = None if tokens_per_s is None else Decimal(tokens_per_s)
    return BenchmarkRun.objects.create(
        source=src, snapshot=snapshot, run_key=uuid.uuid4(), alias=alias, source_model_id=MODEL,
        provider=Provider.objects.get(slug=provider), input_tokens=workload[0], output_tokens=workload[1],
        concurrency=workload[2], ttft_p50_ms=None if ttft_ms is None else Decimal(ttft_ms),
        request_tokens_per_s_p50=None if mean_only else speed, request_tokens_per_s_mean=speed,
        error_rate=None if error_rate is None else Decimal(error_rate), measured_at=measured_at)
