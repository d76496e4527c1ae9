"""Reading curated CSV files as people really send them.

What a spreadsheet export looks like in practice, and what we do about it:

* a UTF-8 byte-order mark (Excel's "CSV UTF-8"), or UTF-16 with a BOM: decoded;
  any other non-UTF-8 bytes fail the whole file with one message;
* ``;`` (European Excel) or a tab instead of ``,``: the delimiter is sniffed
  from the header line (the most frequent of ``,`` ``;`` and tab outside quotes);
* header names in any case, with spaces or punctuation: normalised to
  ``snake_case`` (``Base Value (USD bn)`` -> ``base_value_usd_bn``) and matched
  against the format's columns and their aliases;
* ``$2.70``, ``1,200``, ``1.200,50``, ``65%``, ``1 200``: numbers are read by
  :func:`parse_number` (see there for the one ambiguous case);
* blank lines anywhere (trailing ones included), and rows of empty cells: skipped;
* quoted fields with commas or line breaks: the csv module handles them; the
  line number reported is the line a row *starts* on, as an editor shows it.

A missing required column fails the whole file (``ParseError`` naming every
missing column), and so does a header that is not one of ours: an unknown,
repeated or control-character-mangled column (named), over ``MAX_COLUMNS``
columns, or no line break in the first 64 KB. (An unknown column is skipped
instead where the caller passes ``extra_columns="ignore"``: documents fetched as
an upstream publishes them.) A bad row becomes a ``Reject`` located by its line
number; a text cell holding a control character or
starting like a spreadsheet formula is a bad row, and so is a number at or
above 1e15 (no column of ours holds one).

Memory stays flat whatever the file size: rows are decoded and parsed as a
stream. :func:`parse_table` validates every row once (rejects, duplicates,
the file's date) keeping 16 bytes per row (a key hash and a line number, freed
when it returns); the records themselves are produced again, lazily, each time
``ParseResult.records`` is iterated, so no list of 100,000 records ever exists.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import pickle
import re
from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import repeat, starmap
from operator import attrgetter, is_, itemgetter
from typing import Any, Generic, Literal, NamedTuple, TypeVar

import numpy as np

from scrapers.gcpause import collections_paused
from scrapers.records import ParseError, ParseResult, Reject

T = TypeVar("T")

# A CSV field longer than this is not data but a broken quote swallowing the file.
MAX_FIELD_CHARS = 100_000
_HEAD_BYTES = 65536
# The largest magnitude a numeric cell may have (as a power of ten).
MAX_NUMBER_DIGITS = 15
# Our formats have 5 to 25 columns; a header far wider is not one of them (a 1M-column header
# is 7.9 MB, under the size limit) and is refused before any per-column work.
MAX_COLUMNS = 200
# Control characters (tab and line breaks aside: the reader and text() deal with those) and lone
# surrogates: no header or text cell means them, and PostgreSQL cannot store a NUL.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# A text cell a spreadsheet would run as a formula (=, @, or a sign before something not a number).
_FORMULA = re.compile(r"[=@]|[+-][^\d\s.,]")
EXCERPT_CHARS = 300


class Column(NamedTuple):
    """One column of a curated CSV format: what the README and the upload form show."""

    name: str
    required: bool
    description: str  # unit and meaning, e.g. "USD per hour for the whole instance"


def columns_markdown(columns: Sequence[Column], aliases: dict[str, str] | None = None) -> str:
    """The column table of a format as Markdown (README, upload form help)."""
    other_names: dict[str, list[str]] = {}
    for alias, name in (aliases or {}).items():
        other_names.setdefault(name, []).append(alias)
    lines = ["| column | required | meaning |", "|---|---|---|"]
    for col in columns:
        also = other_names.get(col.name)
        meaning = col.description + (f" (also accepted: {', '.join(sorted(also))})" if also else "")
        lines.append(f"| `{col.name}` | {'yes' if col.required else 'no'} | {meaning} |")
    return "\n".join(lines)


def escaped(text: str, limit: int = 40) -> str:
    """repr() of a name with its control characters visible, cut short: for one-line messages."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _names(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def normalize_header(name: str) -> str:
    """``' Base Value (USD bn) '`` -> ``'base_value_usd_bn'``; ``'Tokens/s'`` -> ``'tokens_s'``."""
    name = name.replace("\ufeff", "").strip().lower()
    return re.sub(r"[^0-9a-z]+", "_", name).strip("_")


# --- decoding and sniffing ----------------------------------------------------


