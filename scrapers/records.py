"""Typed records shared by every parser.

A parser is ``parse(data: bytes) -> ParseResult``. It never raises for a bad
row: the row becomes a ``Reject`` with a locator and a reason. It raises
``ParseError`` (one plain sentence) only when the file as a whole cannot be
read, in which case nothing of it is ingested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation, getcontext
from typing import Any

import numpy as np

MTOK = Decimal(1_000_000)

# A per-token price at or above this is not a price but an error in the sheet
# (the dearest real model costs about 0.0006 USD/token = 600 USD per 1M tokens).
# Inclusive: 0.01 USD per token, exactly this bound, is already absurd.
MAX_USD_PER_MTOK = Decimal(10_000)

# A price per request, image, second, query... at or above this is an error in
# the sheet too (the dearest real one is 220 USD per 1M audio tokens); without a
# bound, 1e308 USD per image would be stored and shown.
MAX_USD_PER_UNIT = Decimal(10_000)

# The deepest nesting load_json reads. The real documents nest at most 10
# levels (genai-prices); json's C decoder recurses once per level, so a
# document 200,000 levels deep would end in a RecursionError traceback.
MAX_JSON_DEPTH = 64
# The most values (containers and members) load_json decodes. The largest real
# document holds about 42,000 (LiteLLM 2026-07, 1.5 MB); a 50 MB file of tiny
# values would decode to over a GB of Python objects, this many to a few
# hundred MB at most.
MAX_JSON_VALUES = 1_000_000

# A number literal longer than this, or with a decimal exponent beyond
# +-MAX_EXPONENT, is not a number any source means: int() of a long digit
# string is quadratic, Decimal arithmetic past the context's exponent range
# (999999) raises Overflow or silently underflows to 0, and int() of 1E+9999999
# writes out ten million digits.
MAX_NUMBER_CHARS = 100
MAX_EXPONENT = 1000

# The per-token price columns of a PriceRecord, in USD per 1M tokens; the
# pricing tables store exactly these (apps.pricing.models.COMPONENTS).
TOKEN_PRICE_FIELDS = (
    "input_usd_per_mtok",
    "output_usd_per_mtok",
    "cached_input_usd_per_mtok",
    "cache_write_usd_per_mtok",
    "reasoning_usd_per_mtok",
)

SERVICE_TIERS = ("standard", "batch", "flex", "priority", "off_peak")

# Labels for prices that are not plain numbers; a labelled price never ranks
# as the cheapest offer.
LABEL_FREE = "free"
LABEL_VARIABLE = "variable"
LABEL_UNKNOWN = "unknown"


class ParseError(Exception):
    """The file as a whole cannot be parsed; the message is one plain sentence."""


@dataclass(frozen=True)
class Reject:
    """A row that could not be used, kept in quarantine with where and why."""

    locator: str  # JSON key / path or CSV line number, e.g. "gpt-4o" or "line 12"
    reason: str
    raw_excerpt: str = ""


@dataclass(frozen=True)
class UnitPrice:
    """A price that is not per token: per request, image, second, character..."""

    name: str  # e.g. "input_cost_per_image", "request"
    unit: str  # e.g. "image", "request", "second", "character", "1k_requests"
    usd_per_unit: Decimal


@dataclass(frozen=True)
class PriceRecord:
    """One offering's price, as one source states it.

    ``source_model_id`` is the raw id in the source (the alias to resolve).
    An offering is (provider, source_model_id, region, service_tier,
    min_prompt_tokens). All token prices are exact Decimals in USD per 1M
    tokens; ``None`` means the source does not give that component.
    ``effective_from``/``effective_to`` are set only by sources that state
    dates ([from, to), None = open); otherwise the snapshot time decides.
    """

    source_model_id: str
    provider_key: str
    model_name: str = ""
    region: str = ""
    service_tier: str = "standard"
    min_prompt_tokens: int = 0  # long-context tier: applies above this many prompt tokens
    mode: str = "chat"
    input_usd_per_mtok: Decimal | None = None
    output_usd_per_mtok: Decimal | None = None
    cached_input_usd_per_mtok: Decimal | None = None
    cache_write_usd_per_mtok: Decimal | None = None
    reasoning_usd_per_mtok: Decimal | None = None
    unit_prices: tuple[UnitPrice, ...] = ()
    price_label: str = ""  # "", LABEL_FREE, LABEL_VARIABLE, LABEL_UNKNOWN
    effective_from: date | None = None
    effective_to: date | None = None
    stated_dates: bool = False  # True when the source gives the validity interval
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    # What the source says of the model itself, not of the price: the kinds of input it takes
    # ("text", "image", "audio", "video"), when it was released or listed (OpenRouter's ``created``) and
    # whether its weights are published (OpenRouter names a Hugging Face repository). None / () = not said.
    input_modalities: tuple[str, ...] = ()
    released_on: date | None = None
    open_weights: bool | None = None


@dataclass
class ParseResult:
    records: list[Any] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # A time the document states for itself (LiteLLM mirror's "last_updated",
    # LLMTracker's "fetched_at"); None when the file does not say.
    observed_at: datetime | None = None


@dataclass(frozen=True, repr=False)
class BadNumber:
    """A JSON number no source can mean: NaN/Infinity, or a literal out of range.

    The decoder returns it in place of the number, so the row holding it is
    quarantined with a reason (``to_decimal`` refuses it) instead of the file
    failing or a float NaN slipping into the money.
    """

    text: str

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def shorten(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: a reason must stay one short line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_repr(value: Any, limit: int = 40) -> str:
    """repr() for a reason, cut short: a 50 MB string must not become a 50 MB message."""
    return shorten(repr(value), limit)


def _json_float(text: str) -> Decimal | BadNumber:
    if len(text) > MAX_NUMBER_CHARS:
        return BadNumber(shorten(text))
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal holds at all (1e99999999999999999999)
        return BadNumber(text)
    if value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        return BadNumber(text)
    return value


def _json_int(text: str) -> int | BadNumber:
    # Python refuses int() of more than 4300 digits with a ValueError that would
    # fail the whole file; a number that long is one bad value, not a bad file.
    if len(text) > MAX_NUMBER_CHARS:
        return BadNumber(shorten(text))
    return int(text)


def _json_constant(text: str) -> BadNumber:
    return BadNumber(text)  # NaN, Infinity, -Infinity: not JSON, and never a price


# JSON's structural bytes; a '"' (34) toggles in and out of strings once
# escapes are gone.
_DEPTH_STEP = np.zeros(256, dtype=np.int8)
_DEPTH_STEP[[ord("["), ord("{")]] = 1
_DEPTH_STEP[[ord("]"), ord("}")]] = -1
_STARTS_VALUE = np.zeros(256, dtype=bool)  # a container opens, or a comma starts the next member
_STARTS_VALUE[[ord("["), ord("{"), ord(",")]] = True
_QUOTE = ord('"')
# Every other byte is dropped before the vector scan (a real document keeps a tenth to a fifth of its bytes).
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'"[]{},')
_SCAN_CHUNK = 1 << 20  # bytes per vector step: a few MB of scratch whatever the file size


@dataclass(frozen=True)
class JsonShape:
    depth: int  # how deep arrays and objects nest
    values: int  # containers opened plus commas: about how many values decoding would build


def json_shape(data: bytes) -> JsonShape:
    """How deep a JSON document nests and about how many values it holds, without decoding it.

    Brackets and commas inside strings do not count. Linear, with a copy of
    the bytes and a few MB of scratch: the escapes that can hide a quote go
    first (escaped backslashes, then escaped quotes, left to right as a decoder
    reads them), after which every '"' opens or closes a string, so a running
    count of quotes says which bytes are text. Invalid JSON gets an estimate;
    the decoder then says what is wrong with it.
    """
    plain = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURAL)
    codes = np.frombuffer(plain, dtype=np.uint8)
    depth = deepest = values = 0
    in_string = 0
    for start in range(0, len(codes), _SCAN_CHUNK):
        chunk = codes[start : start + _SCAN_CHUNK]
        # Only the parity of the running quote count matters: uint8 wraps but keeps it.
        outside = ((np.cumsum(chunk == _QUOTE, dtype=np.uint8) + in_string) & 1) == 0
        levels = np.cumsum(np.where(outside, _DEPTH_STEP[chunk], 0), dtype=np.int32)  # |level| <= chunk size
        deepest = max(deepest, depth + int(levels.max()))
        depth += int(levels[-1])
        values += int(np.count_nonzero(outside & _STARTS_VALUE[chunk]))
        in_string = 0 if outside[-1] else 1
    return JsonShape(depth=deepest, values=values)


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of a JSON document nest (see json_shape)."""
    return json_shape(data).depth


