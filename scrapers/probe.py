"""tokenwatch's own probe runs: the raw document a probe writes, and the metrics computed from it.

A probe (apps.probes) streams N requests at concurrency C to an OpenAI-compatible endpoint and
keeps every request's timings in one JSON document, stored as a snapshot of the "probe" source
(nothing is lost: the metrics below can be recomputed from the samples after a fix). ``parse``
reads such a document into one :class:`ProbeRecord` whose metrics follow LLMPerf's definitions:

* TTFT: from sending the request to the first streamed chunk with content;
* inter-token latency: the gaps between consecutive content chunks, pooled over all successful
  requests (a provider that sends several tokens per chunk shows fewer, longer gaps);
* per-request output tokens/s: output tokens / end-to-end latency (LLMPerf's definition);
* system tokens/s: all successful requests' output tokens / the run's wall time;
* error rate: failed requests / requests that ended (requests cut by the run's wall limit are
  neither: tokenwatch stopped them, the provider did not fail them).

Percentiles interpolate linearly between closest ranks (numpy's default method).
Pure: imports nothing from Django or ``apps``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from scrapers.records import ParseError, ParseResult, load_json

FORMAT = "tokenwatch-probe/1"
# Requests that tokenwatch itself cut when the run hit its wall-time limit.
CUT_AT_WALL_LIMIT = "wall_limit"
MILLI = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Sample:
    """One streamed request as the probe saw it. Times in ms; ``error`` is "" for a success."""

    index: int
    offset_ms: float  # when it was sent, from the start of the run
    ttft_ms: float | None
    e2e_ms: float | None
    inter_token_ms: tuple[float, ...]
    output_tokens: int
    tokens_from_usage: bool  # False: counted from the text (~4 characters a token)
    error: str = ""  # http_429, http_500, timeout, stalled, broken_stream, connect, wall_limit…
    http_status: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Metrics:
    ttft_p50_ms: Decimal | None
    ttft_p90_ms: Decimal | None
    ttft_p99_ms: Decimal | None
    inter_token_latency_p50_ms: Decimal | None
    inter_token_latency_p99_ms: Decimal | None
    e2e_latency_p50_ms: Decimal | None
    e2e_latency_p99_ms: Decimal | None
    request_tokens_per_s_p50: Decimal | None
    request_tokens_per_s_mean: Decimal | None
    tokens_per_s: Decimal | None
    error_rate: Decimal | None
    requests_completed: int
    requests_failed: int
    error_counts: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class ProbeRecord:
    target_name: str
    endpoint: str
    provider_slug: str
    model_slug: str
    model_id: str
    requests: int
    concurrency: int
    input_tokens: int
    output_tokens: int
    started_at: datetime
    wall_s: float
    stopped_at_wall_limit: bool
    requests_not_sent: int
    tokenwatch_version: str
    token_count_method: str
    samples: tuple[Sample, ...]
    metrics: Metrics
    target_id: int | None = None


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _ms(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)).quantize(MILLI)


def compute_metrics(samples: list[Sample] | tuple[Sample, ...], wall_s: float) -> Metrics:
    """The run's figures from its samples (see the module docstring for the definitions)."""
    ended = [s for s in samples if s.error != CUT_AT_WALL_LIMIT]
    ok = [s for s in ended if not s.error]
    failed = [s for s in ended if s.error]
    ttfts = [s.ttft_ms for s in ok if s.ttft_ms is not None]
    gaps = [gap for s in ok for gap in s.inter_token_ms]
    e2es = [s.e2e_ms for s in ok if s.e2e_ms is not None]
    rates = [s.output_tokens / (s.e2e_ms / 1000) for s in ok if s.e2e_ms]
    tokens = sum(s.output_tokens for s in ok)
    return Metrics(
        ttft_p50_ms=_ms(percentile(ttfts, 50)),
        ttft_p90_ms=_ms(percentile(ttfts, 90)),
        ttft_p99_ms=_ms(percentile(ttfts, 99)),
        inter_token_latency_p50_ms=_ms(percentile(gaps, 50)),
        inter_token_latency_p99_ms=_ms(percentile(gaps, 99)),
        e2e_latency_p50_ms=_ms(percentile(e2es, 50)),
        e2e_latency_p99_ms=_ms(percentile(e2es, 99)),
        request_tokens_per_s_p50=_ms(percentile(rates, 50)),
        request_tokens_per_s_mean=_ms(sum(rates) / len(rates)) if rates else None,
        tokens_per_s=_ms(tokens / wall_s) if wall_s > 0 and ok else None,
        error_rate=(Decimal(len(failed)) / Decimal(len(ended))).quantize(Decimal("0.000001")) if ended else None,
        requests_completed=len(ok),
        requests_failed=len(failed),
        error_counts=tuple(sorted(Counter(s.error for s in failed).items())),
    )


