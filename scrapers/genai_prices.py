"""Parser for pydantic/genai-prices data v2 (``prices/new_data/v2/data.json``).

Format: a JSON array of providers ``{id, name, models: [{id, name, prices, ...}]}``.
Price units are in the key names: ``*_mtok`` is USD per 1M tokens,
``*_kcount`` USD per 1,000 requests/searches. See shared/data/MANIFEST.md §6.

Choices made here (checked against the real snapshot of 2026-08-21):

* ``prices`` is an object, or a list of ``{"constraint"?: {...}, "prices": {...}}``.
  The entry without a constraint starts "since the beginning"; ``start_date``
  entries are sorted by date and each one ends the previous one
  (``effective_to`` = the next dated entry's ``start_date``). This matches
  genai-prices' own rule ("the last active price wins") for date constraints.
* Time-of-day windows (``start_time``/``end_time``). genai-prices applies the
  windowed prices inside the window and the unconstrained prices outside it.
  In the real data (deepseek-chat, deepseek-reasoner) the window is
  00:30-16:30 UTC and carries the *dearer* list price (deepseek-chat 0.27/1.1),
  while the unconstrained entry is DeepSeek's half-price night rate
  (0.135/0.55). So the window is the peak, not the off-peak. Which side is
  "off_peak" is decided by comparing prices: the cheaper side is
  ``service_tier="off_peak"``, the other stays ``"standard"``; if neither side is
  cheaper on every shared price the windowed entry is rejected. Both sides get
  the unconstrained entry's effective dates. The window times themselves do not
  fit in a ``PriceRecord`` and are dropped (reported as a contract gap).
* Keys: ``input_mtok``, ``output_mtok``, ``cache_read_mtok``, ``cache_write_mtok``
  and ``output_reasoning_mtok`` fill the text-token columns. Everything else
  (audio/image/video tokens, 1-hour cache writes, citation tokens, per-1k
  requests/searches/characters/seconds/minutes) becomes a ``UnitPrice`` named
  after the key, so it never mixes into the text columns. An unknown key rejects
  the entry: genai-prices treats a new unit as a schema change, and guessing its
  unit could misprice.
* Tiered values ``{"base": x, "tiers": [{"start": N, "price": y}]}`` are
  threshold ("cliff") prices: above N input tokens the tier rate applies to all
  tokens. The base goes on the ``min_prompt_tokens=0`` record; every distinct
  tier start N in the entry yields one more record with ``min_prompt_tokens=N``
  in which each tiered component takes the rate of its highest tier starting at
  or below N, and every non-tiered component keeps its flat value (a flat price
  applies at every prompt length, so it is repeated, not dropped).
* ``price_label``: ``LABEL_UNKNOWN`` when the entry gives no price at all (``{}``,
  157 entries, mostly ``:free`` ids; note genai-prices' own ``is_free()`` treats
  all-unset as free), ``LABEL_FREE`` when it gives prices and every one is 0.
* Prices must be JSON numbers (a numeric string is a type error here). Per-1k
  prices are checked against the same ceiling as per-1M-token prices, and a
  price *at* the ceiling is refused too (10,000 USD per 1,000 requests is no
  more a real price than 10,001).
* Seller (``provider_key``). A genai-prices provider is a *pricing* bucket, not
  always one seller: ``google`` covers the Gemini API (Google AI Studio) and
  Vertex AI, ``azure`` covers Azure OpenAI and, for other models, Azure AI
  Foundry. The data says whose model an entry is: a provider's
  ``fallback_model_providers`` name the providers whose models it also prices,
  and a model belongs to one of those when that provider's ``model_match`` or
  one of its models' ``match`` rules matches the id (and the provider's own
  ``model_match`` does not). Which seller that makes it is not in the data, so
  ``fixtures/genai_prices_providers.csv`` says it, with a reason per row:
  (genai provider, models of = a fallback provider id or ``*`` for the rest)
  -> provider key. Real file: google's 12 Claude entries go to ``vertex_ai``,
  azure's 11 non-OpenAI entries (Phi, MAI-DS-R1, WizardLM-2) to ``azure_ai``.
  Providers without fallbacks (aws sells its Claude itself) keep their id. The
  locators still name the genai-prices provider, so rejects point at the file.
* Mode, in LiteLLM's vocabulary, first rule that holds: ``rerank`` ("rerank" in
  the id/name); ``embedding`` ("embed" in the id, name or match rule; BAAI's
  ``bge-`` ids; or input-only prices where the model description or the
  provider's ``price_comments`` say "embedding", which is how Voyage is
  described); ``moderation``; ``audio_transcription`` (transcribe/whisper);
  ``audio_speech`` (tts); ``realtime`` (a ``realtime`` id, as LiteLLM files
  OpenAI's); ``image_generation`` (an ``image`` id or an ``output_image_mtok``
  price); ``completion`` (OpenAI's legacy ada/babbage/curie/davinci and
  gpt-3.5-turbo-instruct); else ``chat``. Chat-API models that merely price
  audio or video (gpt-4o-audio-preview, Gemini Live, Nova Sonic, Gemini Omni)
  stay ``chat``, as LiteLLM files them; an input-only price with nothing saying
  "embedding" is not guessed to be one.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from scrapers.records import (
    LABEL_FREE,
    LABEL_UNKNOWN,
    MAX_USD_PER_MTOK,
    ParseResult,
    PriceRecord,
    Reject,
    UnitPrice,
    check_usd_per_mtok,
    excerpt,
    load_json,
    normalize,
    read_model_id_and_name,
    to_decimal,
)

OFF_PEAK = "off_peak"
STANDARD = "standard"

# Keys that fill PriceRecord's text-token columns.
TOKEN_COLUMNS: dict[str, str] = {
    "input_mtok": "input_usd_per_mtok",
    "output_mtok": "output_usd_per_mtok",
    "cache_read_mtok": "cached_input_usd_per_mtok",
    "cache_write_mtok": "cache_write_usd_per_mtok",
    "output_reasoning_mtok": "reasoning_usd_per_mtok",
}

# Keys priced per 1M tokens of something other than plain text input/output.
MTOK_UNITS: dict[str, str] = {
    "cache_write_1h_mtok": "mtok_text",
    "output_citation_mtok": "mtok_text",
    "input_audio_mtok": "mtok_audio",
    "cache_audio_read_mtok": "mtok_audio",
    "output_audio_mtok": "mtok_audio",
    "input_image_mtok": "mtok_image",
    "cache_image_read_mtok": "mtok_image",
    "output_image_mtok": "mtok_image",
    "input_video_mtok": "mtok_video",
    "output_video_mtok": "mtok_video",
}

# Keys priced per 1,000 of a countable thing (never tiered in genai-prices).
KCOUNT_UNITS: dict[str, tuple[str, str]] = {
    "requests_kcount": ("1k_requests", "1,000 requests"),
    "web_searches_kcount": ("1k_web_searches", "1,000 web searches"),
    # In genai-prices' schema, not yet in the snapshot:
    "input_kchars": ("1k_characters", "1,000 characters"),
    "input_audio_kseconds": ("1k_seconds", "1,000 seconds"),
    "output_audio_kseconds": ("1k_seconds", "1,000 seconds"),
    "agent_kminutes": ("1k_minutes", "1,000 minutes"),
}

# Curated tables live in the repository's fixtures/ (read with plain csv: scrapers
# import nothing from Django).
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SELLERS_CSV = FIXTURES / "genai_prices_providers.csv"
ANY_MODEL = "*"  # models_of value: every model no other row of the provider covers

# Mode hints in ids and names. Words are split on anything not a letter or digit.
_WORD = re.compile(r"[^a-z0-9]+")
# OpenAI's legacy GPT-3 completion models (LiteLLM files babbage-002/davinci-002 as
# "completion"); the data gives them no description, only the id says it.
_LEGACY_COMPLETION = re.compile(r"^(?:text-)?(?:ada|babbage|curie|davinci)(?:-\d+)?$|^gpt-3\.5-turbo-instruct")

def _endpoint_region(model_id: str) -> str:
    """Bedrock sells one model through a global and a regional endpoint at different prices
    (``regional.anthropic.claude-opus-4-6-v1:0`` is 10 % above ``global.``): the regional one is
    another offering, not a second price for the same one."""
    return "regional" if model_id.startswith("regional.") else ""


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class _Value:
    """One price component: a flat value, or a base with (start, price) tiers."""

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def at(self, prompt_tokens: int) -> Decimal:
        price = self.base
        for start, tier_price in self.tiers:
            if start <= prompt_tokens:
                price = tier_price
        return price


@dataclass(frozen=True)
class _Entry:
    """One validated element of a model's ``prices`` (the object form is one entry)."""

    index: int | None  # position in the prices list; None for the object form
    raw: Any
    kind: str  # "base" (no constraint), "dated" or "window"
    values: dict[str, _Value]
    start_date: date | None = None


