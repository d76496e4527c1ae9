"""Per-row limits between parsing and writing: a record the database cannot hold is quarantined, not fatal.

Parsers check what a value means (a price at or above 10,000 USD per 1M tokens is
absurd); this screen checks what the columns can hold, in one place for every
parser. Without it one entry with a 501-character key, a 101-character provider, a
``max_input_tokens`` of 1e12, a NUL or a lone surrogate fails the whole snapshot on
PostgreSQL (value too long, integer out of range, invalid byte sequence) and is
stored silently truncated-or-not on SQLite. Limits come from the model fields the
record's attributes are written to, so a migration that widens a column widens the
screen with it.

A record that fails is dropped with a one-line reason as a Reject; the rest of the
snapshot goes on. Reject texts themselves are made storable too (``storable``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from itertools import islice
from operator import attrgetter
from typing import Any

from django.apps import apps
from django.db import models

from apps.common.fields import FRACTION_DIGITS, INT_DIGITS, ExactDecimalField
from scrapers.csvtools import RecordBatch, RecordStream
from scrapers.records import ParseResult, Reject, shorten

# The models each record type is written to; a record attribute is checked against
# every column of the same name (the narrowest wins).
TARGETS: dict[str, tuple[str, ...]] = {
    "PriceRecord": ("catalog.Offering", "pricing.PriceObservation", "catalog.ModelAlias"),
    "UnitPrice": (),
    "BenchmarkRecord": ("benchmarks.BenchmarkRun", "benchmarks.Hardware"),
    "HardwarePriceRecord": ("benchmarks.HardwareOffering", "benchmarks.HardwarePriceObservation",
                            "benchmarks.Hardware"),
    "MarketSizeRecord": ("market.SizeEstimate",),
    "ProviderRecord": ("catalog.Provider",),
}
# Record attributes stored under another column name.
RENAMED: dict[str, tuple[str, str]] = {
    "model_name": ("pricing.PriceObservation", "display_name"),
    "provider": ("catalog.Provider", "name"),
    "segment": ("market.Segment", "name"),
    "base_value_usd_bn": ("market.SizeEstimate", "value_usd_bn"),
    "target_value_usd_bn": ("market.SizeEstimate", "value_usd_bn"),
    "base_year": ("market.SizeEstimate", "year"),
    "target_year": ("market.SizeEstimate", "year"),
    "stated_cagr_pct": ("market.StatedCagr", "cagr_pct"),
}
# What the screen allows where no column says (a text no column of ours exceeds; a 32-bit count).
DEFAULT_MAX_CHARS = 500
POSITIVE_INT_MAX = 2_147_483_647
SMALL_INT_MAX = 32_767

# C0 and C1 controls except tab and line breaks (which the CSV reader and text cleaning handle),
# and UTF-16 surrogates, which PostgreSQL refuses and UTF-8 cannot encode.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclasses.dataclass(frozen=True)
class Limit:
    max_chars: int = DEFAULT_MAX_CHARS
    int_range: tuple[int, int] = (0, POSITIVE_INT_MAX)
    int_digits: int = INT_DIGITS  # digits before the point a decimal column holds
    fraction_digits: int | None = FRACTION_DIGITS  # None: the column rounds extra fraction digits


def _limit_of(field: models.Field) -> Limit:
    if isinstance(field, ExactDecimalField):
        return Limit()
    if isinstance(field, models.DecimalField):
        return Limit(int_digits=field.max_digits - field.decimal_places, fraction_digits=None)
    if isinstance(field, models.PositiveSmallIntegerField | models.SmallIntegerField):
        return Limit(int_range=(0, SMALL_INT_MAX))
    if isinstance(field, models.CharField) and field.max_length:
        return Limit(max_chars=field.max_length)
    return Limit()


def _narrowest(a: Limit, b: Limit) -> Limit:
    fractions = [f for f in (a.fraction_digits, b.fraction_digits) if f is not None]
    return Limit(min(a.max_chars, b.max_chars), (max(a.int_range[0], b.int_range[0]),
                                                  min(a.int_range[1], b.int_range[1])),
                 min(a.int_digits, b.int_digits), min(fractions) if fractions else None)


@cache
def limits_for(record_type: str) -> dict[str, Limit]:
    """Attribute name -> the narrowest limit of the columns it is written to."""
    found: dict[str, Limit] = {}
    columns: list[tuple[str, models.Field]] = []
    for label in TARGETS.get(record_type, ()):
        columns += [(f.name, f) for f in apps.get_model(label)._meta.concrete_fields if not f.is_relation]
    for name, (label, column) in RENAMED.items():
        columns.append((name, apps.get_model(label)._meta.get_field(column)))
    for name, field in columns:
        limit = _limit_of(field)
        found[name] = _narrowest(found[name], limit) if name in found else limit
    return found


def escape(text: str) -> str:
    """``text`` with control characters and lone surrogates written as escapes, so it can be stored and shown."""
    return _UNSTORABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def storable(text: str, limit: int) -> str:
    return shorten(escape(text), limit)


@cache
def _plan(record_class: type) -> tuple[tuple[str, Limit], ...]:
    """(attribute, limit) for each field of a record class, worked out once per class: ``problem`` runs on
    every record of every snapshot (3,383 for one LiteLLM file), so it must not ask ``dataclasses.fields``
    and the limits each time."""
    limits = limits_for(record_class.__name__)
    return tuple((field.name, limits.get(field.name, Limit())) for field in dataclasses.fields(record_class))


@cache
def _is_record_class(kind: type) -> bool:
    """Instances of this type are records (dataclass instances; a dataclass itself is a type, not a record):
    asked once per type, not with ``dataclasses.is_dataclass`` for each of 100,000 records."""
    return dataclasses.is_dataclass(kind) and not issubclass(kind, type)


def problem(value: Any, where: str = "") -> str:
    """Why a record (a parser's dataclass) cannot be stored, or "" when it can."""
    if not _is_record_class(type(value)):
        return ""
    for name, limit in _plan(type(value)):
        item = getattr(value, name)
        # The common cases first, inline: a short clean text, nothing, a price that fits.
        if item is None or isinstance(item, bool):
            continue
        if type(item) is str and len(item) <= limit.max_chars and not _UNSTORABLE.search(item):
            continue
        reason = _value_problem(item, f"{where}{name}", limit)
        if reason:
            return reason
    return ""


def _value_problem(value: Any, name: str, limit: Limit) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str):
        bad = _UNSTORABLE.search(value)
        if bad:
            return f"{name} holds the character {escape(bad.group())}, which cannot be stored"
        if len(value) > limit.max_chars:
            return f"{name} is {len(value):,} characters long (limit {limit.max_chars})"
        return ""
    if isinstance(value, int):
        low, high = limit.int_range
        if not low <= value <= high:
            return f"{name} is out of range ({shorten(str(value), 30)}; {low} to {high:,})"
        return ""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"{name} is not a number ({value})"
        if value and value.adjusted() + 1 > limit.int_digits:
            return f"{name} is out of range ({shorten(str(value), 30)}; under 10^{limit.int_digits})"
        if limit.fraction_digits is not None:
            exponent = value.as_tuple().exponent
            # normalize() (trailing zeros dropped) only when the written digits exceed the column's.
            if isinstance(exponent, int) and -exponent > limit.fraction_digits:
                exponent = value.normalize().as_tuple().exponent
                if isinstance(exponent, int) and -exponent > limit.fraction_digits:
                    return (f"{name} has more than {limit.fraction_digits} decimal places "
                            f"({shorten(str(value), 30)})")
        return ""
    if dataclasses.is_dataclass(value):
        return problem(value, f"{name}.")
    if isinstance(value, tuple | list):
        for item in value:
            reason = _value_problem(item, name, Limit(int_range=(0, POSITIVE_INT_MAX)))
            if reason:
                return reason
    return ""


