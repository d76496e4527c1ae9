"""Parser for OpenRouter's model list (``GET /api/v1/models``).

The response is ``{"data": [model, ...]}``; archivers wrap it (LLMTracker adds
``source``/``fetched_at``/``api_url``/``model_count``, token-tariff adds
``total_count``/``links``). Prices are strings of USD per token (or per
request/search for the non-token keys); ``"-1"`` marks router models whose
price depends on the model they route to. OpenRouter is the seller, so every
record's provider is ``"openrouter"``.

Pure: bytes in, records out; no Django, no I/O.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from scrapers.records import (
    LABEL_FREE,
    LABEL_VARIABLE,
    ParseError,
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

PROVIDER_KEY = "openrouter"

# pricing key -> PriceRecord column (USD per token in the source).
TOKEN_KEYS: dict[str, str] = {
    "prompt": "input_usd_per_mtok",
    "completion": "output_usd_per_mtok",
    "input_cache_read": "cached_input_usd_per_mtok",
    "input_cache_write": "cache_write_usd_per_mtok",
    "internal_reasoning": "reasoning_usd_per_mtok",
}

# pricing key -> (unit, stated per token). Per-token ones are converted to per
# 1M tokens like the columns; the others are USD per one unit as stated.
UNIT_KEYS: dict[str, tuple[str, bool]] = {
    "request": ("request", False),
    "image": ("image", False),  # per input image (OpenRouter's documented meaning)
    "web_search": ("search", False),
    "audio": ("1m_audio_tokens", True),
    "input_audio_cache": ("1m_audio_tokens", True),
    "audio_output": ("1m_audio_tokens", True),
    "image_output": ("1m_image_tokens", True),
    "input_cache_write_1h": ("1m_tokens", True),  # 1-hour-TTL cache write
}

# The sentinel for "depends on the routed model" (openrouter/auto, /fusion...).
VARIABLE_SENTINEL = Decimal(-1)


class RowError(ValueError):
    """One price of a model is unusable; the whole model is rejected."""


def _price(value: Any, what: str) -> Decimal | None:
    """Exact Decimal of one price string; None for the "-1" sentinel."""
    try:
        # Refuses NaN, infinities and out-of-range exponents: what comes back is
        # safe to multiply and normalize.
        number = to_decimal(value)
    except ValueError:
        raise RowError(f"pricing.{what} is not a number ({short_repr(value)})") from None
    if number == VARIABLE_SENTINEL:
        return None
    if number < 0:
        raise RowError(f"pricing.{what} is negative ({value!r})")
    return number


def _token_price(value: Any, what: str) -> Decimal | None:
    number = _price(value, what)
    if number is None:
        return None
    try:
        return check_usd_per_mtok(per_token_to_per_mtok(number), f"pricing.{what}")
    except ValueError as exc:
        raise RowError(str(exc)) from None


def _unit_price(value: Any, what: str, unit: str) -> Decimal | None:
    number = _price(value, what)
    if number is None:
        return None
    try:
        return check_usd_per_unit(number, f"pricing.{what}", unit)
    except ValueError as exc:
        raise RowError(str(exc)) from None


class _Prices:
    """Token columns and unit prices read from one pricing object."""

    def __init__(self) -> None:
        self.columns: dict[str, Decimal | None] = {}
        self.units: dict[str, UnitPrice] = {}
        self.variable = False


def _read_prices(pricing: dict[str, Any], where: str) -> _Prices:
    prices = _Prices()
    for key, value in pricing.items():
        if value is None:
            continue
        if key in TOKEN_KEYS:
            column = TOKEN_KEYS[key]
            number = _token_price(value, f"{where}{key}")
            if number is None:
                prices.variable = True
            elif key == "internal_reasoning" and number == 0:
                # Older snapshots fill "0" for every model: reasoning tokens are
                # billed as completion tokens, not free, so "0" means "no own price".
                continue
            prices.columns[column] = number
        elif key in UNIT_KEYS:
            unit, per_token = UNIT_KEYS[key]
            number = _token_price(value, f"{where}{key}") if per_token else _unit_price(value, f"{where}{key}", unit)
            if number is None:
                prices.variable = True
            elif number != 0:
                # Older snapshots list "0" for every unused key; 2026 drops them.
                # Dropping zeros keeps the snapshots comparable.
                prices.units[key] = UnitPrice(name=key, unit=unit, usd_per_unit=normalize(number))
        # Other keys (e.g. "discount", "overrides") are not prices of this offering.
    return prices


def _label(prices: _Prices) -> str:
    if prices.variable:
        return LABEL_VARIABLE
    given = [v for v in prices.columns.values() if v is not None]
    # Zero tokens with a paid request or search is not free (units hold no zeros).
    if given and all(v == 0 for v in given) and not prices.units:
        return LABEL_FREE
    return ""


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = to_decimal(value)
    except ValueError:
        return None
    if number < 0 or number != number.to_integral_value():
        return None
    return int(number)


def _input_modalities(architecture: Any) -> tuple[str, ...]:
    listed = architecture.get("input_modalities") if isinstance(architecture, dict) else None
    if not isinstance(listed, list):
        return ()
    return tuple(sorted({m.strip().lower() for m in listed if isinstance(m, str) and m.strip()}))


# OpenRouter started listing models in 2023; a "created" outside these years is not a listing date.
_CREATED_YEARS = range(2020, 2101)


def _created_on(created: Any) -> date | None:
    """OpenRouter's ``created`` (unix seconds): the day the model was listed, which for new models is about
    their release; None when missing or not a plausible time."""
    if isinstance(created, Decimal) and created == created.to_integral_value():
        created = int(created)
    if isinstance(created, bool) or not isinstance(created, int):
        return None
    try:
        day = datetime.fromtimestamp(created, tz=UTC).date()
    except (OverflowError, OSError, ValueError):
        return None
    return day if day.year in _CREATED_YEARS else None


def _parse_model(model: dict[str, Any], model_id: str) -> list[PriceRecord]:
    pricing = model.get("pricing")
    if not isinstance(pricing, dict):
        raise RowError("pricing is missing or not an object")
    base = _read_prices(pricing, "")
    name = model.get("name")
    top = model.get("top_provider")
    record = PriceRecord(
        source_model_id=model_id,
        provider_key=PROVIDER_KEY,
        model_name=name.strip() if isinstance(name, str) else "",
        mode="chat",  # the list is of chat-completions models
        unit_prices=tuple(base.units.values()),
        price_label=_label(base),
        max_input_tokens=_as_int(model.get("context_length")),
        max_output_tokens=_as_int(top.get("max_completion_tokens")) if isinstance(top, dict) else None,
        input_modalities=_input_modalities(model.get("architecture")),
        released_on=_created_on(model.get("created")),
        # A named Hugging Face repository means published weights; its absence proves nothing.
        open_weights=True if isinstance(model.get("hugging_face_id"), str) and model["hugging_face_id"].strip()
        else None,
        **base.columns,
    )
    records = [record]

    overrides = pricing.get("overrides")
    if overrides is None:
        return records
    if not isinstance(overrides, list):
        raise RowError("pricing.overrides is not a list")
    seen: set[int] = set()
    for index, override in enumerate(overrides):
        where = f"overrides[{index}]."
        if not isinstance(override, dict):
            raise RowError(f"pricing.overrides[{index}] is not an object")
        min_prompt = _as_int(override.get("min_prompt_tokens"))
        if not min_prompt or min_prompt in seen:
            raise RowError(
                f"pricing.{where}min_prompt_tokens is not a new positive whole number "
                f"({override.get('min_prompt_tokens')!r})"
            )
        seen.add(min_prompt)
        tier = _read_prices({k: v for k, v in override.items() if k != "min_prompt_tokens"}, where)
        # The tier carries only the prices the override lists. Copying base prices
        # in would state prices the source does not give, and some are wrong: for
        # Gemini the base internal_reasoning (= base completion) stays while the
        # override raises completion, and reasoning is billed as completion.
        records.append(
            dataclasses.replace(
                record,
                min_prompt_tokens=min_prompt,
                unit_prices=tuple(tier.units.values()),
                price_label=_label(tier),
                **{column: tier.columns.get(column) for column in TOKEN_KEYS.values()},
            )
        )
    return records



def parse(data: bytes) -> ParseResult:
    """Parse one /api/v1/models response (raw or wrapped); bad models become Rejects."""
    document: dict[str, Any] = load_json(data, expect=dict)
    models = document.get("data")
    if not isinstance(models, list):
        raise ParseError('expected a "data" list of models at the top level (not an OpenRouter model list?)')
    result = ParseResult(observed_at=parse_timestamp(document.get("fetched_at")))
    if result.observed_at is None and "fetched_at" in document:
        result.rejects.append(
            Reject("fetched_at", "fetched_at is not an ISO timestamp", excerpt(document["fetched_at"]))
        )
    seen: set[str] = set()
    for index, model in enumerate(models):
        locator = f"data[{index}]"
        if not isinstance(model, dict):
            result.rejects.append(
                Reject(locator, f"the model is a {type(model).__name__}, not an object", excerpt(model))
            )
            continue
        model_id = model.get("id")
        if not isinstance(model_id, str) or not model_id.strip():
            result.rejects.append(Reject(locator, "the model has no id", excerpt(model)))
            continue
        if model_id in seen:
            result.rejects.append(Reject(model_id, f"duplicate id (again at {locator})", excerpt(model)))
            continue
        seen.add(model_id)
        try:
            result.records.extend(_parse_model(model, model_id))
        except RowError as exc:
            result.rejects.append(Reject(model_id, str(exc), excerpt(model)))
    return result