def _encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _sniff_delimiter(header_line: str) -> str:
    counts = dict.fromkeys((",", ";", "\t"), 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class Header(dict[str, int]):
    """Column name -> position, shared by every row of a table, with cached multi-column getters."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__((name, i) for i, name in enumerate(names) if name)
        self.width = len(names)  # rows are padded so that raw[width] == "" (the cell of an absent column)
        self._getters: dict[tuple[str, ...], Callable[[Sequence[str]], tuple[str, ...]]] = {}

    def getter(self, names: tuple[str, ...]) -> Callable[[Sequence[str]], tuple[str, ...]]:
        found = self._getters.get(names)
        if found is None:
            picks = [self.get(name, self.width) for name in names]
            pick = itemgetter(*picks)
            found = pick if len(picks) > 1 else (lambda raw: (pick(raw),))
            self._getters[names] = found
        return found


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: the line it starts on and its cells, read by canonical column name."""

    line: int
    raw: Sequence[str]  # as read, padded with "" so that raw[index.width] is ""
    index: Header
    problem: str = ""  # set when the row's shape is wrong (too many cells)

    @classmethod
    def of(cls, line: int, cells: Mapping[str, str]) -> Row:
        """A row from a mapping (tests, callers without a file)."""
        return cls(line, [*cells.values(), ""], Header(list(cells)))

    @property
    def locator(self) -> str:
        return f"line {self.line}"

    def get(self, name: str) -> str:
        """One cell, stripped ("" for an absent column)."""
        return self.raw[self.index.get(name, self.index.width)].strip()

    def cells(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """Several cells at once, *unstripped* (one C call; the converters below strip)."""
        return self.index.getter(names)(self.raw)

    def excerpt(self, delimiter: str = ",") -> str:
        text = delimiter.join(self.raw[: self.index.width]).rstrip(delimiter)
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


class Table:
    """A CSV whose header has been checked; iterate :meth:`rows` for the data."""

    def __init__(self, data: bytes, columns: Sequence[Column], aliases: dict[str, str] | None = None, *,
                 extra_columns: Literal["fail", "ignore"] = "fail") -> None:
        blank = b" \t\r\n\x00" + codecs.BOM_UTF8
        # Strip only the head: stripping the whole file would copy it.
        if not data or (not data[:65536].strip(blank) and not data.strip(blank)):
            raise ParseError("the file is empty")
        self._data = data
        if len(data) > _HEAD_BYTES and b"\n" not in data[:_HEAD_BYTES] and b"\r" not in data[:_HEAD_BYTES]:
            # A header line longer than this is not one of ours (a 1M-column header is 7.9 MB): refused
            # before the reader builds a string per column.
            raise ParseError(f"no line break in the first {_HEAD_BYTES:,} bytes: the header line is far wider "
                             f"than any format's (at most {MAX_COLUMNS} columns)")
        self.encoding = _encoding(data)
        head = data[:65536].decode(self.encoding, errors="replace")
        first = next((line for line in head.splitlines() if line.strip().strip(",;\t")), "")
        if first.lstrip().startswith(("<", "{", "[")):
            raise ParseError("the file is not CSV (it looks like HTML or JSON)")
        self.delimiter = _sniff_delimiter(first)
        known = {c.name for c in columns}
        rename = {normalize_header(a): n for a, n in (aliases or {}).items()}
        reader = self._reader()
        header_line, header = 0, []
        try:
            for raw in reader:
                if any(cell.strip() for cell in raw):
                    header_line, header = reader.line_num, raw
                    break
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ParseError(f"the header cannot be read ({_why(exc)})") from None
        if len(header) > MAX_COLUMNS:
            raise ParseError(f"the header line {header_line} has {len(header):,} columns (limit {MAX_COLUMNS}); "
                             "this is not a file of this format")
        mangled = [escaped(h) for h in header if _CONTROL.search(h.replace("\ufeff", ""))]
        if mangled:
            raise ParseError(f"the header has control characters in column(s): {_names(mangled)}")
        names = [rename.get(normalize_header(h), normalize_header(h)) for h in header]
        # A Counter: counting each name in the list would be quadratic in the number of columns.
        duplicated = sorted(n for n, count in Counter(n for n in names if n).items() if count > 1)
        if duplicated:
            raise ParseError(f"the header repeats column(s): {_names(duplicated)}")
        missing = [c.name for c in columns if c.required and c.name not in names]
        if missing:
            have = ", ".join(h.strip() for h in header if h.strip()) or "nothing"
            raise ParseError(
                f"missing required column(s): {', '.join(missing)} (the header line {header_line or 1} has: {have})"
            )
        unknown = [h.strip() for h, n in zip(header, names, strict=True) if n and n not in known]
        self.unknown_columns: list[str] = unknown
        if unknown and extra_columns == "fail":
            # A column we do not know may be one we do, misspelt or mangled: ignoring it would
            # silently blank what the curator meant to set.
            expected = ", ".join(c.name for c in columns)
            raise ParseError(f"unknown column(s): {_names([escaped(u) for u in unknown])} (the columns of this "
                             f"format are: {expected})")
        self.header = names
        self.header_line = header_line

    def _reader(self) -> Iterator[list[str]]:
        # BytesIO shares the bytes (no copy); the wrapper decodes a chunk at a time.
        stream = io.TextIOWrapper(io.BytesIO(self._data), encoding=self.encoding, newline="")
        return csv.reader(stream, delimiter=self.delimiter)

    def rows(self) -> Iterator[Row]:
        """Data rows after the header, blank ones skipped; raises ParseError for undecodable bytes."""
        index = Header(self.header)
        for line, raw, problem in self.numbered():
            yield Row(line, raw, index, problem)

    def numbered(self) -> Iterator[tuple[int, list[str], str]]:
        """(line, cells padded as :attr:`Row.raw`, problem) of each data row: :meth:`rows` without a Row
        object per row, for parsers that convert a batch of rows column by column."""
        reader = self._reader()
        width = len(self.header)
        previous_end = 0
        try:
            for raw in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if start <= self.header_line:
                    continue
                joined = "".join(raw)
                if not joined.strip():
                    continue  # blank line or a row of empty cells (trailing ",,,," lines)
                if len(joined) > MAX_FIELD_CHARS and any(len(cell) > MAX_FIELD_CHARS for cell in raw):
                    raise ParseError(f"line {start}: a field is over {MAX_FIELD_CHARS:,} characters "
                                     "(an unclosed quote?)")
                problem = ""
                if len(raw) != width:
                    if len(raw) > width and any(c.strip() for c in raw[width:]):
                        problem = (f"the row has {len(raw)} cells but the header has {width} "
                                   "(an unquoted delimiter inside a value?)")
                    raw = raw[:width] + [""] * (width - len(raw))
                raw.append("")
                yield start, raw, problem
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ParseError(f"line {previous_end + 1}: the file cannot be read ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text; save it as 'CSV UTF-8'"
    return str(exc)


# --- two-pass parsing with lazily produced records ----------------------------


class RecordStream(Sequence[T], Generic[T]):
    """The good records of a parsed CSV, produced again on each iteration.

    ``len()`` is known from the validating pass; iterating re-reads the bytes,
    so a 100,000-row file never holds 100,000 record objects at once.
    Indexing materialises the list once (handy in tests; services iterate).
    """

    def __init__(self, produce: Callable[[], Iterator[T]], count: int, *,
                 batches: Callable[[], Iterator[RecordBatch]] | None = None) -> None:
        self._produce = produce
        self._count = count
        self._items: list[T] | None = None
        self._batches = batches

    @property
    def has_batches(self) -> bool:
        """Whether :meth:`batches` gives the records column by column (else only iteration does)."""
        return self._batches is not None

    def batches(self) -> Iterator[RecordBatch]:
        """The same records as iteration, in the same order, a batch of columns at a time."""
        if self._batches is None:
            raise TypeError("this stream has no batches")
        return self._batches()

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[T]:
        if self._items is not None:
            return iter(self._items)
        return self._produce()

    def __getitem__(self, index):  # type: ignore[override]
        if self._items is None:
            self._items = list(self._produce())
        return self._items[index]

    def __repr__(self) -> str:
        return f"<RecordStream of {self._count} records>"


@dataclass(slots=True)
class RecordBatch:
    """Records of consecutive rows as columns, for code that handles thousands of records a column at a time
    instead of one object each (a frozen dataclass of 31 fields costs ~5 us to build, a column ~0.05 us a value).

    ``columns[i]`` holds field ``i`` of ``kind`` (its dataclass fields' order) for every record; ``lines`` the
    line each record came from; ``keys`` each record's :func:`key_digest` of its natural key.
    """

    kind: type
    columns: list[list[Any]]
    lines: list[int]
    keys: list[bytes]

    def __len__(self) -> int:
        return len(self.lines)

    def records(self) -> Iterator[Any]:
        return starmap(self.kind, zip(*self.columns, strict=True))

    def without(self, positions: set[int]) -> RecordBatch:
        """This batch less the records at ``positions`` (a few: each is one memmove per column)."""
        def take(values: list[Any]) -> list[Any]:
            values = list(values)
            for i in ordered:
                del values[i]
            return values

        ordered = sorted(positions, reverse=True)
        return RecordBatch(self.kind, [take(c) for c in self.columns], take(self.lines), take(self.keys))


def key_digest(key: Hashable) -> bytes:
    """The first 16 bytes (128 bits) of the sha256 of a natural key's repr: what identifies a record across
    files (a benchmark run's stored key) and what the duplicate check hashes."""
    return hashlib.sha256(repr(key).encode()).digest()[:16]


# Memory a parser's stash of validated records may take (this module's row stash: ~90 bytes a hardware price
# record, so ~370,000 records; benchmarks_csv's batch stash: ~200 bytes a record); beyond, the second pass reads
# and converts the bytes again, so memory stays bounded whatever the file.
STASH_BYTES = 32 * 1024 * 1024
_STASH_ROWS = 2048  # rows pickled together


@lru_cache(maxsize=64)
def _rebuildable(kind: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """The getter of a record class's field values when ``kind(*values)`` makes the same record again (a dataclass
    whose fields are all positional ``__init__`` arguments, in order, with no ``__post_init__`` to run twice); else
    None."""
    if not dataclasses.is_dataclass(kind) or hasattr(kind, "__post_init__"):
        return None
    fields = dataclasses.fields(kind)
    if not fields or not all(f.init and f.kw_only is not True for f in fields):
        return None
    names = [f.name for f in fields]
    getter = attrgetter(*names)
    return getter if len(names) > 1 else (lambda record: (getter(record),))


class StashBlobs:
    """Serialised records a parser keeps from its validating pass for the second, at most ``STASH_BYTES`` in all:
    past that it gives up (``overflowed``, its blobs dropped) and the second pass reads and converts the bytes
    again, so memory stays bounded whatever the file. The parsers' stashes (:class:`_RowStash` here,
    ``benchmarks_csv._Stash``) add their own encoding."""

    def __init__(self) -> None:
        self.blobs: list[bytes] = []
        self.size = 0
        self.overflowed = False

    def keep(self, blob: bytes) -> None:
        if self.overflowed:
            return
        self.blobs.append(blob)
        self.size += len(blob)
        if self.size > STASH_BYTES:
            self.give_up()

    def give_up(self) -> None:
        self.overflowed = True
        self.blobs = []


class _RowStash(StashBlobs):
    """The validating pass's records, kept compact for the second pass: each ~2,000 rows' records pickled together
    as (line, class, field values), which the second pass loads instead of reading and converting the CSV again
    (a 100,000-row hardware price sheet: ~0.95 s converted again, ~0.35 s loaded; bench/README.md, issue 14).

    It gives up past ``STASH_BYTES``, or on a record its class could not make again from its fields
    (:func:`_rebuildable`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[int, type, tuple[Any, ...]]] = []
        self._kind: type | None = None  # the class of the last record, and its getter (one class per file, mostly)
        self._values: Callable[[Any], tuple[Any, ...]] = tuple

    def add(self, line: int, records: Sequence[Any]) -> None:
        if self.overflowed:
            return
        for record in records:
            kind = type(record)
            if kind is not self._kind:
                values = _rebuildable(kind)
                if values is None:
                    self.give_up()
                    return
                self._kind, self._values = kind, values
            self.pending.append((line, kind, self._values(record)))
        if len(self.pending) >= _STASH_ROWS:
            self._flush()

    def close(self) -> None:
        if self.pending and not self.overflowed:
            self._flush()

    def _flush(self) -> None:
        try:
            blob = pickle.dumps(self.pending, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
            self.give_up()  # a value pickle cannot write: the rows are converted again, as without a stash
            return
        self.pending = []
        self.keep(blob)

    def give_up(self) -> None:
        super().give_up()
        self.pending = []

    def records(self, rejected: set[int]) -> Iterator[Any]:
        for blob in self.blobs:
            # Bytes this object pickled itself, from the parser's own records: nothing from outside is unpickled.
            for line, kind, values in pickle.loads(blob):  # noqa: S301
                if line not in rejected:
                    yield kind(*values)


def parse_table(
    data: bytes,
    columns: Sequence[Column],
    make: Callable[[Row], T] | Callable[[Row], Sequence[T]],
    *,
    aliases: dict[str, str] | None = None,
    many: bool = False,
    key: Callable[[T], Hashable] | None = None,
    key_label: str = "",
    date_of: Callable[[T], date | None] | None = None,
    extra_columns: Literal["fail", "ignore"] = "fail",
) -> ParseResult:
    """Parse a curated CSV: ``make(row)`` builds a record or raises ValueError (the reject reason).

    With ``many``, ``make`` returns a sequence of records per row (none to skip
    a row that is not data of this kind, two for a row stating two prices).
    ``key`` names a record's natural key: a later row with a key already seen
    is a duplicate, quarantined with the line of the first. When every good
    record has a date (``date_of``), the newest becomes ``ParseResult.observed_at``.

    Memory: besides the bytes, the validating pass keeps 16 bytes per row (a
    64-bit key hash and the line number); duplicates found by hash are
    confirmed against the real keys before a row is quarantined. The good
    records are kept pickled (~90 bytes a row, up to ``STASH_BYTES``) so
    that iterating them does not read and convert the CSV again
    (:class:`_RowStash`); past that bound iterating re-reads the bytes.

    ``extra_columns="ignore"`` is for documents fetched as an upstream publishes them (SkyPilot's
    catalogues): a well-formed column the format does not read is skipped rather than failing every
    scheduled fetch until a release. Curated imports keep the default, ``"fail"``: there an unknown
    column is more likely one of ours misspelt. Mangled or repeated columns fail either way.
    """
    table = Table(data, columns, aliases, extra_columns=extra_columns)
    rejects: list[Reject] = []
    rejected: set[int] = set()
    hashes: array[int] = array("q")
    hash_lines: array[int] = array("q")
    good = 0
    newest: date | None = None
    all_dated = date_of is not None

    def records_of(row: Row) -> Sequence[T]:
        if row.problem:
            raise ValueError(row.problem)
        made = make(row)
        return made if many else (made,)  # type: ignore[return-value]

    stash = _RowStash()
    with collections_paused():
        for row in table.rows():
            try:
                records = records_of(row)
            except ValueError as exc:
                rejects.append(Reject(row.locator, str(exc), row.excerpt(table.delimiter)))
                rejected.add(row.line)
                continue
            good += len(records)
            stash.add(row.line, records)
            for record in records:
                if key is not None:
                    hashes.append(_hash(key(record)))
                    hash_lines.append(row.line)
                if date_of is not None:
                    when = date_of(record)
                    if when is None:
                        all_dated = False
                    elif newest is None or when > newest:
                        newest = when

    if key is not None and len(hashes) > 1:
        duplicates = duplicate_lines(table, records_of, key, hashes, hash_lines)
        del hashes, hash_lines
        for line, (first, count, excerpt_text) in sorted(duplicates.items()):
            what = f" (same {key_label})" if key_label else ""
            rejects.append(Reject(f"line {line}", f"duplicate of line {first}{what}; the first one is kept",
                                  excerpt_text))
            rejected.add(line)
            good -= count
        rejects.sort(key=lambda r: int(r.locator.split()[1]))

    stash.close()

    def produce() -> Iterator[T]:
        if not stash.overflowed:
            yield from stash.records(rejected)
            return
        for row in table.rows():
            if row.line not in rejected:
                yield from records_of(row)

    result = ParseResult(records=RecordStream(produce, good), rejects=rejects)  # type: ignore[arg-type]
    if all_dated and newest is not None:
        result.observed_at = datetime.combine(newest, time.min, tzinfo=UTC)
    return result


def _hash(value: Hashable) -> int:
    return int.from_bytes(hashlib.blake2b(repr(value).encode(), digest_size=8).digest(), "little", signed=True)


def duplicate_lines(table: Table, records_of: Callable[[Row], Sequence[T]], key: Callable[[T], Hashable],
                hashes: array[int], lines: array[int]) -> dict[int, tuple[int, int, str]]:
    """Lines repeating an earlier line's key -> (first line, records on the line, excerpt)."""
    # Sorting the raw 64-bit buffer costs 8 bytes a row; only colliding hashes are looked at further.
    ordered = np.sort(np.frombuffer(hashes, dtype=np.int64))
    repeated = {int(h) for h in ordered[1:][ordered[1:] == ordered[:-1]]}
    del ordered
    if not repeated:
        return {}
    groups: dict[int, list[int]] = {}
    for h, line in zip(hashes, lines, strict=True):
        if h in repeated:
            groups.setdefault(h, []).append(line)
    suspects: dict[int, set[int]] = {}  # later line -> candidate earlier lines (same hash)
    for group_lines in groups.values():
        group = sorted(set(group_lines))
        for position, later in enumerate(group[1:], start=1):
            suspects.setdefault(later, set()).update(group[:position])
    if not suspects:
        return {}
    # Confirm against the real keys (a 64-bit hash collision must not quarantine a row).
    wanted = set(suspects) | {line for earlier in suspects.values() for line in earlier}
    keys: dict[int, tuple[set[str], int, str]] = {}
    index, last = Header(table.header), max(wanted)
    for line, raw, problem in table.numbered():
        if line in wanted:
            row = Row(line, raw, index, problem)
            records = records_of(row)
            keys[row.line] = ({repr(key(r)) for r in records}, len(records), row.excerpt(table.delimiter))
        if line >= last:
            break  # lines only grow
    found: dict[int, tuple[int, int, str]] = {}
    for later in sorted(suspects):
        later_keys, count, excerpt_text = keys[later]
        first = next((line for line in sorted(suspects[later])
                      if line not in found and keys[line][0] & later_keys), None)
        if first is not None:
            found[later] = (first, count, excerpt_text)
    return found


# --- cell values ----------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009'_]")
_GROUPED_COMMA = re.compile(r"\d{1,3}(,\d{3})+")
_GROUPED_DOT = re.compile(r"\d{1,3}(\.\d{3}){2,}")
_PLAIN = re.compile(r"\d+(\.\d+)?|\.\d+")
_SCIENTIFIC = re.compile(r"(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+")


def parse_number(text: str, what: str) -> tuple[Decimal, bool]:
    """Read a number as spreadsheets write it; returns (value, had a % sign). ValueError if it is not one.

    Accepted: ``1200``, ``1,200``, ``1 200``, ``1'200``, ``$2.70``, ``USD 2.70``,
    ``2,70`` (decimal comma), ``1.234,56`` and ``1,234.56`` (the later mark is
    the decimal point), ``65%``, ``-3``, ``1e3``. The ambiguous ``1,200`` is read
    with the comma as a thousands separator (1200), never as 1.2.
    """
    s = text.strip()
    if _PLAIN.fullmatch(s):  # the common case, fast
        return Decimal(s), False
    if not s:
        raise ValueError(f"{what} is empty")
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    negative = s.startswith(("-", "\u2212"))
    if negative or s.startswith("+"):
        s = s[1:].strip()
    for symbol in ("US$", "USD", "$"):
        if s.upper().startswith(symbol):
            s = s[len(symbol):].strip()
        elif s.upper().endswith(symbol):
            s = s[: -len(symbol)].strip()
    s = _SPACES.sub("", s)
    try:
        value = _decimal(s)
    except ValueError:
        raise ValueError(f"{what} is not a number ({text.strip()!r})") from None
    return (-value if negative else value), percent


def _decimal(s: str) -> Decimal:
    if "," in s and "." in s:
        point = max(s.rfind(","), s.rfind("."))
        integer, fraction = s[:point], s[point + 1:]
        group = "," if s[point] == "." else "."
        if not re.fullmatch(rf"\d{{1,3}}(\{group}\d{{3}})*", integer) or not fraction.isdigit():
            raise ValueError(s)
        s = integer.replace(group, "") + "." + fraction
    elif "," in s:
        if _GROUPED_COMMA.fullmatch(s):
            s = s.replace(",", "")
        elif s.count(",") == 1:
            s = s.replace(",", ".")
        else:
            raise ValueError(s)
    elif _GROUPED_DOT.fullmatch(s):
        s = s.replace(".", "")
    # Scientific notation is the one other form spreadsheets write.
    if not _PLAIN.fullmatch(s) and not _SCIENTIFIC.fullmatch(s):
        raise ValueError(s)
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise ValueError(s) from None
    if not value.is_finite():
        raise ValueError(s)
    return value


def number(text: str, name: str, *, required: bool = False, nonnegative: bool = False, positive: bool = False,
           percent_to_fraction: bool = False) -> Decimal | None:
    """A numeric cell's text as a Decimal, None when blank and not required; ValueError with a reason otherwise.

    Plain numbers (most cells) take a fast path; the rest go through :func:`parse_number`.
    """
    text = text.strip()
    if not text:
        if required:
            raise ValueError(f"{name} is empty")
        return None
    if _PLAIN.fullmatch(text):
        value = Decimal(text)
        if positive and not value:
            raise ValueError(f"{name} must be positive ({text!r})")
        if value.adjusted() >= MAX_NUMBER_DIGITS:
            raise ValueError(f"{name} is absurd ({escaped(text)}, at or above 1e{MAX_NUMBER_DIGITS})")
        return value
    value, percent = parse_number(text, name)
    if value and value.adjusted() >= MAX_NUMBER_DIGITS:
        # No column of ours holds 1e15 (market sizes in USD bn, tokens/s, USD/h stop at 1e11 to 1e20):
        # a 1e22 or 1e308 cell is one bad row, not a database error failing the file.
        raise ValueError(f"{name} is absurd ({escaped(text)}, at or above 1e{MAX_NUMBER_DIGITS})")
    if percent and percent_to_fraction:
        value = value / 100
    if (nonnegative or positive) and value < 0:
        raise ValueError(f"{name} is negative ({text!r})")
    if positive and value == 0:
        raise ValueError(f"{name} must be positive ({text!r})")
    return value


def whole(text: str, name: str, *, required: bool = False, positive: bool = False) -> int | None:
    """A whole-number cell's text (``8``, ``8.0``, ``1,200``, ``~40``); ValueError for fractions and text."""
    text = text.strip()
    if not text:
        if required:
            raise ValueError(f"{name} is empty")
        return None
    if text.isdigit():  # the common case, fast
        value = int(text)
        if positive and not value:
            raise ValueError(f"{name} must be positive ({text!r})")
        return value
    number_, _ = parse_number(text.lstrip("~≈").strip(), name)
    if number_.is_finite() and number_.adjusted() > 18:
        # int() of 1e99999999 builds a hundred-million-digit integer: minutes of CPU for one bad cell.
        raise ValueError(f"{name} is out of range ({text[:40]!r})")
    if number_ != number_.to_integral_value():
        raise ValueError(f"{name} is not a whole number ({text!r})")
    if number_ < 0:
        raise ValueError(f"{name} is negative ({text!r})")
    if positive and number_ == 0:
        raise ValueError(f"{name} must be positive ({text!r})")
    return int(number_)


def decimal_cell(row: Row, name: str, *, required: bool = False, minimum: Decimal | None = None,
                 positive: bool = False, percent_to_fraction: bool = False) -> Decimal | None:
    """A numeric cell by column name (see :func:`number`); ``minimum=0`` refuses negatives."""
    return number(row.get(name), name, required=required, nonnegative=minimum is not None and minimum == 0,
                  positive=positive, percent_to_fraction=percent_to_fraction)


def int_cell(row: Row, name: str, *, required: bool = False, positive: bool = False) -> int | None:
    """A whole-number cell by column name (see :func:`whole`)."""
    return whole(row.get(name), name, required=required, positive=positive)


def year_cell(row: Row, name: str, *, required: bool = False) -> int | None:
    """A four-digit year between 1900 and 2200 (``20O7`` with a letter O is refused)."""
    text = row.get(name)
    if not text:
        if required:
            raise ValueError(f"{name} is empty")
        return None
    cleaned = text.strip()
    if cleaned.endswith(".0"):  # spreadsheets write years as floats
        cleaned = cleaned[:-2]
    if not re.fullmatch(r"\d{4}", cleaned):
        raise ValueError(f"{name} {text!r} is not a four-digit year")
    year = int(cleaned)
    if not 1900 <= year <= 2200:
        raise ValueError(f"{name} {year} is out of range (1900-2200)")
    return year


_TRUE = {"true", "yes", "y", "1", "t", "x", "estimate", "estimated"}
_FALSE = {"false", "no", "n", "0", "f", "", "-"}


def bool_cell(row: Row, name: str) -> bool:
    return flag(row.get(name), name)


def flag(value: str, name: str) -> bool:
    """true/false, yes/no, 1/0, x, blank (false)."""
    key = value.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{name} is not true/false ({value!r})")


_DATE_FORMATS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})"),
)


def date_cell(row: Row, name: str, *, required: bool = False) -> date | None:
    """An ISO date (``2024-06-01``, ``2024/06/01``, ``2024-06`` = the 1st); day-first forms are ambiguous, refused."""
    return day(row.get(name), name, required=required)


def day(text: str, name: str, *, required: bool = False) -> date | None:
    """A date cell's text; see :func:`date_cell`."""
    text = text.strip()
    if not text:
        if required:
            raise ValueError(f"{name} is empty")
        return None
    parsed = _date(text)
    if parsed is None:
        raise ValueError(f"{name} {text!r} is not a YYYY-MM-DD date")
    return parsed


@lru_cache(maxsize=8192)
def _date(text: str) -> date | None:
    value = text.split("T", 1)[0]
    for pattern in _DATE_FORMATS:
        match = pattern.fullmatch(value)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match.groupdict().get("d") or 1))
            except ValueError:
                return None
    return None