_KEY_ATTRIBUTES = ("source_model_id", "instance_type", "provider", "segment")


def locator_of(record: Any) -> str:
    """Where a record came from, as the quarantine names it: its CSV line, else its key (escaped, short)."""
    line = getattr(record, "line", 0)
    if isinstance(line, int) and line > 0:
        return f"line {line}"
    for name in _KEY_ATTRIBUTES:
        key = getattr(record, name, None)
        if isinstance(key, str) and key:
            return storable(key, 60)
    return type(record).__name__


def _screen_records(records: Sequence[Any], found: dict[str, Reject]) -> Iterator[Any]:
    for record in records:
        reason = problem(record)
        if not reason:
            yield record
            continue
        locator = locator_of(record)
        # One row of a file can give several records (tiers); it is quarantined once.
        found.setdefault(locator, Reject(locator, reason, storable(repr(record), 500)))


# Records of a stream screened together (a stream's applier takes ~2,000 at a time anyway).
SCREEN_CHUNK = 2048


def _screen_in_chunks(records: Iterable[Any], found: dict[str, Reject]) -> Iterator[Any]:
    """A stream's records screened a chunk at a time, in their order: a chunk in which ``problem`` would find
    nothing (``_records_fit``, a field at a time over the chunk) passes whole, any other is screened record by
    record (the reasons come from there). One by one, ``problem`` cost ~4-5 us a record: ~0.45 s of a
    100,000-row hardware price sheet's import (bench/README.md, issue 14)."""
    iterator = iter(records)
    while chunk := list(islice(iterator, SCREEN_CHUNK)):
        if _records_fit(chunk):
            yield from chunk
        else:
            yield from _screen_records(chunk, found)


