"""Parser for simonw/llm-prices vendor price sheets (``data/<vendor>.json``).

Format: ``{"vendor": str, "models": [{"id", "name", "price_history": [{"input",
"output", "input_cached", "from_date", "to_date"}]}]}``. Prices are already USD
per 1M tokens; ``from_date`` is inclusive, ``to_date`` exclusive, ``null`` means
open ("since the beginning" / "still current"). See shared/data/MANIFEST.md §1.

Choices made here (checked against the real snapshot of 2026-08-05):

* One ``PriceRecord`` per ``price_history`` entry, sorted by ``from_date``
  (deepseek-chat lists its newer entry first). Future-dated changes are kept.
* Long-context tiers are separate entries in the source: ``gpt-5.4-272k`` named
  "GPT-5.4 >272k". The *name* decides: a name marking ``>Nk`` gives
  ``min_prompt_tokens = N * 1000``, and an id suffix ``-Nk`` with the same N is
  stripped so the tier shares the base's ``source_model_id``. An id ending in
  ``-Nk`` whose name does not mark ``>Nk`` is left untouched (it is then a model
  name, e.g. a context-size variant, not a price tier).
* A duplicate offering (same ``source_model_id`` and ``min_prompt_tokens``, e.g.
  ``grok-4-fast`` twice in xai.json) collapses silently when its prices and dates
  are identical (the first entry, and its name, are kept); otherwise the later
  model is rejected with a reason naming the first.
* An entry whose ``to_date`` is not after its ``from_date``, or whose interval
  overlaps an earlier (by ``from_date``) entry of the same model, is rejected.
* Prices must be JSON numbers: a numeric *string* is a type error here, because
  this source never quotes numbers and a string means the sheet is broken.
* A missing ``input_cached``/``from_date``/``to_date`` key reads as ``null``;
  a missing or ``null`` ``input``/``output`` rejects the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from scrapers.records import (
    LABEL_FREE,
    ParseError,
    ParseResult,
    PriceRecord,
    Reject,
    check_usd_per_mtok,
    excerpt,
    load_json,
    normalize,
    read_model_id_and_name,
    short_repr,
    to_decimal,
)

_TIER_ID = re.compile(r"^(?P<base>.+)-(?P<n>\d+)k$")
_TIER_NAME = re.compile(r">\s*(?P<n>\d+)\s*k\b", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class _Entry:
    index: int
    raw: Any
    effective_from: date | None
    effective_to: date | None
    input: Decimal
    output: Decimal
    cached_input: Decimal | None


def parse(data: bytes) -> ParseResult:
    """Parse one llm-prices vendor file into price records and rejects."""
    doc = load_json(data, expect=dict)
    vendor = doc.get("vendor")
    if not isinstance(vendor, str) or not vendor.strip():
        raise ParseError('the file has no "vendor" string naming the provider')
    models = doc.get("models")
    if not isinstance(models, list):
        raise ParseError('the file has no "models" list')

    result = ParseResult()
    # (source_model_id, min_prompt_tokens) -> (locator of the first model, its records)
    seen: dict[tuple[str, int], tuple[str, list[PriceRecord]]] = {}
    for index, model in enumerate(models):
        _parse_model(vendor.strip(), index, model, result, seen)
    return result


def _parse_model(
    vendor: str,
    index: int,
    model: Any,
    result: ParseResult,
    seen: dict[tuple[str, int], tuple[str, list[PriceRecord]]],
) -> None:
    if not isinstance(model, dict):
        reject = Reject(f"models[{index}]", "the model entry is not a JSON object", excerpt(model))
        result.rejects.append(reject)
        return
    read = read_model_id_and_name(model, f"models[{index}]", f"models[{index}] ", result)
    if read is None:
        return
    model_id, name, locator = read
    history = model.get("price_history")
    if not isinstance(history, list) or not history:
        reason = "price_history is missing, empty or not a list"
        result.rejects.append(Reject(locator, reason, excerpt(model)))
        return

    source_model_id, min_prompt_tokens = split_tier(model_id, name)
    entries = _parse_history(locator, history, result)

    records = [
        PriceRecord(
            source_model_id=source_model_id,
            provider_key=vendor,
            model_name=name.strip(),
            min_prompt_tokens=min_prompt_tokens,
            input_usd_per_mtok=entry.input,
            output_usd_per_mtok=entry.output,
            cached_input_usd_per_mtok=entry.cached_input,
            price_label=_label(entry),
            effective_from=entry.effective_from,
            effective_to=entry.effective_to,
            stated_dates=True,
        )
        for entry in entries
    ]

    key = (source_model_id, min_prompt_tokens)
    if key in seen:
        first_locator, first_records = seen[key]
        if _same_prices(first_records, records):
            return  # an identical duplicate (grok-4-fast in xai.json): keep the first silently
        what = source_model_id
        if min_prompt_tokens:
            what = f"{source_model_id} above {min_prompt_tokens} tokens"
        result.rejects.append(
            Reject(
                locator,
                f"duplicate of {first_locator} (same offering {what}) with different prices or dates; "
                "the first one is kept",
                excerpt(model),
            )
        )
        return
    seen[key] = (locator, records)
    result.records.extend(records)


def split_tier(model_id: str, name: str) -> tuple[str, int]:
    """(source_model_id, min_prompt_tokens) for an entry; a tier only when the name marks ``>Nk``.

    >>> split_tier("gpt-5.4-272k", "GPT-5.4 >272k")
    ('gpt-5.4', 272000)
    >>> split_tier("some-model-32k", "Some Model 32k")
    ('some-model-32k', 0)
    """
    marker = _TIER_NAME.search(name)
    if marker is None:
        return model_id, 0
    tokens = int(marker.group("n")) * 1000
    suffix = _TIER_ID.match(model_id)
    if suffix is not None and int(suffix.group("n")) * 1000 == tokens:
        return suffix.group("base"), tokens
    # The name says the price applies above N tokens but the id carries no matching
    # suffix: keep the id, but do not claim the price holds at every prompt length.
    return model_id, tokens


def _parse_history(locator: str, history: list[Any], result: ParseResult) -> list[_Entry]:
    entries: list[_Entry] = []
    for position, raw in enumerate(history):
        where = f"{locator} price_history[{position}]"
        if not isinstance(raw, dict):
            result.rejects.append(Reject(where, "the price entry is not a JSON object", excerpt(raw)))
            continue
        try:
            entry = _Entry(
                index=position,
                raw=raw,
                effective_from=_date(raw, "from_date"),
                effective_to=_date(raw, "to_date"),
                input=_required_price(raw, "input"),
                output=_required_price(raw, "output"),
                cached_input=_optional_price(raw, "input_cached"),
            )
        except ValueError as exc:
            result.rejects.append(Reject(where, str(exc), excerpt(raw)))
            continue
        if (
            entry.effective_from is not None
            and entry.effective_to is not None
            and entry.effective_to <= entry.effective_from
        ):
            result.rejects.append(
                Reject(
                    where,
                    f"to_date {entry.effective_to} is not after from_date {entry.effective_from} "
                    "(an inverted or empty interval)",
                    excerpt(raw),
                )
            )
            continue
        entries.append(entry)

    # Chronological order: an open start first, then by from_date (sort is stable).
    entries.sort(key=lambda e: (e.effective_from is not None, e.effective_from or date.min))
    kept: list[_Entry] = []
    for entry in entries:
        previous = kept[-1] if kept else None
        if previous is not None and (
            previous.effective_to is None
            or entry.effective_from is None
            or entry.effective_from < previous.effective_to
        ):
            result.rejects.append(
                Reject(
                    f"{locator} price_history[{entry.index}]",
                    f"its interval {_interval(entry)} overlaps price_history[{previous.index}] {_interval(previous)}",
                    excerpt(entry.raw),
                )
            )
            continue
        kept.append(entry)
    return kept


def _required_price(raw: dict[str, Any], key: str) -> Decimal:
    price = _optional_price(raw, key)
    if price is None:
        raise ValueError(f"{key} is missing or null")
    return price


def _optional_price(raw: dict[str, Any], key: str) -> Decimal | None:
    value = raw.get(key)
    if value is None:
        return None
    # NaN, Infinity and out-of-range literals arrive as BadNumber (not int or
    # Decimal) and print as their literal.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"{key} is not a number ({short_repr(value)})")
    return check_usd_per_mtok(normalize(to_decimal(value)), key)


def _date(raw: dict[str, Any], key: str) -> date | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"{key} is not a YYYY-MM-DD date ({value!r})")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} is not a valid date ({value!r})") from None


def _label(entry: _Entry) -> str:
    given = [p for p in (entry.input, entry.output, entry.cached_input) if p is not None]
    return LABEL_FREE if all(p == 0 for p in given) else ""


def _interval(entry: _Entry) -> str:
    start = entry.effective_from.isoformat() if entry.effective_from else "the beginning"
    end = entry.effective_to.isoformat() if entry.effective_to else "open"
    return f"[{start}, {end})"


def _same_prices(first: list[PriceRecord], second: list[PriceRecord]) -> bool:
    """Equal records apart from the display name (the grok-4-fast duplicate differs only there)."""
    return [replace(r, model_name="") for r in first] == [replace(r, model_name="") for r in second]