def text_cell(row: Row, name: str, *, required: bool = False, max_length: int = 300) -> str:
    """A text cell with runs of whitespace collapsed; ValueError when required and blank, or too long."""
    return text(row.get(name), name, required=required, max_length=max_length)


def text(value: str, name: str, *, required: bool = False, max_length: int = 300) -> str:
    """A text cell's text, stripped, with runs of whitespace collapsed; see :func:`text_cell`."""
    value = value.strip()
    if "  " in value or "\n" in value or "\t" in value:
        value = " ".join(value.split())
    if required and not value:
        raise ValueError(f"{name} is empty")
    bad = _CONTROL.search(value)
    if bad:
        raise ValueError(f"{name} holds the control character {escaped(bad.group())}")
    if _FORMULA.match(value):
        raise ValueError(f"{name} starts like a spreadsheet formula ({escaped(value)})")
    if len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    return value



# --- cell values a column at a time -------------------------------------------
# Exactly what the converters above return, for thousands of cells at once: a whole column is checked with a
# few C-level scans (a join, a regex, a max) and passes as it is when every cell is in the common form;
# otherwise each cell goes through the converter itself. Positions whose cell the converter refuses are
# returned, so the caller converts that row the ordinary way (which names the reason).

_FORMULA_LINE = re.compile(r"(?m)^(?:[=@]|[+-][^\d\s.,])")
# Possessive (never backtracking) quantifiers: they match the same cells, as no shorter match of a part can be
# followed by what comes after it, and the column check costs 0.08-0.17 us a cell instead of 0.22-1.0 us
# (money cells such as "1,234.50" made the backtracking pattern try each digit run three ways).
# tests/scrapers/test_csv_columns.py checks them against the backtracking pattern.
# ASCII digits only: other digits (which Decimal reads too) take number()'s own path.
_NUMBER = r"\$?+(?:[0-9]{1,3}+(?:,[0-9]{3})++|[0-9]++)(?:\.[0-9]++)?+|\$?+\.[0-9]++"
_NUMBER_CELL = re.compile(_NUMBER)
_NUMBER_COLUMN = re.compile(rf"(?:{_NUMBER})?+(?:\n(?:{_NUMBER})?+)*+")
FAILED: Any = object()  # a cell the converter refused (placeholder in a column)
_ZERO = Decimal(0)