def result_screen(result: ParseResult) -> ParseResult:
    """The parse result without records the database cannot hold; each becomes a Reject with a reason.

    A list is screened at once. A lazily produced CSV stream is screened as it is
    iterated (its records are made again on every pass), and the rejects it finds are
    added to ``result.rejects`` then, before the applier's transaction writes them.
    """
    rejects = {r.locator: r for r in result.rejects}
    found: dict[str, Reject] = {}
    if isinstance(result.records, RecordStream):
        stream = result.records

        def add_found() -> None:
            for locator, reject in found.items():
                if locator not in rejects:
                    rejects[locator] = reject
                    result.rejects.append(reject)

        def produce() -> Iterator[Any]:
            yield from _screen_in_chunks(stream, found)
            add_found()

        def batches() -> Iterator[RecordBatch]:
            yield from _screen_batches(stream.batches(), found)
            add_found()

        return ParseResult(records=_Screened(produce, len(stream), found,
                                             batches=batches if stream.has_batches else None),
                           rejects=result.rejects, observed_at=result.observed_at)
    if _records_fit(result.records):
        return result
    kept = list(_screen_records(result.records, found))
    if not found:
        return result
    extra = [r for locator, r in found.items() if locator not in rejects]
    return ParseResult(records=kept, rejects=[*result.rejects, *extra], observed_at=result.observed_at)


def _screen_batches(batches: Iterator[RecordBatch], found: dict[str, Reject]) -> Iterator[RecordBatch]:
    """Batches of records less those the database cannot hold: what ``_screen_records`` does to the same
    records, a column at a time. A batch none of whose columns can hold a problem passes whole; any other
    batch is screened record by record, as iteration screens it (same reasons, same order)."""
    for batch in batches:
        plan = _plan(batch.kind)
        if all(_column_fits(column, limit) for column, (_, limit) in zip(batch.columns, plan, strict=True)):
            yield batch
            continue
        dropped = set()
        for i, record in enumerate(batch.records()):
            reason = problem(record)
            if reason:
                locator = locator_of(record)
                found.setdefault(locator, Reject(locator, reason, storable(repr(record), 500)))
                dropped.add(i)
        yield batch.without(dropped) if dropped else batch


