"""The providers-csv applier (apps.catalog.ingest), through the pipeline.

(Lives here because this issue brought the format; it tests apps/catalog/ingest.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from apps.catalog.models import Provider
from apps.sources.models import IngestRun, Source
from apps.sources.services import FetchMeta, snapshot_reparse, source_ingest_bytes

ARTICLE = datetime(2024, 1, 1, tzinfo=UTC)


def ingest_bytes(content: bytes, observed_at: datetime) -> IngestRun:
    return source_ingest_bytes(source=Source.objects.get(key="providers-csv"), content=content, trigger="command",
                               observed_at=observed_at, meta=FetchMeta(filename="providers.csv"))


def test_it_updates_and_creates_providers_from_the_seed_landscape(ingest_file) -> None:
    Provider.objects.create(slug="groq", name="Groq", kind="unknown")
    run = ingest_file("providers-csv", "seed-article/providers.csv", observed_at=ARTICLE)
    assert run.status == IngestRun.Status.OK, run.message
    assert (run.created_count, run.changed_count, run.unchanged_count) == (3, 1, 0)
    groq = Provider.objects.get(slug="groq")
    assert (groq.kind, groq.primary_offering, groq.key_differentiation, groq.target_metric) == (
        "silicon", "Dedicated LPU Systems / Cloud", "Extreme, predictable low latency",
        "Tokens per second @ latency SLA")
    assert Provider.objects.get(slug="together-ai").kind == "inference-cloud"
    aws = Provider.objects.get(slug="aws-inferentia2")
    assert (aws.name, aws.kind) == ("AWS (Inferentia2)", "hyperscaler")
    reparse = snapshot_reparse(snapshot=run.snapshot)
    assert (reparse.created_count, reparse.changed_count, reparse.unchanged_count) == (0, 0, 4)


def test_it_keeps_the_newest_landscape_whatever_the_arrival_order(db) -> None:
    old = b"provider,kind,target_metric\nGroq,inference-cloud,Price\n"
    new = b"provider,kind,target_metric\nGroq,silicon,Tokens per second\n"
    ingest_bytes(new, datetime(2025, 1, 1, tzinfo=UTC))
    late = ingest_bytes(old, ARTICLE)
    assert late.status == IngestRun.Status.OK, late.message
    groq = Provider.objects.get(slug="groq")
    assert (groq.kind, groq.target_metric) == ("silicon", "Tokens per second")


def test_it_leaves_the_kind_alone_when_a_row_gives_none(db) -> None:
    Provider.objects.create(slug="groq", name="Groq", kind="silicon")
    run = ingest_bytes(b"provider,kind,target_metric\nGroq,,Latency\n", ARTICLE)
    assert run.status == IngestRun.Status.OK, run.message
    assert Provider.objects.get(slug="groq").kind == "silicon"