def parse(data: bytes) -> ParseResult:
    """Parse genai-prices data v2 into price records and rejects."""
    providers = load_json(data, expect=list)
    result = ParseResult()
    seen: dict[tuple[str, str], tuple[str, list[PriceRecord]]] = {}
    # Fallback lookups need the other providers' match rules, wherever they sit in the file.
    by_id = {
        p["id"].strip(): p
        for p in providers
        if isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("models"), list)
    }
    for index, provider in enumerate(providers):
        if not isinstance(provider, dict):
            result.rejects.append(Reject(f"[{index}]", "the provider is not a JSON object", excerpt(provider)))
            continue
        provider_id = provider.get("id")
        if not isinstance(provider_id, str) or not provider_id.strip():
            result.rejects.append(Reject(f"[{index}]", "the provider has no id string", excerpt(provider)))
            continue
        provider_id = provider_id.strip()
        models = provider.get("models")
        if not isinstance(models, list):
            reason = "the provider has no models list"
            result.rejects.append(Reject(f"[{index}] {provider_id}", reason, excerpt(provider)))
            continue
        context = _Provider(provider_id, provider, by_id)
        for model_index, model in enumerate(models):
            _parse_model(context, model_index, model, result, seen)
    return result


@dataclass(frozen=True)
class _Provider:
    """A genai-prices provider entry and the file's other providers (for its fallbacks)."""

    id: str
    doc: dict[str, Any]
    by_id: dict[str, dict[str, Any]]