_NONE = type(None)
_EXPONENT = attrgetter("exponent")


def _column_fits(values: list[Any], limit: Limit) -> bool:
    """True when ``problem`` finds nothing in any of these values (one field of many records); False when it
    might (then the records are screened one by one). One pass of type() plus a C-level scan or two."""
    kinds = set(map(type, values))
    kinds.discard(bool)
    if _NONE in kinds:
        kinds.discard(_NONE)
        values = [value for value in values if value is not None]
    if not kinds or kinds <= {datetime, date}:
        return True  # problem() passes None, booleans and times
    if kinds == {str}:
        joined = "".join(values)
        # Every character _UNSTORABLE matches is unprintable (a control or a surrogate): isprintable() is the
        # quicker scan, the pattern decides only for text with tabs or line breaks.
        return (max(map(len, values)) <= limit.max_chars
                and (joined.isprintable() or not _UNSTORABLE.search(joined)))
    if kinds == {int}:
        low, high = limit.int_range
        return low <= min(values) and max(values) <= high
    if kinds == {Decimal}:
        if not all(map(Decimal.is_finite, values)):
            return False
        nonzero = [value for value in values if value]
        if nonzero and max(map(Decimal.adjusted, nonzero)) + 1 > limit.int_digits:
            return False
        return (limit.fraction_digits is None
                or min(map(_EXPONENT, map(Decimal.as_tuple, values))) >= -limit.fraction_digits)
    if kinds == {tuple}:
        return not any(values)  # empty tuples: nothing in them
    return False


def _records_fit(records: Sequence[Any]) -> bool:
    """True when ``problem`` would find nothing in any of these records (a parser's list, one class): checked a
    field at a time over all records, as batches are. False when a record might hold a problem, or the records
    are of several classes; they are then screened one by one (the reasons come from there). A LiteLLM file's
    3,383 records took ~70 ms one by one, a tenth of its ingest's Python."""
    if not records:
        return True
    kind = type(records[0])
    if not _is_record_class(kind) or any(type(record) is not kind for record in records):
        return False
    plan = _plan(kind)
    if len(plan) < 2:
        return all(_values_fit([getattr(record, name) for record in records], limit) for name, limit in plan)
    # Every field of a record in one C call, then the rows turned into columns.
    columns = zip(*map(attrgetter(*(name for name, _ in plan)), records), strict=True)
    return all(_values_fit(list(column), limit) for column, (_, limit) in zip(columns, plan, strict=True))


_ITEM = Limit(int_range=(0, POSITIVE_INT_MAX))  # what ``_value_problem`` holds an item of a tuple to


def _values_fit(values: list[Any], limit: Limit) -> bool:
    """``_column_fits``, also for fields holding tuples (unit prices, modalities) or records: their items and
    fields are checked the same way, all together."""
    kinds = set(map(type, values))
    if tuple in kinds or list in kinds:
        items = [item for value in values if type(value) in (tuple, list) for item in value]
        values = [value for value in values if type(value) not in (tuple, list)]
        if items and not _values_fit(items, _ITEM):
            return False
        kinds = set(map(type, values))
    nested = [kind for kind in kinds if _is_record_class(kind)]
    if nested:
        if not all(_records_fit([value for value in values if type(value) is kind]) for kind in nested):
            return False
        values = [value for value in values if type(value) not in nested]
    return _column_fits(values, limit)


class _Screened(RecordStream):
    """A RecordStream whose length leaves out the records the screen has dropped so far."""

    def __init__(self, produce: Callable[[], Iterator[Any]], count: int, dropped: dict[str, Reject], *,
                 batches: Callable[[], Iterator[RecordBatch]] | None = None) -> None:
        super().__init__(produce, count, batches=batches)
        self._dropped = dropped

    def __len__(self) -> int:
        return self._count - len(self._dropped)
