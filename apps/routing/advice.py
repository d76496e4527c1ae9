"""Routing advice: which offerings of one model meet a latency SLA, ranked by what a month of the workload costs.

Issue 15. For every market offering of the model (provider x region, standard tier, base context
price: the per-request prompt size is not asked, so no long-context tier applies) the advice gives:

- its market price (:mod:`apps.pricing.market`'s chosen price) and the monthly cost of the workload,
  computed by :func:`apps.pricing.compare.usd_per_request` (the Compare page's formula) with the
  month's tokens as one "request";
- its provider's most recent measured speed: tokenwatch's own probe runs first (``BenchmarkRun`` of
  the source ``apps.probes.services.PROBE_SOURCE_KEY``, "probe"), then published benchmarks (LLMPerf, the seed
  table), each with its date and source. A measurement older than
  ``settings.TOKENWATCH_ADVICE_MAX_AGE_DAYS`` is stale;
- whether it meets the SLA: TTFT p50 <= ``max_ttft_ms``, per-request output tokens/s (p50, else the
  mean a source publishes) >= ``min_output_tokens_per_s``, error rate <= ``max_error_rate``.

Offerings that meet the SLA are ranked by monthly cost (then provider slug and region, so the order never
depends on the database). The others are listed with every reason ("TTFT p50 420 ms > 300 ms", "no
measured speed", "stale measurement …"). Without an SLA every priced offering is ranked and a stale or
missing measurement is only marked. A labelled or zero price is never ranked (a missing price is not the
cheapest offer). Measurements taken under a workload other than the one most of the shown measurements
share (input tokens, output tokens, concurrency) are marked not comparable, not hidden.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from apps.benchmarks.models import BenchmarkRun
from apps.catalog.models import Model, Offering, Provider
from apps.pricing.compare import MTOK, Workload, not_ranked_reason, usd_per_request
from apps.pricing.models import MarketPrice, Price
from apps.probes.services import PROBE_SOURCE_KEY

ZERO = Decimal(0)
WorkloadKey = tuple[int | None, int | None, int | None]  # input tokens, output tokens, concurrency


def max_age_days() -> int:
    return settings.TOKENWATCH_ADVICE_MAX_AGE_DAYS


@dataclass(frozen=True)
class SLA:
    """What a latency-sensitive workload needs; None = no limit on that metric."""

    max_ttft_ms: Decimal | None = None
    min_output_tokens_per_s: Decimal | None = None
    max_error_rate: Decimal | None = None

    @property
    def is_set(self) -> bool:
        return any(v is not None for v in (self.max_ttft_ms, self.min_output_tokens_per_s, self.max_error_rate))


@dataclass(frozen=True)
class Measurement:
    """The speed one benchmark run measured at a provider, with where and when it comes from."""

    run_id: int
    source: str  # source key: the probe source, "llmperf", "seed-article"…
    is_probe: bool
    measured_at: datetime | None  # the run's date, else its snapshot's observation time
    ttft_p50_ms: Decimal | None
    output_tokens_per_s: Decimal | None  # per request
    output_tokens_per_s_basis: str  # "p50" or "mean": what the source published
    error_rate: Decimal | None
    workload: WorkloadKey
    stale: bool
    comparable: bool = True

    @property
    def workload_text(self) -> str:
        return workload_text(self.workload)


def workload_text(workload: WorkloadKey | None) -> str:
    if workload is None or all(v is None for v in workload):
        return "not stated"
    i, o, c = ("?" if v is None else f"{v:,}" for v in workload)
    return f"{i} in / {o} out tokens, concurrency {c}"


@dataclass(frozen=True)
class AdviceRow:
    provider: Provider
    region: str
    service_tier: str
    price: Price  # the market's chosen source price
    source: str  # the price's source key
    source_model_id: str
    monthly_usd: Decimal | None
    measurement: Measurement | None
    reasons: tuple[str, ...]  # why it is not ranked; empty when ranked
    litellm_model: str  # "<LiteLLM provider prefix>/<model id>"
    litellm_model_from_cost_map: bool  # False: guessed from the provider's slug and the price's raw id
    rank: int | None = None


@dataclass(frozen=True)
class Advice:
    model: Model
    input_mtok_per_month: Decimal
    output_mtok_per_month: Decimal
    sla: SLA
    max_age_days: int
    as_of: datetime
    reference_workload: WorkloadKey | None  # what most measurements shown share
    ranked: list[AdviceRow] = field(default_factory=list)
    rejected: list[AdviceRow] = field(default_factory=list)

    @property
    def rows(self) -> list[AdviceRow]:
        return [*self.ranked, *self.rejected]


def number_text(value: Decimal) -> str:
    """420 for 420.000, 0.05 for 0.050: figures in reasons read as a person writes them."""
    return f"{value.normalize():f}"


def sla_problems(measurement: Measurement | None, sla: SLA, *, age_days: int) -> list[str]:
    """Every reason the measurement does not show the SLA is met (empty: it is met, or there is no SLA)."""
    if not sla.is_set:
        return []
    if measurement is None:
        return ["no measured speed"]
    if measurement.stale:
        when = measurement.measured_at.date().isoformat() if measurement.measured_at else "undated"
        return [f"stale measurement ({measurement.source}, {when}; older than {age_days} days)"]
    problems = []
    m = measurement
    if sla.max_ttft_ms is not None:
        if m.ttft_p50_ms is None:
            problems.append("no TTFT measured")
        elif m.ttft_p50_ms > sla.max_ttft_ms:
            problems.append(f"TTFT p50 {number_text(m.ttft_p50_ms.quantize(Decimal(1)))} ms > "
                            f"{number_text(sla.max_ttft_ms)} ms")
    if sla.min_output_tokens_per_s is not None:
        if m.output_tokens_per_s is None:
            problems.append("no per-request output speed measured")
        elif m.output_tokens_per_s < sla.min_output_tokens_per_s:
            problems.append(f"output {number_text(m.output_tokens_per_s.quantize(Decimal('0.1')))} tokens/s "
                            f"({m.output_tokens_per_s_basis}) < {number_text(sla.min_output_tokens_per_s)} tokens/s")
    if sla.max_error_rate is not None:
        if m.error_rate is None:
            problems.append("no error rate measured")
        elif m.error_rate > sla.max_error_rate:
            problems.append(f"error rate {number_text(m.error_rate)} > {number_text(sla.max_error_rate)}")
    return problems


def latest_measurements(model: Model, provider_ids: set[int], *, now: datetime,
                        age_days: int) -> dict[int, Measurement]:
    """Per provider, its most recent probe run, else its most recent published run (one query)."""
    probe = PROBE_SOURCE_KEY
    runs = (BenchmarkRun.objects.filter(alias__model=model, provider_id__in=provider_ids)
            .select_related("source", "snapshot")
            .only("id", "provider_id", "measured_at", "ttft_p50_ms", "request_tokens_per_s_p50",
                  "request_tokens_per_s_mean", "error_rate", "requests_completed", "requests_failed",
                  "input_tokens", "output_tokens", "concurrency", "source__key", "snapshot__observed_at"))
    best: dict[int, tuple[tuple[bool, datetime, int], BenchmarkRun]] = {}
    floor = datetime.min.replace(tzinfo=now.tzinfo)
    for run in runs:
        when = run.measured_at or run.snapshot.observed_at
        key = (run.source.key == probe, when or floor, run.pk)
        if run.provider_id not in best or key > best[run.provider_id][0]:  # type: ignore[operator]
            best[run.provider_id] = (key, run)  # type: ignore[index]
    cutoff = now - timedelta(days=age_days)
    out = {}
    for provider_id, ((is_probe, when, _), run) in best.items():
        dated = None if when == floor else when
        speed, basis = run.request_tokens_per_s_p50, "p50"
        if speed is None and run.request_tokens_per_s_mean is not None:
            speed, basis = run.request_tokens_per_s_mean, "mean"
        error_rate = run.error_rate
        total = (run.requests_completed or 0) + (run.requests_failed or 0)
        if error_rate is None and run.requests_failed is not None and total:
            error_rate = Decimal(run.requests_failed) / Decimal(total)
        out[provider_id] = Measurement(
            run_id=run.pk, source=run.source.key, is_probe=is_probe, measured_at=dated,
            ttft_p50_ms=run.ttft_p50_ms, output_tokens_per_s=speed, output_tokens_per_s_basis=basis,
            error_rate=error_rate, workload=run.workload, stale=dated is None or dated < cutoff)
    return out


def reference_workload(measurements: list[Measurement]) -> WorkloadKey | None:
    """The workload most measurements share (ties: the one a probe ran, then the most recent)."""
    if not measurements:
        return None
    counts = Counter(m.workload for m in measurements)
    floor = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    return max(measurements, key=lambda m: (counts[m.workload], m.is_probe, m.measured_at or floor)).workload


def litellm_models(model: Model, provider_ids: set[int]) -> dict[int, str]:
    """Per provider, the model as LiteLLM names it: the LiteLLM cost map's own id where it lists the offering
    ("groq/llama3-70b-8192"; a bare first-party id gets its provider prefix: "openai/gpt-4o")."""
    names: dict[int, str] = {}
    offerings = (Offering.objects.filter(alias__model=model, provider_id__in=provider_ids, source__key="litellm")
                 .order_by("provider_id", "service_tier", "min_prompt_tokens", "source_model_id")
                 .values_list("provider_id", "source_model_id", "alias__provider_hint"))
    for provider_id, raw_id, hint in offerings:
        if provider_id in names:
            continue
        names[provider_id] = raw_id if "/" in raw_id or not hint else f"{hint}/{raw_id}"
    return names


def routing_advice(*, model: Model, input_mtok_per_month: Decimal, output_mtok_per_month: Decimal,
                   sla: SLA | None = None, now: datetime | None = None,
                   max_age: int | None = None) -> Advice:
    """The advice for one model and one month's workload (see the module docstring)."""
    sla = sla or SLA()
    now = now or timezone.now()
    age_days = max_age_days() if max_age is None else max_age
    # The month's tokens as one request: the Compare page's cost formula, exact in Decimal.
    workload = Workload(input_tokens=int(input_mtok_per_month * MTOK), output_tokens=int(output_mtok_per_month * MTOK))
    market = list(MarketPrice.objects.filter(model=model, service_tier="standard", min_prompt_tokens=0)
                  .select_related("provider", "price__offering", "source"))
    provider_ids = {m.provider_id for m in market}
    measured = latest_measurements(model, provider_ids, now=now, age_days=age_days)
    reference = reference_workload(list(measured.values()))
    measured = {pid: _with_comparability(m, reference) for pid, m in measured.items()}
    litellm = litellm_models(model, provider_ids)

    candidates: list[AdviceRow] = []
    for row in market:
        price = row.price
        cost, why = usd_per_request(price, workload)
        problem = not_ranked_reason(price, workload, cost, why)  # the Compare page's rule
        measurement = measured.get(row.provider_id)
        reasons = ([problem] if problem else []) + sla_problems(measurement, sla, age_days=age_days)
        raw_id = price.offering.source_model_id
        candidates.append(AdviceRow(
            provider=row.provider, region=row.region, service_tier=row.service_tier, price=price,
            source=row.source.key, source_model_id=raw_id, monthly_usd=None if problem else cost,
            measurement=measurement, reasons=tuple(reasons),
            litellm_model=litellm.get(row.provider_id) or f"{row.provider.slug.replace('-', '_')}/{raw_id}",
            litellm_model_from_cost_map=row.provider_id in litellm))
    ranked = sorted((r for r in candidates if not r.reasons),
                    key=lambda r: (r.monthly_usd, r.provider.slug, r.region))
    rejected = sorted((r for r in candidates if r.reasons), key=lambda r: (r.provider.slug, r.region))
    return Advice(model=model, input_mtok_per_month=input_mtok_per_month,
                  output_mtok_per_month=output_mtok_per_month, sla=sla, max_age_days=age_days, as_of=now,
                  reference_workload=reference,
                  ranked=[_ranked(r, n) for n, r in enumerate(ranked, start=1)], rejected=rejected)