def _parse_model(
    provider: _Provider,
    model_index: int,
    model: Any,
    result: ParseResult,
    seen: dict[tuple[str, str], tuple[str, list[PriceRecord]]],
) -> None:
    provider_id = provider.id
    where = f"{provider_id} models[{model_index}]"
    if not isinstance(model, dict):
        result.rejects.append(Reject(where, "the model is not a JSON object", excerpt(model)))
        return
    read = read_model_id_and_name(model, where, f"{provider_id}/", result)
    if read is None:
        return
    model_id, name, locator = read

    prices = model.get("prices")
    if isinstance(prices, dict):
        entry = _parse_entry(f"{locator} prices", None, prices, {"prices": prices}, result)
        entries = [entry] if entry is not None else []
    elif isinstance(prices, list) and prices:
        entries = []
        for position, raw in enumerate(prices):
            entry_where = f"{locator} prices[{position}]"
            if not isinstance(raw, dict) or not isinstance(raw.get("prices"), dict):
                reason = 'the entry is not an object with a "prices" object'
                result.rejects.append(Reject(entry_where, reason, excerpt(raw)))
                continue
            entry = _parse_entry(entry_where, position, raw["prices"], raw, result)
            if entry is not None:
                entries.append(entry)
    else:
        reason = "prices is missing, empty, or neither an object nor a list"
        result.rejects.append(Reject(locator, reason, excerpt(model)))
        return

    keys = {key for entry in entries for key in entry.values}
    common = PriceRecord(
        source_model_id=model_id,
        provider_key=_seller(provider, model_id),
        model_name=name.strip(),
        mode=_mode(provider.doc, model, model_id, name, keys),
        region=_endpoint_region(model_id),
    )
    records = _timeline(locator, entries, common, result)

    # Two genai-prices providers never share a seller today, but a seller's key is
    # what identifies the offering, so duplicates are looked for per seller.
    key = (common.provider_key, model_id)
    if key in seen:
        first_locator, first_records = seen[key]
        if _same_prices(first_records, records):
            return
        reason = f"duplicate of {first_locator} with different prices; the first one is kept"
        result.rejects.append(Reject(f"{where} {model_id}", reason, excerpt(model)))
        return
    seen[key] = (f"models[{model_index}]", records)
    result.records.extend(records)


