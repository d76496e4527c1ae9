"""Parser for curated benchmark tables (CSV uploads; the seed article's ``benchmarks.csv`` layout).

One row per benchmark run: a model served by a stack on some hardware, with
its throughput, latency and (where the source gives one) cost per 1M tokens.
Columns are in :data:`COLUMNS`; header names are matched case- and
punctuation-insensitively; an unknown column fails the file, naming it (it may be a
known one misspelt). CSV quirks (BOM,
``;``, ``1,200``, ``$2.70``, ``65%``, blank lines) are handled by
:mod:`scrapers.csvtools`.

Choices made here:

* ``throughput_tokens_per_s`` is the *system* output throughput (all
  concurrent requests together); it is required and must be positive.
* ``hardware`` is a free-text accelerator name normalised by
  :func:`scrapers.bench_records.normalize_accelerator` (``A100-80GB`` is an
  A100 with 80 GiB); ``accelerators`` may be approximate (``~40``).
* ``error_rate`` is a fraction (``0.05``) or a percentage (``5%``).
* ``published_on`` dates the run; when every row has one, the newest dates the
  file, otherwise the ingest must say ``--observed-at``.
* Two rows with the same model, stack, version, precision, hardware, workload,
  date and source are duplicates: the later one is quarantined.
"""

from __future__ import annotations

import dataclasses
import marshal
from array import array
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter

from scrapers.bench_records import MOSTLY_FAILED_ERROR_RATE, BenchmarkRecord, normalize_accelerator
from scrapers.csvtools import Column, RecordStream, Row, day, flag, number, parse_table, text, whole
from scrapers.records import ParseResult, check_usd_per_mtok

COLUMNS = (
    Column("model", True, "model name as the source gives it, e.g. Llama 3 70B (resolved to a canonical model)"),
    Column("solution", True, "serving stack, e.g. vLLM, TensorRT-LLM, Naive PyTorch, Groq LPU System"),
    Column("precision", False, "weights/activations precision, e.g. FP16, FP8, INT4"),
    Column("hardware", True, "accelerator, e.g. H100, A100-80GB, Groq LPU; blank when unknown"),
    Column("accelerators", True, "number of accelerators serving the model, e.g. 8 (~40 accepted)"),
    Column("throughput_tokens_per_s", True, "system output throughput, tokens/s, all concurrent requests"),
    Column("p99_latency_ms", False, "P99 latency, milliseconds, as the source defines it"),
    Column("cost_usd_per_mtok", False, "cost the source reports, USD per 1M output tokens"),
    Column("cost_is_estimate", False, "true when the reported cost is an estimate (true/false, yes/no)"),
    Column("source", False, "who published the figures, e.g. seed-article"),
    Column("published_on", False, "date of the run or publication, YYYY-MM-DD"),
    Column("notes", False, "free text"),
    Column("provider", False, "who served the requests, when an API provider did"),
    Column("stack_version", False, "serving stack version, e.g. 0.4.2"),
    Column("input_tokens", False, "workload: prompt tokens per request"),
    Column("output_tokens", False, "workload: output tokens per request"),
    Column("concurrency", False, "workload: concurrent requests"),
    Column("request_tokens_per_s", False, "per-request output throughput (median), tokens/s"),
    Column("ttft_p50_ms", False, "time to first token, median, milliseconds"),
    Column("ttft_p99_ms", False, "time to first token, P99, milliseconds"),
    Column("e2e_latency_p50_ms", False, "end-to-end request latency, median, milliseconds"),
    Column("e2e_latency_p99_ms", False, "end-to-end request latency, P99, milliseconds"),
    Column("error_rate", False, "share of failed requests: 0.05 or 5%"),
)
ALIASES = {
    "stack": "solution",
    "serving_stack": "solution",
    "accelerator": "hardware",
    "accelerator_count": "accelerators",
    "throughput": "throughput_tokens_per_s",
    "tokens_per_s": "throughput_tokens_per_s",
    "usd_per_mtok": "cost_usd_per_mtok",
    "date": "published_on",
}