def _check_shape(data: bytes) -> str:
    """Why a document must not be decoded ("" when it may): too deep, or too many values."""
    shape = json_shape(data)
    if shape.depth > MAX_JSON_DEPTH:
        return f"the JSON nests {shape.depth} levels deep (limit {MAX_JSON_DEPTH}), which no price document does"
    if shape.values > MAX_JSON_VALUES:
        return (f"the JSON holds about {shape.values:,} values (limit {MAX_JSON_VALUES:,}), "
                "far more than any price document")
    return ""


def load_json(data: bytes, *, expect: type) -> Any:
    """Decode bytes as JSON with floats as Decimal, or raise one clear ParseError.

    Numbers no source can mean (NaN, Infinity, out-of-range literals) come back
    as ``BadNumber`` so that only their row is quarantined.
    """
    if not data or not data.strip():
        raise ParseError("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"the file is not UTF-8 text (bad byte at offset {exc.start})") from None
    stripped = text.lstrip()
    if stripped[:1] == "<":
        raise ParseError("the file is HTML, not JSON (an error page served in place of the data?)")
    # Checked before decoding: the decoder recurses per level and would end in a
    # RecursionError (a traceback, not a message), and 50 MB of tiny values
    # decodes to well over a GB of Python objects.
    refusal = _check_shape(data)
    if refusal:
        raise ParseError(refusal)
    value = _decode(text)
    if not isinstance(value, expect):
        want = "a JSON object" if expect is dict else "a JSON array"
        got = type(value).__name__
        raise ParseError(f"expected {want} at the top level, got {got}")
    return value


def _decode(text: str) -> Any:
    try:
        return json.loads(text, parse_float=_json_float, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"the file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}; truncated?)"
        ) from None
    except (RecursionError, MemoryError):
        # Belt and braces behind the depth check: whatever gets past it ends as a message.
        raise ParseError("the JSON is too deeply nested or too large to read") from None


def loads_nested_json(text: str) -> Any:
    """Decode JSON held in a string field (a document inside a document) the guarded way.

    ValueError, one short sentence, for anything unreadable: invalid, too deep,
    too large.
    """
    refusal = _check_shape(text.encode("utf-8", "surrogatepass"))
    if refusal:
        raise ValueError(refusal)
    try:
        return _decode(text)
    except ParseError as exc:
        raise ValueError(str(exc)) from None


def to_decimal(value: Any) -> Decimal:
    """Exact Decimal from a JSON number or numeric string; ValueError otherwise.

    Refuses NaN, infinities and exponents beyond +-MAX_EXPONENT, so that every
    later product, quantize() or int() of the result is cheap and exact.
    """
    if isinstance(value, bool) or value is None or isinstance(value, BadNumber):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # Only reached if a caller decoded without parse_float=Decimal; repr is
        # the shortest string that round-trips, so no binary artefacts.
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise ValueError(f"not a number: {short_repr(value)}")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {short_repr(value)}") from None
    else:
        raise ValueError(f"not a number: {short_repr(value)}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {short_repr(value)}")
    if result and not -MAX_EXPONENT <= result.adjusted() <= MAX_EXPONENT:
        raise ValueError(f"not a number: {short_repr(value)} is out of range")
    return result


def per_token_to_per_mtok(value: Any) -> Decimal:
    """USD per token -> USD per 1M tokens, exactly (2.5e-06 -> 2.5)."""
    return normalize(to_decimal(value) * MTOK)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without going to exponent notation (2.50 -> 2.5, 1E+1 -> 10).

    Never raises: an integer longer than the context precision (1E+314) keeps its
    exponent form, because quantize() cannot write it out (InvalidOperation);
    such a value is absurd wherever it comes from, and the bound checks say so.
    """
    try:
        value = value.normalize()
    except ArithmeticError:  # an exponent beyond the context (only from unchecked input): leave it be
        return value
    if value.adjusted() < getcontext().prec and value == value.to_integral():
        return value.quantize(Decimal(1))
    return value


def check_usd_per_mtok(value: Decimal, what: str) -> Decimal:
    """Refuse negative and absurd (>= MAX_USD_PER_MTOK) per-token prices (ValueError with a reason)."""
    if value < 0:
        raise ValueError(f"{what} is negative ({value} USD per 1M tokens)")
    if value >= MAX_USD_PER_MTOK:
        raise ValueError(f"{what} is absurd ({value} USD per 1M tokens, at or above {MAX_USD_PER_MTOK})")
    return value


def check_usd_per_unit(value: Decimal, what: str, unit: str) -> Decimal:
    """Refuse negative and absurd (>= MAX_USD_PER_UNIT) prices per request, image, second... (ValueError)."""
    if value < 0:
        raise ValueError(f"{what} is negative ({value} USD per {unit})")
    if value >= MAX_USD_PER_UNIT:
        raise ValueError(f"{what} is absurd ({value} USD per {unit}, at or above {MAX_USD_PER_UNIT})")
    return value


def excerpt(value: Any, limit: int = 500) -> str:
    """A short JSON excerpt of a bad row for the quarantine table."""
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_model_id_and_name(model: dict[str, Any], where: str, prefix: str,
                           result: ParseResult) -> tuple[str, str, str] | None:
    """(stripped id, name: "" when absent, not stripped, locator = ``prefix`` + id) of a model entry,
    or None after a Reject: at ``where`` for a missing or blank id, at the locator for a bad name."""
    model_id = model.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        result.rejects.append(Reject(where, "the model has no id string", excerpt(model)))
        return None
    model_id = model_id.strip()
    locator = prefix + model_id
    name = model.get("name")
    if name is None:
        name = ""
    if not isinstance(name, str):
        result.rejects.append(Reject(locator, f"the model name is not a string ({name!r})", excerpt(model)))
        return None
    return model_id, name, locator


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 time a document states for itself (naive = UTC); None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
