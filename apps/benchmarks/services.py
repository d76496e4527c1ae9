"""Writes for benchmarks and hardware prices: apply parsed snapshots, rebuild hourly price history.

Benchmark runs are stated facts: one row per (source, run key), the newest
snapshot's figures winning (:mod:`apps.benchmarks.upsert`).

Hardware prices follow the price-history rules of DESIGN.md: a price starts
at the first observation showing it and ends at the first later observation
showing another. History is recomputed from the stored observations of the
source, so it does not depend on the order snapshots arrive in (invariant 4):

* observations sort by their time (the row's own date, else the snapshot's),
  then by the stating snapshot's (observed_at, sha256): of two snapshots
  stating the same instance at the same time, the newer one is believed;
* a SkyPilot catalog is the cloud's *whole* sheet, so an instance missing from
  a later catalog snapshot ends its price there (delisted); a curated CSV is
  not exhaustive, so a missing row ends nothing.

Everything is written in batches; the rebuild walks offerings in chunks, so
memory is bounded by the chunk, not by the file or the table.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.text import slugify

from apps.catalog.services import aliases_ensure, providers_ensure
from apps.common.bulk import copy_tuples, json_text
from apps.common.intervals import plan_interval_writes
from apps.sources.models import Snapshot, Source
from apps.sources.registry import ApplyCounts, ListingCount, listings_compared
from apps.sources.selectors import source_timeline
from scrapers.bench_records import BenchmarkRecord, HardwarePriceRecord
from scrapers.csvtools import RecordBatch, RecordStream, key_digest
from scrapers.gcpause import collections_paused
from scrapers.records import ParseResult, Reject

from . import copy
from .models import BenchmarkRun, Hardware, HardwareOffering, HardwarePrice, HardwarePriceObservation
from .upsert import BATCH, NewRows, batched, bulk_insert, fit, upsert_stated

# Formats whose snapshots list a provider's whole catalog: absence means delisted.
COMPLETE_SHEET_FORMATS = frozenset({"gpu-catalog"})

# SkyPilot cloud directory -> the provider key our provider map knows.
SKYPILOT_CLOUDS = {"lambda": "lambda_ai", "runpod": "runpod", "fluidstack": "fluidstack", "paperspace": "paperspace",
                   "cudo": "cudo", "vast": "vast", "do": "digitalocean", "nebius": "nebius", "oci": "oci-compute",
                   "aws": "aws-ec2", "gcp": "gcp-compute", "azure": "azure-vm"}
_SKYPILOT_PATH = re.compile(r"catalogs/v\d+/(?P<cloud>[a-z0-9_-]+)/vms\.csv")

HardwareSpec = tuple[str, int, int | None, str]  # accelerator, count, memory GiB per accelerator, form factor



class ApplyError(Exception):
    """The snapshot cannot be applied as a whole; the message is one plain sentence."""


# --- hardware ---------------------------------------------------------------


def hardware_slug(spec: HardwareSpec) -> str:
    accelerator, count, memory_gib, form_factor = spec
    slug = f"{count}x-{slugify(accelerator) or 'unknown'}"
    if memory_gib:
        slug += f"-{memory_gib}gb"
    if form_factor:
        slug += f"-{slugify(form_factor)}"
    return slug[:200]


def hardware_ensure(*, specs: Iterable[HardwareSpec]) -> dict[HardwareSpec, Hardware]:
    """Get or create one Hardware row per spec (ignore_conflicts: concurrent ingests may race)."""
    by_slug = {hardware_slug(spec): spec for spec in specs}
    Hardware.objects.bulk_create(
        [Hardware(slug=slug, accelerator=a[:100], accelerator_count=c, accelerator_memory_gib=m, form_factor=f[:50])
         for slug, (a, c, m, f) in by_slug.items()],
        ignore_conflicts=True,
    )
    rows = {h.slug: h for h in Hardware.objects.filter(slug__in=list(by_slug))}
    return {spec: rows[slug] for slug, spec in by_slug.items()}


# --- benchmark runs -----------------------------------------------------------

RUN_FIELDS = [
    "alias_id", "source_model_id", "provider_id", "serving_stack", "stack_version", "precision", "hardware_id",
    "accelerator_count_approximate", "input_tokens", "output_tokens", "concurrency", "tokens_per_s",
    "request_tokens_per_s_p50", "request_tokens_per_s_mean", "ttft_p50_ms", "ttft_p99_ms", "e2e_latency_p50_ms",
    "e2e_latency_p99_ms",
    "p99_latency_ms", "error_rate", "requests_completed", "requests_failed", "error_counts", "mostly_failed",
    "reported_usd_per_mtok", "cost_is_estimate", "measured_at", "source_label", "notes",
]


def run_key(record: BenchmarkRecord) -> uuid.UUID:
    """The run's identity within its source: 128 bits of the sha256 of its natural key (a 16-byte index entry);
    a parser's :class:`~scrapers.csvtools.RecordBatch` carries the same digest in ``keys``."""
    return uuid.UUID(bytes=key_digest(record.natural_key()))