def parse(data: bytes) -> ParseResult:
    """Parse a benchmarks CSV into benchmark records; bad rows become rejects with their line.

    The validating pass keeps each good record in a compact form (:class:`_Stash`), so iterating the
    records decodes those instead of reading and converting the CSV again; past ``STASH_BYTES`` the stash
    gives up and the records are produced from the bytes as before, so memory stays bounded.
    """
    stash = _Stash()

    def make(row: Row) -> BenchmarkRecord:
        record = _row(row)
        stash.add(row.line, record)
        return record

    result = parse_table(data, COLUMNS, make, aliases=ALIASES, key=BenchmarkRecord.natural_key,
                         key_label="model, stack, precision, hardware, workload, date and source",
                         date_of=_date_of)
    stash.closed = True  # later calls of make (the fallback's produce) must not add to it
    if not stash.overflowed and isinstance(result.records, RecordStream):
        rejected = frozenset(int(r.locator.split()[1]) for r in result.rejects)
        result.records = RecordStream(lambda: stash.records(rejected), len(result.records))
    return result


# Memory the stash may take: ~200 bytes a record, so up to ~160,000 records; beyond, the bytes are re-read.
STASH_BYTES = 32 * 1024 * 1024
_FIELDS = tuple(f.name for f in dataclasses.fields(BenchmarkRecord))
_DECIMALS = frozenset(i for i, name in enumerate(_FIELDS) if name in {
    "tokens_per_s", "request_tokens_per_s_p50", "request_tokens_per_s_mean", "ttft_p50_ms", "ttft_p99_ms",
    "e2e_latency_p50_ms", "e2e_latency_p99_ms", "p99_latency_ms", "error_rate", "reported_usd_per_mtok"})
_MEASURED_AT = _FIELDS.index("measured_at")
_values = attrgetter(*_FIELDS)