def _parse_entry(where: str, index: int | None, prices: dict[str, Any], raw: Any, result: ParseResult) -> _Entry | None:
    try:
        kind, start_date = _constraint(raw.get("constraint"))
        values = {key: _value(key, value) for key, value in prices.items()}
    except ValueError as exc:
        result.rejects.append(Reject(where, str(exc), excerpt(raw)))
        return None
    return _Entry(index=index, raw=raw, kind=kind, values=values, start_date=start_date)


def _constraint(constraint: Any) -> tuple[str, date | None]:
    if constraint is None:
        return "base", None
    if not isinstance(constraint, dict):
        raise ValueError(f"the constraint is not an object ({constraint!r})")
    keys = set(constraint)
    if keys == {"start_date"}:
        value = constraint["start_date"]
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise ValueError(f"start_date is not a YYYY-MM-DD date ({value!r})")
        try:
            return "dated", date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"start_date is not a valid date ({value!r})") from None
    if keys == {"start_time", "end_time"}:
        for key in ("start_time", "end_time"):
            value = constraint[key]
            if not isinstance(value, str) or not _ISO_TIME.match(value):
                raise ValueError(f"{key} is not a time of day with a time zone ({value!r})")
            try:
                time.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{key} is not a valid time of day ({value!r})") from None
        return "window", None
    raise ValueError(f"the constraint has unknown keys {sorted(keys)}")


def _value(key: str, value: Any) -> _Value:
    if key in TOKEN_COLUMNS or key in MTOK_UNITS:
        if isinstance(value, dict):
            return _tiered(key, value)
        return _Value(_mtok(value, key))
    if key in KCOUNT_UNITS:
        return _Value(_kcount(value, key))
    raise ValueError(f"unknown price key {key!r} (its unit is not known)")


def _tiered(key: str, value: dict[str, Any]) -> _Value:
    if set(value) != {"base", "tiers"} or not isinstance(value["tiers"], list) or not value["tiers"]:
        raise ValueError(f"{key} is an object but not a {{base, tiers}} tiered price")
    base = _mtok(value["base"], f"{key} base")
    tiers: dict[int, Decimal] = {}
    for position, tier in enumerate(value["tiers"]):
        what = f"{key} tiers[{position}]"
        if not isinstance(tier, dict) or set(tier) != {"start", "price"}:
            raise ValueError(f"{what} is not a {{start, price}} object")
        start = tier["start"]
        if isinstance(start, bool) or not isinstance(start, int) or start <= 0:
            raise ValueError(f"{what} start is not a positive whole number of tokens ({start!r})")
        if start in tiers:
            raise ValueError(f"{what} repeats the tier start {start}")
        tiers[start] = _mtok(tier["price"], f"{what} price")
    return _Value(base, tuple(sorted(tiers.items())))


def _number(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"{what} is not a number ({value!r})")
    return normalize(to_decimal(value))


def _mtok(value: Any, what: str) -> Decimal:
    return check_usd_per_mtok(_number(value, what), what)


def _kcount(value: Any, key: str) -> Decimal:
    if isinstance(value, dict):
        raise ValueError(f"{key} cannot be tiered")
    price = _number(value, key)
    per = KCOUNT_UNITS[key][1]
    if price < 0:
        raise ValueError(f"{key} is negative ({price} USD per {per})")
    # Inclusive: the ceiling itself (0.01 USD per token as a per-1M figure) is already absurd.
    if price >= MAX_USD_PER_MTOK:
        raise ValueError(f"{key} is absurd ({price} USD per {per}, at or above {MAX_USD_PER_MTOK})")
    return price