def count_none(values: Sequence[Any]) -> int:
    """How many of ``values`` are None, by identity. ``values.count(None)`` (and ``None in values``) asks
    ``Decimal.__eq__(None)`` of every Decimal, which goes through the numbers ABCs: ~0.14 us a value, against
    ~0.015 us here (a 100,000-row import counts a numeric column's Nones several times)."""
    return sum(map(is_, values, repeat(None)))


def text_column(cells: Sequence[str], name: str, *, required: bool = False,
                max_length: int = 300) -> tuple[list[str], set[int]]:
    """:func:`text` of each cell, and the positions where it raised."""
    joined = "\n".join(cells)
    if (joined.count("\n") == len(cells) - 1 and "  " not in joined and "\t" not in joined
            and all(map(str.__eq__, map(str.strip, cells), cells)) and not _CONTROL.search(joined)
            and not _FORMULA_LINE.search(joined) and max(map(len, cells), default=0) <= max_length
            and not (required and "" in cells)):
        return list(cells), set()  # text() of a clean cell is the cell
    return _each(cells, lambda cell: text(cell, name, required=required, max_length=max_length), "")


def number_column(cells: Sequence[str], name: str, *, required: bool = False, nonnegative: bool = False,
                  positive: bool = False, percent_to_fraction: bool = False) -> tuple[list[Decimal | None], set[int]]:
    """:func:`number` of each cell, and the positions where it raised.

    A cell that is blank, a plain unsigned number, or one with ``$`` before it or ``,`` grouping thousands
    (``$1,234.50``: what spreadsheets write most) is, to :func:`number`, the Decimal of its digits: those
    are converted together; any other cell, or one number() might refuse (over 15 digits, a zero where it
    must be positive, a required blank), goes through number() itself.
    """
    def convert(cell: str) -> Decimal | None:
        return number(cell, name, required=required, nonnegative=nonnegative, positive=positive,
                      percent_to_fraction=percent_to_fraction)

    texts = list(cells)
    joined = "\n".join(texts)
    odd: list[int] = []
    if joined.count("\n") != len(texts) - 1 or not _NUMBER_COLUMN.fullmatch(joined):
        common = _NUMBER_CELL.fullmatch
        odd = [i for i, cell in enumerate(texts) if cell and not common(cell)]
        for i in odd:
            texts[i] = ""
        joined = "\n".join(texts)
    if "$" in joined or "," in joined:
        texts = joined.replace("$", "").replace(",", "").split("\n")
    values: list[Decimal | None] = [Decimal(text) if text else None for text in texts]
    if ((required and count_none(values)) or (positive and _ZERO in values)
            or max(map(len, texts), default=0) > MAX_NUMBER_DIGITS):
        odd += [i for i, (text, value) in enumerate(zip(texts, values, strict=True))
                if (value is None and required) or (positive and value is not None and not value)
                or len(text) > MAX_NUMBER_DIGITS]
    failed: set[int] = set()
    for i in odd:
        try:
            values[i] = convert(cells[i])
        except ValueError:
            values[i] = None
            failed.add(i)
    return values, failed