class _Stash:
    """Good records of the validating pass, marshalled into one buffer (Decimals and times as exact text).

    A record object takes ~1 KB; its marshalled values ~200 bytes, and decoding them costs a quarter of
    converting the row's cells again. Lines arrive in increasing order; a line seen again (the duplicate
    check re-reads a few rows) is ignored.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.ends: array[int] = array("Q")
        self.lines: array[int] = array("Q")
        self.overflowed = False
        self.closed = False

    def add(self, line: int, record: BenchmarkRecord) -> None:
        if self.closed or self.overflowed or (self.lines and line <= self.lines[-1]):
            return
        values = list(_values(record))
        for i in _DECIMALS:
            if values[i] is not None:
                values[i] = str(values[i])
        if values[_MEASURED_AT] is not None:
            values[_MEASURED_AT] = values[_MEASURED_AT].isoformat()
        self.buffer += marshal.dumps(tuple(values))
        self.ends.append(len(self.buffer))
        self.lines.append(line)
        if len(self.buffer) > STASH_BYTES:
            self.overflowed = True
            self.buffer, self.ends, self.lines = bytearray(), array("Q"), array("Q")

    def records(self, rejected: frozenset[int]) -> Iterator[BenchmarkRecord]:
        view = memoryview(self.buffer)
        start = 0
        for end, line in zip(self.ends, self.lines, strict=True):
            if line not in rejected:
                # Bytes this object wrote itself a moment ago: nothing from outside is unmarshalled.
                values = list(marshal.loads(view[start:end]))  # noqa: S302
                for i in _DECIMALS:
                    if values[i] is not None:
                        values[i] = Decimal(values[i])
                if values[_MEASURED_AT] is not None:
                    values[_MEASURED_AT] = _from_iso(values[_MEASURED_AT])
                yield BenchmarkRecord(*values)
            start = end


def _date_of(record: BenchmarkRecord) -> date | None:
    return record.measured_at.date() if record.measured_at else None


_CELLS = tuple(c.name for c in COLUMNS)


def _row(row: Row) -> BenchmarkRecord:
    # All cells in one call, then text-first converters: a 100,000-row file is parsed twice (validate, then
    # stream into the database), so per-cell overhead is most of an import's time.
    (model, solution, precision, hardware, accelerators, throughput, p99_latency, cost_text, cost_is_estimate,
     source, published_on, notes_text, provider, stack_version, input_tokens, output_tokens, concurrency,
     request_tokens_per_s, ttft_p50, ttft_p99, e2e_p50, e2e_p99, error_rate_text) = row.cells(_CELLS)
    hardware = text(hardware, "hardware", max_length=100)
    accelerator, memory_gib, form_factor = normalize_accelerator(hardware) if hardware else ("", None, "")
    count = whole(accelerators, "accelerators", positive=True)
    if count is not None and not accelerator:
        raise ValueError("accelerators is given but hardware is empty")
    error_rate = number(error_rate_text, "error_rate", nonnegative=True, percent_to_fraction=True)
    if error_rate is not None and error_rate > 1:
        raise ValueError(f"error_rate {error_rate_text.strip()!r} is above 1 (write 5% or 0.05)")
    cost = number(cost_text, "cost_usd_per_mtok", nonnegative=True)
    if cost is not None:
        check_usd_per_mtok(cost, "cost_usd_per_mtok")
    published = day(published_on, "published_on")
    notes = text(notes_text, "notes", max_length=2000)
    approximate = accelerators.lstrip().startswith(("~", "≈"))
    if approximate and "approximate" not in notes.lower():
        notes = "; ".join(p for p in (notes, "accelerator count is approximate") if p)
    # The seed table writes "40" and says "accelerator count is approximate (~40 chips)" in its notes.
    approximate = approximate or (count is not None and "accelerator count is approximate" in notes.lower())
    return BenchmarkRecord(
        source_model_id=text(model, "model", required=True, max_length=500),
        provider_key=text(provider, "provider", max_length=100),
        serving_stack=text(solution, "solution", required=True, max_length=100),
        stack_version=text(stack_version, "stack_version", max_length=50),
        precision=text(precision, "precision", max_length=20).upper(),
        accelerator=accelerator,
        accelerator_count=count,
        accelerator_count_approximate=approximate,
        accelerator_memory_gib=memory_gib,
        form_factor=form_factor,
        input_tokens=whole(input_tokens, "input_tokens", positive=True),
        output_tokens=whole(output_tokens, "output_tokens", positive=True),
        concurrency=whole(concurrency, "concurrency", positive=True),
        tokens_per_s=number(throughput, "throughput_tokens_per_s", required=True, positive=True),
        request_tokens_per_s_p50=number(request_tokens_per_s, "request_tokens_per_s", nonnegative=True),
        ttft_p50_ms=number(ttft_p50, "ttft_p50_ms", nonnegative=True),
        ttft_p99_ms=number(ttft_p99, "ttft_p99_ms", nonnegative=True),
        e2e_latency_p50_ms=number(e2e_p50, "e2e_latency_p50_ms", nonnegative=True),
        e2e_latency_p99_ms=number(e2e_p99, "e2e_latency_p99_ms", nonnegative=True),
        p99_latency_ms=number(p99_latency, "p99_latency_ms", nonnegative=True),
        error_rate=error_rate,
        mostly_failed=error_rate is not None and error_rate > MOSTLY_FAILED_ERROR_RATE,
        reported_usd_per_mtok=cost,
        cost_is_estimate=flag(cost_is_estimate, "cost_is_estimate"),
        measured_at=_midnight(published) if published else None,
        source_label=text(source, "source", max_length=200),
        notes=notes,
    )


@lru_cache(maxsize=4096)
def _midnight(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


@lru_cache(maxsize=4096)
def _from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value)
