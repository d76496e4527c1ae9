"""Parser for LiteLLM's model cost map (``model_prices_and_context_window.json``).

The file is one JSON object keyed by model name; each value is a flat object of
prices (USD per token, or per image/second/character/... as the field suffix
says), limits and capability flags. Service tiers (``_batches``, ``_flex``,
``_priority``) and long-context tiers (``_above_200k_tokens``) are encoded as
field-name suffixes, so one entry becomes one ``PriceRecord`` per
(service tier, min prompt tokens) that has a token price.

Pure: bytes in, records out; no Django, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from scrapers.records import (
    LABEL_FREE,
    LABEL_UNKNOWN,
    ParseResult,
    PriceRecord,
    Reject,
    UnitPrice,
    check_usd_per_mtok,
    check_usd_per_unit,
    excerpt,
    load_json,
    normalize,
    parse_timestamp,
    per_token_to_per_mtok,
    short_repr,
    to_decimal,
)

# Top-level keys that are not models: the field documentation, the newest
# files' alias rules, and the RoCry mirror's own timestamp.
SKIP_KEYS = frozenset({"sample_spec", "fallback_generalizations", "last_updated"})

# Base field name (suffixes stripped) -> PriceRecord column, all USD per token.
TOKEN_COLUMNS: dict[str, str] = {
    "input_cost_per_token": "input_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "cache_read_input_token_cost": "cached_input_usd_per_mtok",
    "cache_creation_input_token_cost": "cache_write_usd_per_mtok",
    "output_cost_per_reasoning_token": "reasoning_usd_per_mtok",
}

# DeepSeek-style older name for the cache-read price; used only when the entry
# does not also give cache_read_input_token_cost (they agree where both occur).
CACHE_HIT_FIELD = "input_cost_per_token_cache_hit"

SERVICE_TIER_SUFFIXES: dict[str, str] = {
    "_batches": "batch",
    "_batch_requests": "batch",  # older Vertex embedding name for the batch price
    "_flex": "flex",
    "_priority": "priority",
}

# Modes priced by the token: an entry of these modes without a token price has
# nothing comparable, whatever per-second or per-character price it carries.
TOKEN_MODES = frozenset({"", "chat", "completion", "embedding", "responses", "realtime", "moderation"})

# <base>[_above_1hr][_above_<N>k_tokens][_batches|_flex|_priority]; the lazy base
# makes the optional suffixes match when present.
_FIELD_RE = re.compile(
    r"^(?P<base>.+?)(?P<hour>_above_1hr)?(?:_above_(?P<k>\d+)k_tokens)?"
    r"(?P<tier>_batches|_batch_requests|_flex|_priority)?$"
)

# The first "per_<unit>" names the unit; longer alternatives come first.
_UNIT_RE = re.compile(
    r"per_(?P<unit>1k_tokens|1k_calls|gb_per_day|audio_per_second|video_per_second"
    r"|audio_token|image_token|video_token|token|image|second|character|query|request"
    r"|page|pixel|session|credit)(?:_|$)"
)
# cache_read_input_audio_token_cost and friends name the unit before "_token_cost".
_MODALITY_TOKEN_COST_RE = re.compile(r"_(?P<modality>audio|image|video)_token_cost$")

_UNIT_NAMES: dict[str, str] = {
    "gb_per_day": "gb_day",
    "audio_per_second": "audio_second",
    "video_per_second": "video_second",
}
# Per-token unit prices are stated per 1M tokens like the token columns.
_PER_TOKEN_UNITS: dict[str, str] = {
    "token": "1m_tokens",
    "audio_token": "1m_audio_tokens",
    "image_token": "1m_image_tokens",
    "video_token": "1m_video_tokens",
}

# bedrock/<aws-region>/...: us-east-1, eu-west-3, ap-northeast-1, us-gov-west-1...
_AWS_REGION_RE = re.compile(r"^(?:us-gov|[a-z]{2})-[a-z]+-\d+$")
# Bedrock cross-region inference profiles: "us.anthropic.claude-…", "apac.amazon.nova-…".
_GEO_PROFILE_RE = re.compile(r"^(?P<geo>us-gov|us|eu|apac|jp|au|ca|global)\.[a-z]")
# Azure data zones / global deployments: "azure/eu/gpt-4o-…", "azure_ai/global/grok-3".
_DATA_ZONES: dict[str, dict[str, str]] = {
    "azure": {"eu": "eu", "us": "us", "global": "global", "global-standard": "global"},
    "azure_ai": {"global": "global"},
}


class RowError(ValueError):
    """One field of an entry is unusable; the whole entry is rejected."""


@dataclass(frozen=True)
class _Field:
    kind: str  # "token", "cache_hit", "unit", "skip"
    target: str  # column name for "token"; unit for "unit"
    per_token: bool  # unit price stated per token: convert to per 1M
    tier: str
    min_prompt_tokens: int


@lru_cache(maxsize=1024)
def _classify(name: str) -> _Field:
    """What a *cost* field is, from its name alone (cached: real files have ~80 names)."""
    match = _FIELD_RE.match(name)
    if match is None:  # only the empty name, which never contains "cost"
        return _Field("skip", "", False, "standard", 0)
    base = match["base"]
    tier = SERVICE_TIER_SUFFIXES[match["tier"]] if match["tier"] else "standard"
    min_prompt = int(match["k"]) * 1000 if match["k"] else 0
    if "dbu_cost" in name or "_db_cost" in name:
        # Databricks DBUs per token, not USD: the USD price is in input_cost_per_token.
        field = _Field("skip", "", False, tier, min_prompt)
    elif base in TOKEN_COLUMNS and not match["hour"]:
        field = _Field("token", TOKEN_COLUMNS[base], True, tier, min_prompt)
    elif base == CACHE_HIT_FIELD:
        field = _Field("cache_hit", "cached_input_usd_per_mtok", True, tier, min_prompt)
    elif base == "cache_creation_input_token_cost":
        # "_above_1hr" is the 1-hour-TTL cache write, not a context tier; the
        # columns hold the default (5-minute) write price, so keep it aside.
        field = _Field("unit", "1m_tokens", True, tier, min_prompt)
    else:
        unit, per_token = _unit_of(base)
        field = _Field("unit", unit, per_token, tier, min_prompt)
    return field


def _unit_of(base: str) -> tuple[str, bool]:
    modality = _MODALITY_TOKEN_COST_RE.search(base)
    if modality:
        return _PER_TOKEN_UNITS[f"{modality['modality']}_token"], True
    match = _UNIT_RE.search(base)
    if match is None:
        # A cost field litellm adds later with a unit we do not know yet: keep
        # the number, but say plainly that the unit is not known.
        return "unknown", False
    unit = match["unit"]
    if unit in _PER_TOKEN_UNITS:
        return _PER_TOKEN_UNITS[unit], True
    return _UNIT_NAMES.get(unit, unit), False


def extract_region(key: str, provider: str) -> str:
    """The region a LiteLLM key encodes ("us-east-1", "eu", "apac", ...), or ""."""
    parts = key.split("/")
    for part in parts[1:-1]:
        if _AWS_REGION_RE.match(part):
            return part
    zones = _DATA_ZONES.get(parts[0])
    if zones and len(parts) >= 3 and parts[1] in zones:
        return zones[parts[1]]
    if provider.startswith("bedrock"):
        profile = _GEO_PROFILE_RE.match(parts[-1])
        if profile:
            return profile["geo"]
    # Vertex "model@001" suffixes are versions, not regions; "bedrock/*/" is any region.
    return ""


def _number(value: Any, what: str) -> Decimal:
    # to_decimal refuses NaN, infinities and out-of-range exponents (a BadNumber
    # from the decoder prints as its literal), so what comes back is safe to
    # multiply and normalize.
    if isinstance(value, str):
        raise RowError(f"{what} is a string ({short_repr(value)}), not a number")
    try:
        return to_decimal(value)
    except ValueError:
        raise RowError(f"{what} is not a number ({short_repr(value)})") from None


def _token_price(value: Any, what: str) -> Decimal:
    price = per_token_to_per_mtok(_number(value, what))
    try:
        return check_usd_per_mtok(price, what)
    except ValueError as exc:
        raise RowError(str(exc)) from None


def _unit_price(name: str, unit: str, per_token: bool, value: Any) -> UnitPrice:
    if per_token:
        return UnitPrice(name=name, unit=unit, usd_per_unit=_token_price(value, name))
    try:
        price = check_usd_per_unit(normalize(_number(value, name)), name, unit)
    except ValueError as exc:
        raise RowError(str(exc)) from None
    return UnitPrice(name=name, unit=unit, usd_per_unit=price)


def _as_int(value: Any) -> int | None:
    """A token limit as int (2000000.0 -> 2000000); None if not a whole number."""
    if isinstance(value, bool):
        return None
    try:
        number = to_decimal(value)
    except ValueError:
        return None
    if number < 0 or number != number.to_integral_value():
        return None
    return int(number)


class _Group:
    """Prices of one (service tier, min prompt tokens) offering of an entry."""

    __slots__ = ("columns", "fallbacks", "units")

    def __init__(self) -> None:
        self.columns: dict[str, Decimal] = {}
        self.fallbacks: dict[str, Decimal] = {}
        self.units: list[UnitPrice] = []


def _collect(entry: dict[str, Any]) -> dict[tuple[str, int], _Group]:
    groups: dict[tuple[str, int], _Group] = {}

    def group(tier: str, min_prompt: int) -> _Group:
        found = groups.get((tier, min_prompt))
        if found is None:
            found = groups[(tier, min_prompt)] = _Group()
        return found

    group("standard", 0)
    for name, value in entry.items():
        if "cost" not in name or value is None:
            continue  # null is JSON for "not given"
        if name == "search_context_cost_per_query":
            group("standard", 0).units.extend(_search_context(value))
            continue
        field = _classify(name)
        if field.kind == "skip":
            continue
        target = group(field.tier, field.min_prompt_tokens)
        if field.kind == "token":
            target.columns[field.target] = _token_price(value, name)
        elif field.kind == "cache_hit":
            target.fallbacks[field.target] = _token_price(value, name)
        else:
            target.units.append(_unit_price(name, field.target, field.per_token, value))
    if "tiered_pricing" in entry:
        _collect_tiered(entry["tiered_pricing"], group)
    return groups


def _search_context(value: Any) -> list[UnitPrice]:
    name = "search_context_cost_per_query"
    if not isinstance(value, dict):
        return [_unit_price(name, "query", False, value)]
    return [_unit_price(f"{name}.{size}", "query", False, price) for size, price in value.items()]


def _collect_tiered(tiers: Any, group: Callable[[str, int], _Group]) -> None:
    """``tiered_pricing``: [{prices..., "range": [lo, hi]}] by prompt tokens (dashscope,
    volcengine), or [{"input_cost_per_query", "max_results_range": [lo, hi]}] (search)."""
    if not isinstance(tiers, list):
        raise RowError("tiered_pricing is not a list")
    for index, tier in enumerate(tiers):
        where = f"tiered_pricing[{index}]"
        if not isinstance(tier, dict):
            raise RowError(f"{where} is not an object")
        if "range" in tier:
            target = group("standard", _range_start(tier["range"], where))
            suffix = ""
        else:
            # Not a prompt-token tier: the prices stay unit prices of the standard
            # record, named after the range they apply to.
            target = group("standard", 0)
            span = next((key for key in tier if key.endswith("_range")), "")
            bounds = tier.get(span)
            if isinstance(bounds, list):
                suffix = f"[{span}={'-'.join(str(_as_int(b)) for b in bounds)}]"
            else:
                suffix = f"[{index}]"
        for name, value in tier.items():
            if "cost" not in name or value is None:
                continue
            field = _classify(name)
            if field.kind == "skip":
                continue
            if suffix or field.kind == "unit":
                unit = field.target if field.kind == "unit" else "1m_tokens"
                label = f"{name}{suffix}" if suffix else f"{where}.{name}"
                target.units.append(_unit_price(label, unit, field.per_token, value))
            else:
                # A flat field for the same component wins; tiers only fill gaps.
                target.columns.setdefault(field.target, _token_price(value, f"{where}.{name}"))


def _range_start(value: Any, where: str) -> int:
    if not isinstance(value, list) or len(value) != 2:
        raise RowError(f"{where}.range is not a [low, high] pair")
    low = _as_int(value[0])
    if low is None:
        raise RowError(f"{where}.range starts with {value[0]!r}, not a whole number of tokens")
    return low


def _label(columns: dict[str, Decimal], units: list[UnitPrice], mode: str, standard: bool) -> str:
    if columns:
        if all(v == 0 for v in columns.values()) and all(u.usd_per_unit == 0 for u in units):
            return LABEL_FREE
        return ""
    if standard and (not units or mode in TOKEN_MODES):
        return LABEL_UNKNOWN
    return ""


# Capability flags that say what a model takes in besides text (a flag set to anything but true says nothing).
_INPUT_FLAGS = (("supports_vision", "image"), ("supports_audio_input", "audio"), ("supports_video_input", "video"))


def _input_modalities(entry: dict[str, Any]) -> tuple[str, ...]:
    """The kinds of input the entry says the model takes: ``supported_modalities`` where given, else its flags."""
    listed = entry.get("supported_modalities")
    found = {m.strip().lower() for m in listed if isinstance(m, str)} if isinstance(listed, list) else set()
    found.update(kind for flag, kind in _INPUT_FLAGS if entry.get(flag) is True)
    return tuple(sorted(found))


def _parse_entry(key: str, entry: dict[str, Any]) -> list[PriceRecord]:
    provider = entry.get("litellm_provider")
    if not isinstance(provider, str) or not provider.strip():
        raise RowError("litellm_provider is missing or not a string")
    mode = entry.get("mode", "")
    if not isinstance(mode, str):
        raise RowError(f"mode is not a string ({mode!r})")
    groups = _collect(entry)
    for grp in groups.values():
        for column, value in grp.fallbacks.items():
            grp.columns.setdefault(column, value)

    standard = groups.pop(("standard", 0))
    extra: list[tuple[tuple[str, int], _Group]] = []
    for tier_key, grp in sorted(groups.items()):
        if grp.columns:
            extra.append((tier_key, grp))
        else:
            # A tier with only unit prices (e.g. input_cost_per_image_above_128k_tokens
            # where the tokens have no 128k tier) is not an offering of its own.
            standard.units.extend(grp.units)

    common = {
        "source_model_id": key,
        "provider_key": provider,
        "region": extract_region(key, provider),
        "mode": mode,
        "max_input_tokens": _as_int(entry.get("max_input_tokens")),
        "max_output_tokens": _as_int(entry.get("max_output_tokens")),
        "input_modalities": _input_modalities(entry),
    }
    records = [_record(common, "standard", 0, standard, mode, is_standard=True)]
    # Tier records carry only the prices stated for that tier: litellm states
    # every tier's components explicitly, and copying the standard cache price
    # into a batch or 200k tier would invent a price the source does not give.
    records.extend(_record(common, tier, low, grp, mode, is_standard=False) for (tier, low), grp in extra)
    return records


def _record(
    common: dict[str, Any], tier: str, low: int, grp: _Group, mode: str, *, is_standard: bool
) -> PriceRecord:
    return PriceRecord(
        **common,
        service_tier=tier,
        min_prompt_tokens=low,
        unit_prices=tuple(grp.units),
        price_label=_label(grp.columns, grp.units, mode, is_standard),
        **grp.columns,
    )



def parse(data: bytes) -> ParseResult:
    """Parse one LiteLLM cost map; bad entries become Rejects, never exceptions."""
    document: dict[str, Any] = load_json(data, expect=dict)
    result = ParseResult()
    if "last_updated" in document:
        result.observed_at = parse_timestamp(document["last_updated"])
        if result.observed_at is None:
            result.rejects.append(
                Reject(
                    "last_updated",
                    "last_updated is not an ISO timestamp",
                    excerpt(document["last_updated"]),
                )
            )
    for key, entry in document.items():
        if key in SKIP_KEYS:
            continue
        if not isinstance(entry, dict):
            result.rejects.append(
                Reject(key, f"the entry is a {type(entry).__name__}, not an object", excerpt(entry))
            )
            continue
        try:
            result.records.extend(_parse_entry(key, entry))
        except RowError as exc:
            result.rejects.append(Reject(key, str(exc), excerpt(entry)))
    return result