def _each(cells: Sequence[str], convert: Callable[[str], Any], placeholder: Any) -> tuple[list[Any], set[int]]:
    values: list[Any] = []
    failed: set[int] = set()
    for i, cell in enumerate(cells):
        try:
            values.append(convert(cell))
        except ValueError:
            values.append(placeholder)
            failed.add(i)
    return values, failed


class CellMemo(dict[str, Any]):
    """A converter's answer for each distinct cell text, kept: for columns of few distinct values (a model
    name, a date, a flag), where converting 100,000 cells is converting a few hundred texts.

    The converter must be a pure function of the cell text. At most ``limit`` answers are kept; past
    that the memo starts afresh, so a column of all-distinct cells costs memory of one batch, not a file.
    """

    def __init__(self, convert: Callable[[str], Any], placeholder: Any = None, limit: int = 4096) -> None:
        super().__init__()
        self.convert, self.placeholder, self.limit = convert, placeholder, limit

    def __missing__(self, cell: str) -> Any:
        try:
            value = self.convert(cell)
        except ValueError:
            value = FAILED
        if len(self) >= self.limit:
            self.clear()
        self[cell] = value
        return value

    def one(self, cell: str) -> Any:
        """The converted cell, as the converter gives it: a refused cell is converted again, to raise its own
        ValueError (for parsers that convert a row at a time and name the first refused cell)."""
        value = self[cell]
        return self.convert(cell) if value is FAILED else value

    def column(self, cells: Sequence[str]) -> tuple[list[Any], set[int]]:
        """The converted cells (``placeholder`` where refused) and the refused positions."""
        values = list(map(self.__getitem__, cells))
        if FAILED not in values:
            return values, set()
        failed = {i for i, value in enumerate(values) if value is FAILED}
        for i in failed:
            values[i] = self.placeholder
        return values, failed
