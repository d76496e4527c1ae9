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
from decimal import Decimal, InvalidOperation
from typing import Any

MTOK = Decimal(1_000_000)

# A per-token price above this is not a price but an error in the sheet (the
# dearest real model costs about 0.0006 USD/token = 600 USD per 1M tokens).
MAX_USD_PER_MTOK = Decimal(10_000)

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


@dataclass
class ParseResult:
    records: list[Any] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # A time the document states for itself (LiteLLM mirror's "last_updated",
    # LLMTracker's "fetched_at"); None when the file does not say.
    observed_at: datetime | None = None


def load_json(data: bytes, *, expect: type) -> Any:
    """Decode bytes as JSON with floats as Decimal, or raise one clear ParseError."""
    if not data or not data.strip():
        raise ParseError("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"the file is not UTF-8 text (bad byte at offset {exc.start})") from None
    stripped = text.lstrip()
    if stripped[:1] == "<":
        raise ParseError("the file is HTML, not JSON (an error page served in place of the data?)")
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"the file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}; truncated?)"
        ) from None
    if not isinstance(value, expect):
        want = "a JSON object" if expect is dict else "a JSON array"
        got = type(value).__name__
        raise ParseError(f"expected {want} at the top level, got {got}")
    return value


def to_decimal(value: Any) -> Decimal:
    """Exact Decimal from a JSON number or numeric string; ValueError otherwise."""
    if isinstance(value, bool) or value is None:
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
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def per_token_to_per_mtok(value: Any) -> Decimal:
    """USD per token -> USD per 1M tokens, exactly (2.5e-06 -> 2.5)."""
    return normalize(to_decimal(value) * MTOK)


def normalize(value: Decimal) -> Decimal:
    """Drop trailing zeros without going to exponent notation (2.50 -> 2.5, 1E+1 -> 10)."""
    value = value.normalize()
    if value == value.to_integral():
        return value.quantize(Decimal(1))
    return value


def check_usd_per_mtok(value: Decimal, what: str) -> Decimal:
    """Refuse negative and absurd per-token prices (ValueError with a reason)."""
    if value < 0:
        raise ValueError(f"{what} is negative ({value} USD per 1M tokens)")
    if value > MAX_USD_PER_MTOK:
        raise ValueError(f"{what} is absurd ({value} USD per 1M tokens, above {MAX_USD_PER_MTOK})")
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