def _timeline(locator: str, entries: list[_Entry], common: PriceRecord, result: ParseResult) -> list[PriceRecord]:
    """Records for one model: dated entries chained into [from, to), windows paired with the base."""
    base: _Entry | None = None
    dated: dict[date, _Entry] = {}
    windows: list[_Entry] = []
    for entry in entries:
        where = f"{locator} prices[{entry.index}]"
        if entry.kind == "base":
            if base is not None:
                reason = f"a second entry without a constraint (prices[{base.index}] already has none)"
                result.rejects.append(Reject(where, reason, excerpt(entry.raw)))
                continue
            base = entry
        elif entry.kind == "dated" and entry.start_date is not None:
            if entry.start_date in dated:
                first = dated[entry.start_date]
                reason = f"start_date {entry.start_date} repeats prices[{first.index}]"
                result.rejects.append(Reject(where, reason, excerpt(entry.raw)))
                continue
            dated[entry.start_date] = entry
        else:
            windows.append(entry)

    chain: list[_Entry] = ([base] if base is not None else []) + [dated[d] for d in sorted(dated)]
    intervals: dict[int, tuple[date | None, date | None]] = {}
    for position, entry in enumerate(chain):
        end = chain[position + 1].start_date if position + 1 < len(chain) else None
        intervals[id(entry)] = (entry.start_date, end)

    tiers: dict[int, str] = {id(entry): STANDARD for entry in chain}
    paired: list[_Entry] = []
    for window in windows:
        where = f"{locator} prices[{window.index}]"
        if base is None:
            reason = "a time-of-day price without an unconstrained price to pair it with"
            result.rejects.append(Reject(where, reason, excerpt(window.raw)))
            continue
        if paired:
            reason = f"a second time-of-day price (prices[{paired[0].index}] already has one)"
            result.rejects.append(Reject(where, reason, excerpt(window.raw)))
            continue
        cheaper = _cheaper(window.values, base.values)
        if cheaper is None:
            reason = (
                f"cannot tell the off-peak side: the time-of-day prices are neither all lower nor "
                f"all higher than the unconstrained prices[{base.index}]"
            )
            result.rejects.append(Reject(where, reason, excerpt(window.raw)))
            continue
        paired.append(window)
        intervals[id(window)] = intervals[id(base)]
        if cheaper:
            tiers[id(window)] = OFF_PEAK
        else:
            tiers[id(window)] = STANDARD
            tiers[id(base)] = OFF_PEAK

    records: list[PriceRecord] = []
    for entry in chain + paired:
        effective_from, effective_to = intervals[id(entry)]
        dated_common = replace(
            common,
            service_tier=tiers[id(entry)],
            effective_from=effective_from,
            effective_to=effective_to,
            stated_dates=True,
        )
        records.extend(_records(entry.values, dated_common))
    return records


def _cheaper(window: dict[str, _Value], base: dict[str, _Value]) -> bool | None:
    """True if the window is cheaper on every shared price, False if dearer, None if neither."""
    shared = [key for key in window if key in base]
    pairs = [(window[key].base, base[key].base) for key in shared]
    if pairs and all(w <= b for w, b in pairs) and any(w < b for w, b in pairs):
        return True
    if pairs and all(w >= b for w, b in pairs) and any(w > b for w, b in pairs):
        return False
    return None


def _records(values: dict[str, _Value], common: PriceRecord) -> list[PriceRecord]:
    """The min_prompt_tokens=0 record plus one record per distinct tier start."""
    starts = sorted({start for value in values.values() for start, _ in value.tiers})
    return [_record(values, common, prompt_tokens) for prompt_tokens in [0, *starts]]


def _record(values: dict[str, _Value], common: PriceRecord, prompt_tokens: int) -> PriceRecord:
    # Tiered components take their tier rate at this threshold; flat ones keep their value.
    prices = {key: value.at(prompt_tokens) for key, value in values.items()}
    columns = {TOKEN_COLUMNS[key]: price for key, price in prices.items() if key in TOKEN_COLUMNS}
    units = tuple(
        UnitPrice(name=key, unit=_unit(key), usd_per_unit=price)
        for key, price in sorted(prices.items())
        if key not in TOKEN_COLUMNS
    )
    if not prices:
        label = LABEL_UNKNOWN
    elif all(price == 0 for price in prices.values()):
        label = LABEL_FREE
    else:
        label = ""
    return replace(common, min_prompt_tokens=prompt_tokens, unit_prices=units, price_label=label, **columns)


def _unit(key: str) -> str:
    if key in MTOK_UNITS:
        return MTOK_UNITS[key]
    return KCOUNT_UNITS[key][0]


def _same_prices(first: list[PriceRecord], second: list[PriceRecord]) -> bool:
    return [replace(r, model_name="") for r in first] == [replace(r, model_name="") for r in second]


# --- seller ------------------------------------------------------------------


