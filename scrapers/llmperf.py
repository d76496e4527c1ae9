"""Parser for LLMPerf leaderboard summaries (ray-project/llmperf-leaderboard ``raw_data/summary/*.json``).

One flat JSON object per run: ``model``, ``framework`` (the API provider that
served it), ``timestamp`` (unix seconds), the workload (``mean_input_tokens``,
``mean_output_tokens``, ``num_concurrent_requests``) and ``results_*`` metrics
in seconds and tokens/s. See shared/data/MANIFEST.md §3.

Choices made here (checked against all 19 real summaries):

* One ``BenchmarkRecord`` per file; ``ParseResult.observed_at`` is the run's
  ``timestamp``, so a file needs no ``--observed-at``.
* System throughput is ``results_mean_output_throughput_token_per_s``;
  per-request throughput is the p50 and mean of
  ``results_request_output_throughput_token_per_s_*``; TTFT and end-to-end
  latency p50/p99 are converted from seconds to milliseconds, exactly.
  ``p99_latency_ms`` is the end-to-end P99.
* ``results_number_*_tokens_min/max`` are numeric *strings* (``"550"``): read
  as integers, they give the output-length range in the notes.
* ``results_error_code_frequency`` is a dict in a string, written by Python
  (``"{429.0: 130}"``, not valid JSON): read with ``ast.literal_eval`` (JSON
  first), keys as integer codes. An unreadable one is noted, not fatal.
* A run whose error rate is above 50% is kept with its error rate and marked
  ``mostly_failed`` (lepton: 130 of 150 requests failed with HTTP 429, so its
  latencies describe the 20 that got through).
* Missing ``model``/``framework``/``timestamp`` or no ``results_*`` keys:
  the file is not an LLMPerf summary (``ParseError``). A present but
  non-numeric metric rejects the run with the key named.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from scrapers.bench_records import MOSTLY_FAILED_ERROR_RATE, BenchmarkRecord
from scrapers.records import (
    ParseError,
    ParseResult,
    Reject,
    excerpt,
    load_json,
    loads_nested_json,
    normalize,
    short_repr,
    to_decimal,
)

MS_PER_S = Decimal(1000)
REQUIRED = ("model", "framework", "timestamp")
# No rate, count or time of an LLMPerf run reaches a billion, in its own unit
# or in milliseconds (1e9 ms is 11 days); the tables keep 11 integer digits,
# so a 1e308 latency must be refused here, as a reason, not fail the insert.
MAX_METRIC = Decimal(10**9)
# results_error_code_frequency is a few dozen characters ("{429.0: 130}");
# a longer one is not read, so a hostile string costs nothing to parse.
MAX_ERROR_CODES_CHARS = 10_000


def parse(data: bytes) -> ParseResult:
    """Parse one LLMPerf summary file into one benchmark record (or one reject)."""
    doc = load_json(data, expect=dict)
    missing = [k for k in REQUIRED if k not in doc]
    if missing or not any(k.startswith("results_") for k in doc):
        what = f"missing {', '.join(missing)}" if missing else "no results_* metrics"
        raise ParseError(f"not an LLMPerf summary ({what})")
    if not isinstance(doc["model"], str) or not doc["model"].strip():
        raise ParseError("the model is not a non-empty string")
    if not isinstance(doc["framework"], str) or not doc["framework"].strip():
        raise ParseError("the framework (provider) is not a non-empty string")
    try:
        measured_at = datetime.fromtimestamp(int(to_decimal(doc["timestamp"])), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ParseError(f"timestamp {doc['timestamp']!r} is not unix seconds") from None

    result = ParseResult(observed_at=measured_at)
    locator = str(doc.get("name") or doc["model"])
    try:
        result.records.append(_record(doc, measured_at))
    except ValueError as exc:
        result.rejects.append(Reject(locator, str(exc), excerpt({k: v for k, v in doc.items() if k != "GEN_TEXT"})))
    return result


def _record(doc: dict[str, Any], measured_at: datetime) -> BenchmarkRecord:
    tokens_per_s = _number(doc, "results_mean_output_throughput_token_per_s", required=True)
    error_rate = _number(doc, "results_error_rate")
    if error_rate is not None and not 0 <= error_rate <= 1:
        raise ValueError(f"results_error_rate {error_rate} is not between 0 and 1")
    completed = _count(doc, "results_num_completed_requests")
    failed = _count(doc, "results_number_errors")
    codes, codes_note = _error_codes(doc.get("results_error_code_frequency"))
    mostly_failed = error_rate is not None and error_rate > MOSTLY_FAILED_ERROR_RATE

    notes: list[str] = [f"LLMPerf {doc.get('version', '')}".strip()]
    started = _count(doc, "results_num_requests_started")
    if mostly_failed:
        total = started if started is not None else (completed or 0) + (failed or 0)
        detail = ", ".join(f"{code} ×{n}" for code, n in codes) or "codes not given"
        notes.append(f"mostly failed: {failed} of {total} requests failed ({detail}); "
                     f"latencies are from the {completed} that completed")
    out_min, out_max = _count(doc, "results_number_output_tokens_min"), _count(doc, "results_number_output_tokens_max")
    if out_min is not None and out_max is not None:
        notes.append(f"output tokens per request {out_min}-{out_max}")
    if codes_note:
        notes.append(codes_note)

    return BenchmarkRecord(
        source_model_id=doc["model"].strip(),
        provider_key=doc["framework"].strip(),
        input_tokens=_count(doc, "mean_input_tokens"),
        output_tokens=_count(doc, "mean_output_tokens"),
        concurrency=_count(doc, "num_concurrent_requests"),
        tokens_per_s=tokens_per_s,
        request_tokens_per_s_p50=_number(doc, "results_request_output_throughput_token_per_s_quantiles_p50"),
        request_tokens_per_s_mean=_number(doc, "results_request_output_throughput_token_per_s_mean"),
        ttft_p50_ms=_ms(doc, "results_ttft_s_quantiles_p50"),
        ttft_p99_ms=_ms(doc, "results_ttft_s_quantiles_p99"),
        e2e_latency_p50_ms=_ms(doc, "results_end_to_end_latency_s_quantiles_p50"),
        e2e_latency_p99_ms=_ms(doc, "results_end_to_end_latency_s_quantiles_p99"),
        p99_latency_ms=_ms(doc, "results_end_to_end_latency_s_quantiles_p99"),
        error_rate=error_rate,
        requests_completed=completed,
        requests_failed=failed,
        error_counts=codes,
        mostly_failed=mostly_failed,
        measured_at=measured_at,
        source_label="llmperf-leaderboard",
        notes="; ".join(notes),
    )


def _number(doc: dict[str, Any], key: str, *, required: bool = False) -> Decimal | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise ValueError(f"{key} is missing")
        return None
    try:
        number = to_decimal(value)  # refuses NaN, infinities and out-of-range exponents
    except ValueError:
        raise ValueError(f"{key} is not a number ({short_repr(value)})") from None
    if number < 0:
        raise ValueError(f"{key} is negative ({number})")
    if number >= MAX_METRIC:
        raise ValueError(f"{key} is absurd ({number}, at or above {MAX_METRIC})")
    return normalize(number)


def _ms(doc: dict[str, Any], key: str) -> Decimal | None:
    seconds = _number(doc, key)
    if seconds is None:
        return None
    ms = normalize(seconds * MS_PER_S)
    if ms >= MAX_METRIC:
        raise ValueError(f"{key} is absurd ({ms} ms, at or above {MAX_METRIC})")
    return ms


def _count(doc: dict[str, Any], key: str) -> int | None:
    """A count that may be a JSON int, a float like 550.0, or a string like "550"."""
    number = _number(doc, key)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(f"{key} is not a whole number ({doc[key]!r})")
    return int(number)


def _error_codes(value: Any) -> tuple[tuple[tuple[str, int], ...], str]:
    """``"{429.0: 130}"`` -> ((("429", 130),), ""); an unreadable value gives a note instead."""
    if value is None or value == "":
        return (), ""
    parsed: Any = value
    if isinstance(value, str):
        if len(value) > MAX_ERROR_CODES_CHARS:
            return (), f"unreadable results_error_code_frequency ({len(value):,} characters)"
        try:
            # The guarded decoder: a deeply nested string is a note, not a RecursionError.
            parsed = loads_nested_json(value)
        except ValueError:
            try:
                parsed = ast.literal_eval(value)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return (), f"unreadable results_error_code_frequency {value[:80]!r}"
    if not isinstance(parsed, dict):
        return (), f"results_error_code_frequency is not a mapping ({str(value)[:80]!r})"
    codes: list[tuple[str, int]] = []
    for code, count in parsed.items():
        try:
            number = to_decimal(code if not isinstance(code, float) else repr(code))
            label = str(int(number)) if number == number.to_integral_value() else str(number)
            codes.append((label, int(to_decimal(count))))
        except (ValueError, TypeError):
            return (), f"results_error_code_frequency has a bad entry ({code!r}: {count!r})"
    return tuple(sorted(codes, key=lambda c: (-c[1], c[0]))), ""