def sample_to_json(sample: Sample) -> dict[str, Any]:
    return {
        "index": sample.index, "offset_ms": round(sample.offset_ms, 3),
        "ttft_ms": None if sample.ttft_ms is None else round(sample.ttft_ms, 3),
        "e2e_ms": None if sample.e2e_ms is None else round(sample.e2e_ms, 3),
        "inter_token_ms": [round(gap, 3) for gap in sample.inter_token_ms],
        "output_tokens": sample.output_tokens, "tokens_from_usage": sample.tokens_from_usage,
        "error": sample.error, "http_status": sample.http_status, "detail": sample.detail,
    }


def _number(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ParseError(f"{what} is not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ParseError(f"{what} is not a finite, non-negative number: {value!r}")
    return number


def _sample(raw: Any, position: int) -> Sample:
    if not isinstance(raw, dict):
        raise ParseError(f"samples[{position}] is not an object")
    where = f"samples[{position}]"
    gaps = raw.get("inter_token_ms") or []
    if not isinstance(gaps, list):
        raise ParseError(f"{where}.inter_token_ms is not a list")
    status = raw.get("http_status")
    return Sample(
        index=int(raw.get("index", position)),
        offset_ms=_number(raw.get("offset_ms", 0), f"{where}.offset_ms") or 0.0,
        ttft_ms=_number(raw.get("ttft_ms"), f"{where}.ttft_ms"),
        e2e_ms=_number(raw.get("e2e_ms"), f"{where}.e2e_ms"),
        inter_token_ms=tuple(_number(gap, f"{where}.inter_token_ms") or 0.0 for gap in gaps),
        output_tokens=int(_number(raw.get("output_tokens", 0), f"{where}.output_tokens") or 0),
        tokens_from_usage=bool(raw.get("tokens_from_usage", False)),
        error=str(raw.get("error") or ""),
        http_status=int(status) if isinstance(status, int) and not isinstance(status, bool) else None,
        detail=str(raw.get("detail") or "")[:500],
    )


def parse(data: bytes) -> ParseResult:
    """A probe document -> one ProbeRecord (its metrics computed from the samples)."""
    document = load_json(data, expect=dict)
    if document.get("format") != FORMAT:
        raise ParseError(f"not a tokenwatch probe document (expected \"format\": \"{FORMAT}\")")
    try:
        target = document["target"]
        workload = document["workload"]
        started_at = datetime.fromisoformat(document["started_at"])
        wall_s = _number(document["wall_s"], "wall_s") or 0.0
        samples = tuple(_sample(raw, i) for i, raw in enumerate(document["samples"]))
        record = ProbeRecord(
            target_id=target.get("id"),
            target_name=str(target["name"]),
            endpoint=str(target["endpoint"]),
            provider_slug=str(target["provider"]),
            model_slug=str(target["model"]),
            model_id=str(target["model_id"]),
            requests=int(workload["requests"]),
            concurrency=int(workload["concurrency"]),
            input_tokens=int(workload["input_tokens"]),
            output_tokens=int(workload["output_tokens"]),
            started_at=started_at,
            wall_s=wall_s,
            stopped_at_wall_limit=bool(document.get("stopped_at_wall_limit", False)),
            requests_not_sent=int(document.get("requests_not_sent", 0)),
            tokenwatch_version=str(document.get("tokenwatch_version", "")),
            token_count_method=str(document.get("token_count_method", "")),
            samples=samples,
            metrics=compute_metrics(samples, wall_s),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ParseError(f"the probe document is incomplete or malformed ({type(exc).__name__}: {exc})") from exc
    if started_at.tzinfo is None:
        raise ParseError("started_at has no time zone")
    return ParseResult(records=[record], observed_at=started_at)