@lru_cache(maxsize=1)
def seller_rules() -> dict[tuple[str, str], str]:
    """(genai-prices provider id, models_of) -> provider key, from the curated table."""
    rules: dict[tuple[str, str], str] = {}
    with SELLERS_CSV.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            # DictReader fills a short row's missing cells with None
            provider, models_of, key, reason = (
                (row.get(column) or "").strip() for column in ("genai_provider", "models_of", "provider_key", "reason")
            )
            if not (provider and models_of and key and reason):
                raise ValueError(f"{SELLERS_CSV.name} line {line}: every column, the reason too, must be filled")
            if (provider, models_of) in rules:
                raise ValueError(f"{SELLERS_CSV.name} line {line}: {provider}/{models_of} is given twice")
            rules[(provider, models_of)] = key
    return rules


def _seller(provider: _Provider, model_id: str) -> str:
    """The provider key of whoever sells this entry: the table's row for its origin, else the genai-prices id."""
    rules = seller_rules()
    if not any(p == provider.id for p, _ in rules):
        return provider.id
    origin = _origin(provider, model_id)
    return rules.get((provider.id, origin)) or rules.get((provider.id, ANY_MODEL)) or provider.id


def _origin(provider: _Provider, model_id: str) -> str:
    """Whose model this is, as the data says: a fallback provider that claims the id, else the provider itself."""
    if _matches(provider.doc.get("model_match"), model_id):
        return provider.id
    fallbacks = provider.doc.get("fallback_model_providers")
    if not isinstance(fallbacks, list):
        return provider.id
    for fallback_id in fallbacks:
        other = provider.by_id.get(fallback_id) if isinstance(fallback_id, str) else None
        if other is None or fallback_id == provider.id:
            continue
        if _matches(other.get("model_match"), model_id) or any(
            isinstance(m, dict) and _matches(m.get("match"), model_id) for m in other["models"]
        ):
            return fallback_id
    return provider.id


def _matches(rule: Any, text: str) -> bool:
    """Evaluate a genai-prices match rule (equals, starts_with, ends_with, contains, regex, or, and).

    An unknown or malformed clause matches nothing: claiming a model for another
    provider on a rule we cannot read would move it to the wrong seller.
    """
    if not isinstance(rule, dict) or len(rule) != 1:
        return False
    ((clause, value),) = rule.items()
    if clause in ("or", "and") and isinstance(value, list):
        results = (_matches(part, text) for part in value)
        return any(results) if clause == "or" else bool(value) and all(results)
    if not isinstance(value, str):
        return False
    if clause == "equals":
        return text == value
    if clause == "starts_with":
        return text.startswith(value)
    if clause == "ends_with":
        return text.endswith(value)
    if clause == "contains":
        return value in text
    if clause == "regex":
        try:
            return re.search(value, text) is not None
        except re.error:
            return False
    return False


def _literals(rule: Any) -> Iterable[str]:
    """The strings a match rule names (ids it equals, prefixes...): more names of the same model."""
    if not isinstance(rule, dict):
        return
    for clause, value in rule.items():
        if clause in ("or", "and") and isinstance(value, list):
            for part in value:
                yield from _literals(part)
        elif clause != "regex" and isinstance(value, str):
            yield value


# --- mode --------------------------------------------------------------------


def _mode(provider: dict[str, Any], model: dict[str, Any], model_id: str, name: str, keys: set[str]) -> str:
    """The model's mode in LiteLLM's vocabulary (see the module docstring for the rules and their order)."""
    names = " ".join([model_id, name, *_literals(model.get("match"))]).lower()
    words = set(_WORD.split(f"{model_id} {name}".lower()))
    base_id = model_id.rsplit("/", 1)[-1].lower()
    input_only = bool(keys) and not any(key.startswith("output_") for key in keys)
    said = " ".join(str(text) for text in (model.get("description"), provider.get("price_comments")) if text).lower()

    if "rerank" in names:
        return "rerank"
    if "embed" in names or base_id.startswith("bge-") or (input_only and "embedding" in said):
        return "embedding"
    if "moderation" in words:
        return "moderation"
    if words & {"transcribe", "transcription", "whisper"}:
        return "audio_transcription"
    if "tts" in words:
        return "audio_speech"
    if "realtime" in words:
        return "realtime"
    if "image" in words or "output_image_mtok" in keys:
        return "image_generation"
    if _LEGACY_COMPLETION.search(base_id):
        return "completion"
    return "chat"