def _hardware_spec(record: BenchmarkRecord) -> HardwareSpec | None:
    if not record.accelerator:
        return None
    return (record.accelerator, record.accelerator_count or 1, record.accelerator_memory_gib, record.form_factor)


class _Dimensions:
    """Aliases, providers and hardware of the records seen so far, resolved a batch at a time."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.aliases: dict[str, int] = {}
        self.providers: dict[str, int] = {}
        self.hardware: dict[HardwareSpec, int] = {}

    def resolve(self, records: list[BenchmarkRecord]) -> None:
        models: dict[str, tuple[str, str]] = {}
        provider_keys: set[str] = set()
        specs: set[HardwareSpec] = set()
        for record in records:
            if record.source_model_id not in self.aliases:
                # The display name helps the curator; LLMPerf ids carry none, a CSV's model column is one.
                models.setdefault(record.source_model_id, (record.provider_key, "" if record.provider_key
                                                           else record.source_model_id))
            if record.provider_key and record.provider_key not in self.providers:
                provider_keys.add(record.provider_key)
            spec = _hardware_spec(record)
            if spec is not None and spec not in self.hardware:
                specs.add(spec)
        if models:
            self.aliases.update(aliases_ensure(source=self.source, items=models))
        if provider_keys:
            self.providers.update({raw: p.pk for raw, p in providers_ensure(raw_providers=provider_keys).items()})
        if specs:
            self.hardware.update({spec: h.pk for spec, h in hardware_ensure(specs=specs).items()})

    def resolve_batch(self, batch: RecordBatch, *, before_queries: Callable[[], None] = lambda: None,
                      ) -> tuple[list[int], list[int | None], list[int | None]]:
        """:meth:`resolve` for a batch of records given as columns; their alias, provider and hardware ids.
        ``before_queries`` is called before the first query it makes (most batches make none)."""
        columns = batch.columns
        model_ids, provider_keys = columns[_MODEL], columns[_PROVIDER]
        specs = [(a, c or 1, m, f) if a else None for a, c, m, f in zip(
            columns[_ACCELERATOR], columns[_COUNT], columns[_MEMORY], columns[_FORM_FACTOR], strict=True)]
        models: dict[str, tuple[str, str]] = {}
        if not self.aliases.keys() >= set(model_ids):
            for model_id, provider_key in zip(model_ids, provider_keys, strict=True):
                if model_id not in self.aliases and model_id not in models:
                    models[model_id] = (provider_key, "" if provider_key else model_id)
        wanted_providers = set(provider_keys) - {""} - self.providers.keys()
        wanted_specs = set(specs) - {None} - self.hardware.keys()
        if models or wanted_providers or wanted_specs:
            before_queries()
        if models:
            self.aliases.update(aliases_ensure(source=self.source, items=models))
        if wanted_providers:
            self.providers.update({raw: p.pk for raw, p in providers_ensure(raw_providers=wanted_providers).items()})
        if wanted_specs:
            self.hardware.update({spec: h.pk for spec, h in hardware_ensure(specs=wanted_specs).items()})
        providers, hardware = self.providers, self.hardware
        return (list(map(self.aliases.__getitem__, model_ids)),
                [providers[key] if key else None for key in provider_keys],
                [hardware[spec] if spec is not None else None for spec in specs])


# BenchmarkRun columns in the order the first-file path's tuples hold them (the same columns as the general
# path's RUN_FIELDS; tests/benchmarks/test_csv_import_copy.py compares what both paths store).
_COPY_RUN_COLUMNS = [
    "source_id", "snapshot_id", "run_key", "alias_id", "source_model_id", "provider_id", "serving_stack",
    "stack_version", "precision", "hardware_id", "accelerator_count_approximate", "input_tokens", "output_tokens",
    "concurrency", "tokens_per_s", "request_tokens_per_s_p50", "request_tokens_per_s_mean", "ttft_p50_ms",
    "ttft_p99_ms", "e2e_latency_p50_ms", "e2e_latency_p99_ms", "p99_latency_ms", "error_rate", "requests_completed",
    "requests_failed", "error_counts", "mostly_failed", "reported_usd_per_mtok", "cost_is_estimate", "measured_at",
    "source_label", "notes",
]
COPY_CHUNK = 10_000  # records held at once on the first-file path (about 8 MB)
# How each BenchmarkRecord field in _COPY_RUN_COLUMNS is written as COPY text (the ids and keys aside).
_COPY_KINDS = {
    **dict.fromkeys(["serving_stack", "stack_version", "precision", "source_label", "notes"], "text"),
    **dict.fromkeys(["accelerator_count_approximate", "mostly_failed", "cost_is_estimate"], "flag"),
    "measured_at": "time",
    **dict.fromkeys(["input_tokens", "output_tokens", "concurrency", "tokens_per_s", "request_tokens_per_s_p50",
                     "request_tokens_per_s_mean", "ttft_p50_ms", "ttft_p99_ms", "e2e_latency_p50_ms",
                     "e2e_latency_p99_ms", "p99_latency_ms", "error_rate", "requests_completed", "requests_failed",
                     "reported_usd_per_mtok"], "number"),
}


_FIELD_INDEX = {f.name: i for i, f in enumerate(dataclasses.fields(BenchmarkRecord))}
_MODEL, _PROVIDER = _FIELD_INDEX["source_model_id"], _FIELD_INDEX["provider_key"]
_ACCELERATOR, _COUNT = _FIELD_INDEX["accelerator"], _FIELD_INDEX["accelerator_count"]
_MEMORY, _FORM_FACTOR = _FIELD_INDEX["accelerator_memory_gib"], _FIELD_INDEX["form_factor"]


def _batch_texts(batch: RecordBatch, ids: tuple[list[int], list[int | None], list[int | None]], source_id: int,
                 snapshot_id: int) -> list[list[str]]:
    """The _COPY_RUN_COLUMNS of a batch as COPY text columns (what _first_runs_copy's tuples hold)."""
    columns, n = batch.columns, len(batch)
    aliases, providers, hardware = ids
    models = columns[_MODEL]
    if max(map(len, models), default=0) > 500:
        models = [model[:500] for model in models]
    error_counts = columns[_FIELD_INDEX["error_counts"]]
    by_name: dict[str, list[str]] = {
        "source_id": [str(source_id)] * n,
        "snapshot_id": [str(snapshot_id)] * n,
        "run_key": [key.hex() for key in batch.keys],  # uuid's 32 hex digits
        "alias_id": copy.numbers(aliases),
        "source_model_id": copy.texts(models),
        "provider_id": copy.numbers(providers),
        "hardware_id": copy.numbers(hardware),
        "error_counts": (["{}"] * n if not any(error_counts)
                         else copy.json_objects(dict(pairs) for pairs in error_counts)),
    }
    for name in _COPY_RUN_COLUMNS:
        if name not in by_name:
            values = columns[_FIELD_INDEX[name]]
            kind = _COPY_KINDS[name]
            by_name[name] = (copy.texts(values) if kind == "text" else copy.flags(values) if kind == "flag"
                             else copy.times(values) if kind == "time" else copy.numbers(values))
    return [by_name[name] for name in _COPY_RUN_COLUMNS]


def benchmark_runs_apply(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Store the benchmark runs a snapshot states (LLMPerf summary or curated CSV), in one streaming pass."""
    source = snapshot.source
    if connection.vendor == "postgresql" and not BenchmarkRun.objects.filter(source=source).exists():
        if isinstance(result.records, RecordStream) and result.records.has_batches:
            created = _first_runs_copy_batches(snapshot=snapshot, batches=result.records.batches())
        else:
            created = _first_runs_copy(snapshot=snapshot, result=result)
        if created is not None:
            return ApplyCounts(created=created)
    return _runs_upsert(snapshot=snapshot, result=result)


def _first_runs_copy(*, snapshot: Snapshot, result: ParseResult) -> int | None:
    """PostgreSQL, a source with no runs yet: every run is new, so the records stream straight into COPY.

    The caller holds the source's row lock (one ingest per source at a time), so no other writer adds runs
    meanwhile; the parser has quarantined repeated keys. Should two records still share a key (a format
    whose parser does not), the savepoint is rolled back and None returned: the caller takes the general
    path. This path skips what the general one does per row for nothing on a first file: a dict of 33
    values, a look-up of existing keys, psycopg's per-value COPY dumpers.
    """
    import psycopg

    source = snapshot.source
    dims = _Dimensions(source)
    source_id, snapshot_id = source.pk, snapshot.pk

    def rows(chunk: list[BenchmarkRecord]) -> Iterator[tuple[Any, ...]]:
        aliases, providers, hardware = dims.aliases, dims.providers, dims.hardware
        for record in chunk:
            spec = _hardware_spec(record)
            yield (
                source_id, snapshot_id, run_key(record),
                aliases[record.source_model_id], record.source_model_id[:500],
                providers[record.provider_key] if record.provider_key else None,
                record.serving_stack, record.stack_version, record.precision,
                hardware[spec] if spec is not None else None, record.accelerator_count_approximate,
                record.input_tokens, record.output_tokens, record.concurrency, record.tokens_per_s,
                record.request_tokens_per_s_p50, record.request_tokens_per_s_mean, record.ttft_p50_ms,
                record.ttft_p99_ms, record.e2e_latency_p50_ms, record.e2e_latency_p99_ms,
                record.p99_latency_ms, record.error_rate, record.requests_completed, record.requests_failed,
                json_text(dict(record.error_counts)), record.mostly_failed, record.reported_usd_per_mtok,
                record.cost_is_estimate, record.measured_at, record.source_label, record.notes,
            )

    savepoint = transaction.savepoint()
    try:
        created = 0
        with collections_paused():
            # One COPY per chunk: the chunk's aliases and hardware are resolved (queries) before it starts.
            for chunk in batched(result.records, COPY_CHUNK):
                dims.resolve(chunk)
                created += copy_tuples(BenchmarkRun, _COPY_RUN_COLUMNS, rows(chunk))
    except psycopg.IntegrityError:
        transaction.savepoint_rollback(savepoint)
        return None
    transaction.savepoint_commit(savepoint)
    return created


def _first_runs_copy_batches(*, snapshot: Snapshot, batches: Iterator[RecordBatch]) -> int | None:
    """:func:`_first_runs_copy` for records that come as batches of columns: each column becomes COPY text
    at once (:mod:`apps.benchmarks.copy`), no record object or per-row tuple is made, and one COPY stays open
    across batches, so the server stores a batch while the next is made (closed only while a batch's new
    aliases or hardware are created). Same savepoint, same fallback to the general path."""
    import psycopg

    source = snapshot.source
    dims = _Dimensions(source)
    savepoint = transaction.savepoint()
    try:
        with collections_paused(), copy.StreamingCopy(BenchmarkRun, _COPY_RUN_COLUMNS) as stream:
            for batch in batches:
                ids = dims.resolve_batch(batch, before_queries=stream.pause)
                stream.write(_batch_texts(batch, ids, source.pk, snapshot.pk))
    except psycopg.IntegrityError:
        transaction.savepoint_rollback(savepoint)
        return None
    transaction.savepoint_commit(savepoint)
    return stream.rows


def _runs_upsert(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """The general path: upsert each run against what the source already states."""
    source = snapshot.source
    dims = _Dimensions(source)

    def items() -> Iterator[tuple[uuid.UUID, dict[str, Any]]]:
        for chunk in batched(result.records, BATCH):
            dims.resolve(chunk)
            for record in chunk:
                key = run_key(record)
                spec = _hardware_spec(record)
                yield key, {
                    "source_id": source.pk,
                    "run_key": key,
                    "alias_id": dims.aliases[record.source_model_id],
                    "source_model_id": record.source_model_id[:500],
                    "provider_id": dims.providers[record.provider_key] if record.provider_key else None,
                    "serving_stack": record.serving_stack,
                    "stack_version": record.stack_version,
                    "precision": record.precision,
                    "hardware_id": dims.hardware[spec] if spec is not None else None,
                    "accelerator_count_approximate": record.accelerator_count_approximate,
                    "input_tokens": record.input_tokens,
                    "output_tokens": record.output_tokens,
                    "concurrency": record.concurrency,
                    "tokens_per_s": record.tokens_per_s,
                    "request_tokens_per_s_p50": record.request_tokens_per_s_p50,
                    "request_tokens_per_s_mean": record.request_tokens_per_s_mean,
                    "ttft_p50_ms": record.ttft_p50_ms,
                    "ttft_p99_ms": record.ttft_p99_ms,
                    "e2e_latency_p50_ms": record.e2e_latency_p50_ms,
                    "e2e_latency_p99_ms": record.e2e_latency_p99_ms,
                    "p99_latency_ms": record.p99_latency_ms,
                    "error_rate": record.error_rate,
                    "requests_completed": record.requests_completed,
                    "requests_failed": record.requests_failed,
                    "error_counts": dict(record.error_counts),
                    "mostly_failed": record.mostly_failed,
                    "reported_usd_per_mtok": record.reported_usd_per_mtok,
                    "cost_is_estimate": record.cost_is_estimate,
                    "measured_at": record.measured_at,
                    "source_label": record.source_label,
                    "notes": record.notes,
                }

    with collections_paused():
        counts = upsert_stated(
            model=BenchmarkRun, snapshot=snapshot, items=items(), key_of=lambda run: run.run_key,
            load=lambda keys: BenchmarkRun.objects.filter(source=source, run_key__in=keys), fields=RUN_FIELDS,
            conflict=["source_id", "run_key"], key_column="run_key",
        )
    return ApplyCounts(created=counts.created, changed=counts.changed, unchanged=counts.unchanged)


# --- hardware prices ----------------------------------------------------------

OfferingKey = tuple[int, str, str, str]  # provider id, instance type, region, pricing model
OfferingInfo = tuple[HardwareSpec, Decimal | None, Decimal | None, str]  # hardware, vCPUs, host GiB, source label


@dataclass
class _Interval:
    effective_from: datetime
    effective_to: datetime | None
    usd_per_hour: Decimal
    snapshot_id: int


def skypilot_provider_key(source: Source) -> str:
    """The provider of a SkyPilot catalog source, from its URL or attribution (…/catalogs/v8/lambda/vms.csv)."""
    for text in (source.url, source.attribution):
        match = _SKYPILOT_PATH.search(text or "")
        if match:
            cloud = match.group("cloud")
            return SKYPILOT_CLOUDS.get(cloud, cloud)
    raise ApplyError(f"source {source.key} does not say which cloud its catalog is for: set its URL or "
                     "attribution to the catalog path, e.g. catalogs/v8/lambda/vms.csv")


def _day(value: Any) -> datetime | None:
    return None if value is None else datetime.combine(value, time.min, tzinfo=UTC)


class _Offerings:
    """Providers, hardware and offerings of a price sheet, resolved a batch at a time and cached.

    The cache holds ids and four descriptive values per offering (a dimension:
    thousands, not the file's rows).
    """

    DESCRIPTIVE = ("hardware_id", "vcpus", "memory_gib", "source_label")

    def __init__(self, source: Source, snapshot: Snapshot, default_provider: str) -> None:
        self.source, self.snapshot, self.default_provider = source, snapshot, default_provider
        self.providers: dict[str, int] = {}
        self.hardware: dict[HardwareSpec, int] = {}
        self.ids: dict[OfferingKey, int] = {}
        self.created: set[int] = set()  # offerings new in this apply: no price history to read back
        self.loaded_providers: set[int] = set()
        self.existing: dict[OfferingKey, tuple[int, tuple[Any, ...]]] = {}  # key -> (id, descriptive values)
        # Descriptive fields (hardware, vCPUs...) follow the source's newest snapshot.
        self.newest = not Snapshot.objects.filter(source=source, parse_status=Snapshot.Status.OK,
                                                  observed_at__gt=snapshot.observed_at).exists()

    def key(self, record: HardwarePriceRecord) -> OfferingKey:
        return (self.providers[record.provider_key or self.default_provider], record.instance_type, record.region,
                record.pricing_model)

    def resolve(self, records: list[HardwarePriceRecord]) -> None:
        raw = {r.provider_key or self.default_provider for r in records} - set(self.providers)
        if "" in raw:
            raise ApplyError("a price row names no provider")
        if raw:
            self.providers.update({k: p.pk for k, p in providers_ensure(raw_providers=raw).items()})
        specs = {_price_spec(r) for r in records} - set(self.hardware)
        if specs:
            self.hardware.update({spec: h.pk for spec, h in hardware_ensure(specs=specs).items()})
        new_providers = {self.providers[r.provider_key or self.default_provider] for r in records}
        new_providers -= self.loaded_providers
        if new_providers:
            rows = HardwareOffering.objects.filter(source=self.source, provider_id__in=new_providers).values_list(
                "id", "provider_id", "instance_type", "region", "pricing_model", *self.DESCRIPTIVE)
            for pk, provider_id, instance_type, region, pricing_model, *descriptive in rows.iterator(2000):
                self.existing[(provider_id, instance_type, region, pricing_model)] = (pk, tuple(descriptive))
            self.loaded_providers |= new_providers
        info: dict[OfferingKey, OfferingInfo] = {}
        for record in records:
            key = self.key(record)
            if key not in self.ids:
                info[key] = (_price_spec(record), record.vcpus, record.memory_gib, record.source_label)
        if info:
            self._ensure(info)

    def _ensure(self, info: dict[OfferingKey, OfferingInfo]) -> None:
        to_create: list[HardwareOffering] = []
        to_update: list[HardwareOffering] = []
        for key, (spec, vcpus, memory_gib, label) in info.items():
            values = fit(HardwareOffering, {"hardware_id": self.hardware[spec], "vcpus": vcpus,
                                            "memory_gib": memory_gib, "source_label": label})
            found = self.existing.get(key)
            if found is None:
                to_create.append(HardwareOffering(source=self.source, provider_id=key[0], instance_type=key[1],
                                                  region=key[2], pricing_model=key[3], **values))
                continue
            pk, descriptive = found
            self.ids[key] = pk
            if self.newest and descriptive != tuple(values[f] for f in self.DESCRIPTIVE):
                to_update.append(HardwareOffering(pk=pk, **values))
        if to_create and connection.vendor == "postgresql":
            _copy_offerings(to_create)
        else:
            HardwareOffering.objects.bulk_create(to_create, batch_size=BATCH)
        HardwareOffering.objects.bulk_update(to_update, list(self.DESCRIPTIVE), batch_size=BATCH)
        if any(o.pk is None for o in to_create):  # a backend that does not return ids from bulk inserts
            to_create = list(HardwareOffering.objects.filter(
                source=self.source, provider_id__in={o.provider_id for o in to_create},
                instance_type__in={o.instance_type for o in to_create}))
        for offering in to_create:
            key = (offering.provider_id, offering.instance_type, offering.region, offering.pricing_model)
            self.ids[key] = offering.pk
            self.created.add(offering.pk)
            self.existing[key] = (offering.pk, tuple(getattr(offering, f) for f in self.DESCRIPTIVE))


OFFERING_COLUMNS = ["source_id", "provider_id", "instance_type", "region", "pricing_model", "hardware_id", "vcpus",
                    "memory_gib", "source_label"]
OFFERING_KEY = ["source_id", "provider_id", "instance_type", "region", "pricing_model"]


def _copy_offerings(offerings: list[HardwareOffering]) -> None:
    """PostgreSQL: insert new offerings with COPY and set their ids (bulk_create costs ~100 us a row here)."""
    fast = NewRows(HardwareOffering, OFFERING_COLUMNS, conflict=OFFERING_KEY, key_columns=["id", *OFFERING_KEY[1:]],
                   direct=False)
    try:
        for chunk in batched(offerings, BATCH):
            created = fast.insert_new([{name: getattr(o, name) for name in OFFERING_COLUMNS} for o in chunk])
            ids = {tuple(key): pk for pk, *key in created}
            for offering in chunk:
                offering.pk = ids.get((offering.provider_id, offering.instance_type, offering.region,
                                       offering.pricing_model))
    finally:
        fast.close()


def hardware_prices_apply(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Store what a price sheet says each instance costs, then rebuild the source's hourly price history.

    One streaming pass over the records: each batch resolves its providers,
    hardware and offerings (cached), then its observations go in. Two rows
    that name one instance on one date - possible only when two spellings name
    one provider ("together", "together_ai") - keep the first; the database's
    unique constraint finds them, so no per-row state is kept.
    """
    source = snapshot.source
    default_provider = skypilot_provider_key(source) if source.format in COMPLETE_SHEET_FORMATS else ""
    offerings = _Offerings(source, snapshot, default_provider)
    HardwarePriceObservation.objects.filter(snapshot=snapshot).delete()  # re-applying replaces them
    snapshot_time = snapshot.observed_at
    rejects: list[Reject] = []
    fast: NewRows | None = None
    with collections_paused():
        try:
            for chunk in batched(result.records, BATCH):
                offerings.resolve(chunk)
                rows: dict[tuple[int, datetime], dict[str, Any]] = {}
                lines: dict[tuple[int, datetime], int] = {}
                for record in chunk:
                    offering_id = offerings.ids[offerings.key(record)]
                    at = _day(record.observed_on) or snapshot_time
                    if (offering_id, at) in rows:
                        rejects.append(_merged_duplicate(record, lines[(offering_id, at)]))
                        continue
                    rows[(offering_id, at)] = {"snapshot_id": snapshot.pk, "offering_id": offering_id,
                                               "observed_at": at, "usd_per_hour": record.usd_per_hour}
                    lines[(offering_id, at)] = record.line
                if connection.vendor == "postgresql":
                    if fast is None:
                        fast = NewRows(HardwarePriceObservation, ["snapshot_id", "offering_id", "observed_at",
                                                                  "usd_per_hour"],
                                       conflict=["snapshot_id", "offering_id", "observed_at"],
                                       key_columns=["offering_id", "observed_at"])
                    inserted = fast.insert_new(list(rows.values()))
                    taken = set(rows) - inserted
                else:
                    taken = set(HardwarePriceObservation.objects.filter(
                        snapshot=snapshot, offering_id__in={k[0] for k in rows}).values_list("offering_id",
                                                                                            "observed_at")) & set(rows)
                    bulk_insert(HardwarePriceObservation, [v for k, v in rows.items() if k not in taken])
                rejects.extend(_merged_duplicate_of_earlier_batch(lines[key]) for key in sorted(taken, key=lines.get))
        finally:
            if fast is not None:
                fast.close()

    in_snapshot = set(offerings.ids.values())
    if source.format in COMPLETE_SHEET_FORMATS:
        affected = list(HardwareOffering.objects.filter(source=source).order_by("pk").values_list("pk", flat=True))
    else:
        affected = sorted(in_snapshot)
    status = hardware_price_history_rebuild(source=source, offering_ids=affected, new_offering_ids=offerings.created)
    return ApplyCounts.from_history(status, in_snapshot=in_snapshot,
                                    rejects=sorted(rejects, key=lambda r: int(r.locator.split()[-1])))


def _merged_duplicate(record: HardwarePriceRecord, first: int) -> Reject:
    return Reject(f"line {record.line}", f"same instance, region, pricing model and date as line {first} once "
                  "provider names are matched; the first one is kept")


def _merged_duplicate_of_earlier_batch(line: int) -> Reject:
    return Reject(f"line {line}", "same instance, region, pricing model and date as an earlier row once provider "
                  "names are matched; the first one is kept")


def _price_spec(record: HardwarePriceRecord) -> HardwareSpec:
    return (record.accelerator, record.accelerator_count, record.accelerator_memory_gib, record.form_factor)


REBUILD_CHUNK = 1000


def hardware_price_history_rebuild(*, source: Source, offering_ids: list[int],
                                   new_offering_ids: set[int] | frozenset[int] = frozenset()) -> dict[int, str]:
    """Recompute the intervals of the given offerings from all their observations; write only differences.

    ``new_offering_ids`` were created by the calling apply: they have no prices to read back.

    Returns offering id -> "created" (had no price before), "changed" or "unchanged".
    """
    complete = source.format in COMPLETE_SHEET_FORMATS
    snapshots = {snap_id: (at, sha) for snap_id, at, sha in Snapshot.objects.filter(
        source=source, parse_status=Snapshot.Status.OK).values_list("id", "observed_at", "sha256")}
    # A complete sheet's timeline is its sightings: the same sheet seen again after another is history too.
    timeline = [(look.snapshot_id, look.first_at) for look in source_timeline(source.pk)] if complete else []
    status: dict[int, str] = {}
    for chunk in batched(offering_ids, REBUILD_CHUNK):
        observed: dict[int, list[tuple[datetime, datetime, str, int, Decimal]]] = defaultdict(list)
        query = (HardwarePriceObservation.objects.filter(offering_id__in=chunk)
                 .values_list("offering_id", "observed_at", "snapshot_id", "usd_per_hour"))
        for offering_id, at, snap_id, usd in query.iterator(chunk_size=5000):
            rank = snapshots.get(snap_id)
            if rank is not None:  # observations of failed snapshots do not count
                observed[offering_id].append((at, rank[0], rank[1], snap_id, usd))
        current: dict[int, dict[datetime, HardwarePrice]] = defaultdict(dict)
        known = [offering_id for offering_id in chunk if offering_id not in new_offering_ids]
        for price in HardwarePrice.objects.filter(offering_id__in=known) if known else ():
            current[price.offering_id][price.effective_from] = price
        desired = {oid: (_complete_intervals(timeline, rows) if complete else _intervals(rows))
                   for oid, rows in observed.items()}
        status.update(_write_intervals(chunk, desired, current))
    return status


def _intervals(rows: list[tuple[datetime, datetime, str, int, Decimal]]) -> list[_Interval]:
    """Walk observations in time order: a price holds until an observation shows another."""
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    latest: dict[datetime, tuple[int, Decimal]] = {}
    for at, _, _, snap_id, usd in rows:
        latest[at] = (snap_id, usd)  # the newest snapshot's word for that time
    points = [(at, usd, snap_id) for at, (snap_id, usd) in latest.items()]
    return _walk(points)


def _complete_intervals(timeline: list[tuple[int, datetime]],
                        rows: list[tuple[datetime, datetime, str, int, Decimal]]) -> list[_Interval]:
    """Like _intervals, but a sighting of the whole sheet that omits the instance ends its price."""
    by_snapshot = {snap_id: usd for _, _, _, snap_id, usd in rows}
    points: list[tuple[datetime, Decimal | None, int]] = []
    for snap_id, at in timeline:
        points.append((at, by_snapshot.get(snap_id), snap_id))
    return _walk(points)


def hardware_listing(snapshot_id: int) -> dict[int, int]:
    """Offering id -> provider id of every instance a price sheet lists."""
    return dict(HardwarePriceObservation.objects.filter(snapshot_id=snapshot_id)
                .values_list("offering_id", "offering__provider_id"))


def hardware_listings_compared(before_id: int, after_id: int) -> list[ListingCount]:
    """What two price sheets list, per provider (for the shrink guard; a sheet lists hundreds of instances)."""
    return listings_compared(hardware_listing(before_id), hardware_listing(after_id))


def hardware_history_rebuild_source(*, source_id: int) -> dict[int, str]:
    """Rebuild every hourly price history of a source (after a sighting that is not simply the newest again)."""
    source = Source.objects.get(pk=source_id)
    ids = list(HardwareOffering.objects.filter(source=source).order_by("pk").values_list("pk", flat=True))
    return hardware_price_history_rebuild(source=source, offering_ids=ids)


def _walk(points: list[tuple[datetime, Decimal | None, int]]) -> list[_Interval]:
    intervals: list[_Interval] = []
    current: _Interval | None = None
    for at, usd, snap_id in points:
        if current is not None and usd != current.usd_per_hour:
            if at > current.effective_from:
                current.effective_to = at
                intervals.append(current)
            # else: two snapshots disagree at the same instant; the later (newer) one wins outright.
            current = None
        if usd is not None and current is None:
            current = _Interval(at, None, usd, snap_id)
    if current is not None:
        intervals.append(current)
    return intervals


def _write_intervals(offering_ids: list[int], desired: dict[int, list[_Interval]],
                     current: dict[int, dict[datetime, HardwarePrice]]) -> dict[int, str]:
    plan = plan_interval_writes(
        offering_ids, desired, current,
        same=lambda price, interval: (price.effective_to == interval.effective_to
                                      and price.usd_per_hour == interval.usd_per_hour
                                      and price.snapshot_id == interval.snapshot_id),
    )
    to_update: list[HardwarePrice] = []
    for price, interval in plan.update:
        price.effective_to = interval.effective_to
        price.usd_per_hour = interval.usd_per_hour
        price.snapshot_id = interval.snapshot_id
        to_update.append(price)
    to_create = [{"offering_id": offering_id, "effective_from": interval.effective_from,
                  "effective_to": interval.effective_to, "usd_per_hour": interval.usd_per_hour,
                  "snapshot_id": interval.snapshot_id} for offering_id, interval in plan.create]
    to_delete, status = plan.delete, plan.status
    # Deletes first so a moved interval start never collides with the unique constraint.
    for ids in batched(to_delete, BATCH):
        HardwarePrice.objects.filter(pk__in=ids).delete()
    HardwarePrice.objects.bulk_update(to_update, ["effective_to", "usd_per_hour", "snapshot_id"], batch_size=BATCH)
    bulk_insert(HardwarePrice, to_create)
    return status