def _with_comparability(measurement: Measurement, reference: WorkloadKey | None) -> Measurement:
    return replace(measurement, comparable=measurement.workload == reference)


def _ranked(row: AdviceRow, rank: int) -> AdviceRow:
    return replace(row, rank=rank)


def advice_records(advice: Advice) -> list[dict[str, object]]:
    """One flat dict per offering (ranked first): what the API, its CSV and the page show, same names."""
    from .exports import openrouter_slug

    out: list[dict[str, object]] = []
    for row in advice.rows:
        m = row.measurement
        out.append({
            "rank": row.rank, "provider": row.provider.slug, "provider_name": row.provider.name,
            "provider_kind": row.provider.kind, "region": row.region, "service_tier": row.service_tier,
            "source": row.source, "source_model_id": row.source_model_id, "price": row.price.pk,
            "input_usd_per_mtok": row.price.input_usd_per_mtok, "output_usd_per_mtok": row.price.output_usd_per_mtok,
            "price_label": row.price.price_label, "monthly_usd": row.monthly_usd,
            "not_ranked_reason": "; ".join(row.reasons),
            "benchmark": m.run_id if m else None, "speed_source": m.source if m else "",
            "speed_is_probe": m.is_probe if m else None, "measured_at": m.measured_at if m else None,
            "ttft_p50_ms": m.ttft_p50_ms if m else None,
            "output_tokens_per_s": m.output_tokens_per_s if m else None,
            "output_tokens_per_s_basis": m.output_tokens_per_s_basis if m and m.output_tokens_per_s is not None
            else "",
            "error_rate": m.error_rate if m else None,
            "input_tokens": m.workload[0] if m else None, "output_tokens": m.workload[1] if m else None,
            "concurrency": m.workload[2] if m else None,
            "stale": m.stale if m else None, "comparable": m.comparable if m else None,
            "litellm_model": row.litellm_model, "openrouter_provider": openrouter_slug(row.provider),
        })
    return out
