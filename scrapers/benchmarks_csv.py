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
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from hashlib import sha256
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any

from scrapers.bench_records import MOSTLY_FAILED_ERROR_RATE, BenchmarkRecord, normalize_accelerator
from scrapers.csvtools import (
    CellMemo,
    Column,
    Header,
    RecordBatch,
    RecordStream,
    Row,
    StashBlobs,
    Table,
    count_none,
    day,
    duplicate_lines,
    flag,
    number,
    number_column,
    text,
    text_column,
    whole,
)
from scrapers.gcpause import collections_paused
from scrapers.records import MAX_USD_PER_MTOK, ParseResult, Reject, check_usd_per_mtok

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

    Rows are converted a batch at a time, column by column (:class:`_Converter`); a row any of whose cells
    is not in the common form goes through :func:`_row`, which names the reason. The validating pass keeps
    each batch in a compact form (:class:`_Stash`), so iterating the records decodes those instead of
    reading and converting the CSV again; past ``STASH_BYTES`` the stash gives up and the batches are made
    from the bytes again, so memory stays bounded.
    """
    table = Table(data, COLUMNS, ALIASES)
    index = Header(table.header)
    rejects: list[Reject] = []
    rejected: set[int] = set()
    hashes: array[int] = array("q")
    hash_lines: array[int] = array("q")
    newest: datetime | None = None
    all_dated = True
    good = 0
    stash = _Stash()
    with collections_paused():
        for batch in _batches(table, index, rejects):
            good += len(batch)
            hashes.frombytes(b"".join([key[:8] for key in batch.keys]))
            hash_lines.extend(batch.lines)
            dates = batch.columns[_MEASURED_AT]
            if None in dates:
                all_dated = False
            dated = [when for when in dates if when is not None]
            if dated and (newest is None or max(dated) > newest):
                newest = max(dated)
            stash.add(batch)
    rejected.update(int(r.locator.split()[1]) for r in rejects)

    if len(hashes) > 1:
        duplicates = duplicate_lines(table, _records_of, BenchmarkRecord.natural_key, hashes, hash_lines)
        del hashes, hash_lines
        for line, (first, count, excerpt_text) in sorted(duplicates.items()):
            rejects.append(Reject(f"line {line}", f"duplicate of line {first} (same {KEY_LABEL}); the first one is "
                                  "kept", excerpt_text))
            rejected.add(line)
            good -= count
        rejects.sort(key=lambda r: int(r.locator.split()[1]))
    dropped = frozenset(rejected)

    def batches() -> Iterator[RecordBatch]:
        source = stash.batches() if not stash.overflowed else _batches(table, index, [])
        for batch in source:
            if dropped:
                positions = {i for i, line in enumerate(batch.lines) if line in dropped}
                if positions:
                    batch = batch.without(positions)
            if batch.lines:
                yield batch

    def produce() -> Iterator[BenchmarkRecord]:
        for batch in batches():
            yield from batch.records()

    result = ParseResult(records=RecordStream(produce, good, batches=batches), rejects=rejects)  # type: ignore[arg-type]
    if all_dated and newest is not None:
        result.observed_at = datetime.combine(newest.date(), time.min, tzinfo=UTC)
    return result


KEY_LABEL = "model, stack, precision, hardware, workload, date and source"
BATCH_ROWS = 2048  # rows converted together: ~4 MB of cells and values at a time


def _each_but_none(convert: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """convert() of each value, None kept: a column of Nones (most optional figures) costs one count."""
    nones = count_none(values)
    if nones == len(values):
        return values
    if not nones:
        return list(map(convert, values))
    return [None if value is None else convert(value) for value in values]


def _records_of(row: Row) -> tuple[BenchmarkRecord]:
    if row.problem:
        raise ValueError(row.problem)
    return (_row(row),)


def _batches(table: Table, index: Header, rejects: list[Reject]) -> Iterator[RecordBatch]:
    """The good rows of the table, a batch at a time; refused rows are added to ``rejects``."""
    converter = _Converter(index)
    rows = table.numbered()
    while chunk := list(islice(rows, BATCH_ROWS)):
        yield converter.convert(chunk, table.delimiter, rejects)


_FIELDS = tuple(f.name for f in dataclasses.fields(BenchmarkRecord))
_DECIMALS = tuple(i for i, name in enumerate(_FIELDS) if name in {
    "tokens_per_s", "request_tokens_per_s_p50", "request_tokens_per_s_mean", "ttft_p50_ms", "ttft_p99_ms",
    "e2e_latency_p50_ms", "e2e_latency_p99_ms", "p99_latency_ms", "error_rate", "reported_usd_per_mtok"})
_MEASURED_AT = _FIELDS.index("measured_at")
_values = attrgetter(*_FIELDS)


class _Stash(StashBlobs):
    """Good batches of the validating pass, each marshalled into one buffer (Decimals and times as exact text).

    A record object takes ~1 KB; its marshalled values ~200 bytes, and decoding a batch of them costs a
    fraction of converting its cells again.
    """

    def add(self, batch: RecordBatch) -> None:
        if self.overflowed:
            return
        columns = list(batch.columns)
        for i in _DECIMALS:
            columns[i] = _each_but_none(str, columns[i])
        columns[_MEASURED_AT] = [None if value is None else _iso(value) for value in columns[_MEASURED_AT]]
        self.keep(marshal.dumps((columns, batch.lines, batch.keys)))

    def batches(self) -> Iterator[RecordBatch]:
        for blob in self.blobs:
            # Bytes this object wrote itself a moment ago: nothing from outside is unmarshalled.
            columns, lines, keys = marshal.loads(blob)  # noqa: S302
            for i in _DECIMALS:
                columns[i] = _each_but_none(Decimal, columns[i])
            columns[_MEASURED_AT] = [None if text is None else _from_iso(text) for text in columns[_MEASURED_AT]]
            yield RecordBatch(BenchmarkRecord, columns, lines, keys)


_APPROXIMATE = "accelerator count is approximate"


def _not_approximate(cell: str) -> str:
    if cell.lstrip().startswith(("~", "≈")):
        raise ValueError("approximate")  # _row writes it into the notes: that row goes the ordinary way
    return cell


def _hardware(cell: str) -> tuple[str, int | None, str]:
    hardware = text(cell, "hardware", max_length=100)
    return normalize_accelerator(hardware) if hardware else ("", None, "")


def _error_rate(cell: str) -> tuple[Decimal | None, bool]:
    error_rate = number(cell, "error_rate", nonnegative=True, percent_to_fraction=True)
    if error_rate is not None and error_rate > 1:
        raise ValueError("above 1")
    return error_rate, error_rate is not None and error_rate > MOSTLY_FAILED_ERROR_RATE


def _measured_at(cell: str) -> datetime | None:
    published = day(cell, "published_on")
    return _midnight(published) if published else None


class _Converter:
    """Rows to a :class:`RecordBatch` column by column, with :func:`_row`'s converters and checks: each column
    is converted whole (:func:`text_column`, :func:`number_column`, a :class:`CellMemo` of the converter for
    columns of few distinct texts); a row with a refused cell, or one _row treats specially (an approximate
    count), is converted by _row itself, so its reason (the first bad cell in _row's order) is _row's."""

    def __init__(self, index: Header) -> None:
        self.index = index
        self.pick = index.getter(_CELLS)
        self.model = CellMemo(lambda c: text(c, "model", required=True, max_length=500), "")
        self.solution = CellMemo(lambda c: text(c, "solution", required=True, max_length=100), "")
        self.precision = CellMemo(lambda c: text(c, "precision", max_length=20).upper(), "")
        self.provider = CellMemo(lambda c: text(c, "provider", max_length=100), "")
        self.source = CellMemo(lambda c: text(c, "source", max_length=200), "")
        self.hardware = CellMemo(_hardware, ("", None, ""))
        self.count = CellMemo(lambda c: whole(_not_approximate(c), "accelerators", positive=True))
        self.input_tokens = CellMemo(lambda c: whole(c, "input_tokens", positive=True))
        self.output_tokens = CellMemo(lambda c: whole(c, "output_tokens", positive=True))
        self.concurrency = CellMemo(lambda c: whole(c, "concurrency", positive=True))
        self.error_rate = CellMemo(_error_rate, (None, False))
        self.cost_is_estimate = CellMemo(lambda c: flag(c, "cost_is_estimate"), False)
        self.measured_at = CellMemo(_measured_at)

    def convert(self, chunk: list[tuple[int, list[str], str]], delimiter: str, rejects: list[Reject]) -> RecordBatch:
        n = len(chunk)
        lines = [line for line, _, _ in chunk]
        slow = {i for i, (_, _, problem) in enumerate(chunk) if problem}
        cells = list(zip(*[self.pick(raw) for _, raw, _ in chunk], strict=True))
        (model, solution, precision, hardware, accelerators, throughput, p99_latency, cost_text, cost_is_estimate,
         source, published_on, notes_text, provider, stack_version, input_tokens, output_tokens, concurrency,
         request_tokens_per_s, ttft_p50, ttft_p99, e2e_p50, e2e_p99, error_rate_text) = cells

        def take(converted: tuple[list[Any], set[int]]) -> list[Any]:
            slow.update(converted[1])
            return converted[0]

        specs = take(self.hardware.column(hardware))
        accelerator, memory_gib, form_factor = (list(c) for c in zip(*specs, strict=True))
        count = take(self.count.column(accelerators))
        slow.update(i for i, (c, a) in enumerate(zip(count, accelerator, strict=True)) if c is not None and not a)
        rates = take(self.error_rate.column(error_rate_text))
        error_rate, mostly_failed = (list(c) for c in zip(*rates, strict=True))
        cost = take(number_column(cost_text, "cost_usd_per_mtok", nonnegative=True))
        slow.update(i for i, value in enumerate(cost) if value is not None and value >= MAX_USD_PER_MTOK)
        notes = take(text_column(notes_text, "notes", max_length=2000))
        if _APPROXIMATE in "\n".join(notes).lower():
            approximate = [c is not None and _APPROXIMATE in note.lower() for c, note in zip(count, notes, strict=True)]
        else:
            approximate = [False] * n
        values = {
            "source_model_id": take(self.model.column(model)),
            "provider_key": take(self.provider.column(provider)),
            "serving_stack": take(self.solution.column(solution)),
            "stack_version": take(text_column(stack_version, "stack_version", max_length=50)),
            "precision": take(self.precision.column(precision)),
            "accelerator": accelerator,
            "accelerator_count": count,
            "accelerator_count_approximate": approximate,
            "accelerator_memory_gib": memory_gib,
            "form_factor": form_factor,
            "input_tokens": take(self.input_tokens.column(input_tokens)),
            "output_tokens": take(self.output_tokens.column(output_tokens)),
            "concurrency": take(self.concurrency.column(concurrency)),
            "tokens_per_s": take(number_column(throughput, "throughput_tokens_per_s", required=True, positive=True)),
            "request_tokens_per_s_p50": take(number_column(request_tokens_per_s, "request_tokens_per_s",
                                                           nonnegative=True)),
            "request_tokens_per_s_mean": [None] * n,
            "ttft_p50_ms": take(number_column(ttft_p50, "ttft_p50_ms", nonnegative=True)),
            "ttft_p99_ms": take(number_column(ttft_p99, "ttft_p99_ms", nonnegative=True)),
            "e2e_latency_p50_ms": take(number_column(e2e_p50, "e2e_latency_p50_ms", nonnegative=True)),
            "e2e_latency_p99_ms": take(number_column(e2e_p99, "e2e_latency_p99_ms", nonnegative=True)),
            "p99_latency_ms": take(number_column(p99_latency, "p99_latency_ms", nonnegative=True)),
            "error_rate": error_rate,
            "requests_completed": [None] * n,
            "requests_failed": [None] * n,
            "error_counts": [()] * n,
            "mostly_failed": mostly_failed,
            "reported_usd_per_mtok": cost,
            "cost_is_estimate": take(self.cost_is_estimate.column(cost_is_estimate)),
            "measured_at": take(self.measured_at.column(published_on)),
            "source_label": take(self.source.column(source)),
            "notes": notes,
        }
        columns = [values[name] for name in _FIELDS]
        if slow:
            columns, lines = self._ordinary(chunk, slow, columns, lines, delimiter, rejects)
        return RecordBatch(BenchmarkRecord, columns, lines, _keys(columns))

    def _ordinary(self, chunk: list[tuple[int, list[str], str]], slow: set[int], columns: list[list[Any]],
                  lines: list[int], delimiter: str, rejects: list[Reject]) -> tuple[list[list[Any]], list[int]]:
        """Put the rows at ``slow`` through _row: its record replaces the row's values, or it is refused.

        The columns are changed in place at those rows only (most batches of a real file hold one or two
        odd rows; turning the batch into rows and back cost ~2 ms a batch)."""
        refused: list[int] = []
        for i in sorted(slow):
            line, raw, problem = chunk[i]
            row = Row(line, raw, self.index, problem)
            try:
                values = _values(_records_of(row)[0])
            except ValueError as exc:
                rejects.append(Reject(row.locator, str(exc), row.excerpt(delimiter)))
                refused.append(i)
                continue
            for column, value in zip(columns, values, strict=True):
                column[i] = value
        if not refused:
            return columns, lines
        if len(refused) <= _FEW_REFUSED:
            for i in reversed(refused):  # one memmove per column each
                for column in columns:
                    del column[i]
                del lines[i]
            return columns, lines
        gone = set(refused)
        keep = [i for i in range(len(lines)) if i not in gone]
        if not keep:
            return [[] for _ in _FIELDS], []
        pick = itemgetter(*keep) if len(keep) > 1 else (lambda values: (values[keep[0]],))
        return [list(pick(column)) for column in columns], list(pick(lines))


# Up to this many refused rows in a batch are deleted one by one; more, and the kept rows are picked out at once.
_FEW_REFUSED = 16


_KEY_TEXTS = tuple(_FIELDS.index(name) for name in ("source_model_id", "provider_key", "serving_stack",
                                                     "stack_version", "precision", "accelerator"))
_KEY_NUMBERS = tuple(_FIELDS.index(name) for name in ("accelerator_count", "accelerator_memory_gib"))
_KEY_WORKLOAD = tuple(_FIELDS.index(name) for name in ("input_tokens", "output_tokens", "concurrency"))
_FORM_FACTOR, _SOURCE_LABEL = _FIELDS.index("form_factor"), _FIELDS.index("source_label")


def _keys(columns: list[list[Any]]) -> list[bytes]:
    """:func:`key_digest` of each record's :meth:`BenchmarkRecord.natural_key`, built a column at a time
    (tests/scrapers/test_benchmarks_csv.py checks them against natural_key itself)."""
    parts = [list(map(str.casefold, columns[i])) for i in _KEY_TEXTS]
    parts += [columns[i] for i in _KEY_NUMBERS]
    parts.append(list(map(str.casefold, columns[_FORM_FACTOR])))
    parts += [columns[i] for i in _KEY_WORKLOAD]
    parts.append(["" if when is None else _iso(when) for when in columns[_MEASURED_AT]])
    parts.append(list(map(str.casefold, columns[_SOURCE_LABEL])))
    return [sha256(text.encode()).digest()[:16] for text in map(repr, zip(*parts, strict=True))]


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


@lru_cache(maxsize=4096)
def _iso(value: datetime) -> str:
    return value.isoformat()
