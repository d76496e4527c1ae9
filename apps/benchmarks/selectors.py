"""Reads for benchmarks, hardware prices and the token economics that join them with API prices.

Querysets for lists, dataclasses and pandas DataFrames for charts; the math is
in :mod:`apps.benchmarks.economics`. Every row a selector returns names its
source and observation time (invariant 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Q, QuerySet

from apps.catalog.models import Model, Provider
from apps.pricing.models import Price

from . import economics
from .comparability import Comparability, RunContext, comparability, workload_label
from .models import BenchmarkRun, HardwarePrice

ONE = Decimal(1)
# tokenwatch's own measurements: apps.probes stores each probe run as a run of this source (its
# services.PROBE_SOURCE_KEY; named here too because apps.probes imports this app, not the reverse).
PROBE_SOURCE_KEY = "probe"
# Sources whose runs measure an API provider per request (TTFT, per-request speed): LLMPerf's published
# leaderboard and tokenwatch's probes. Shown side by side, marked by source.
PROVIDER_RUN_SOURCES = ("llmperf", PROBE_SOURCE_KEY)


# --- benchmark runs ---------------------------------------------------------------


def benchmark_runs(*, model: Model | None = None, source_key: str | None = None,
                   include_mostly_failed: bool = True) -> QuerySet[BenchmarkRun]:
    runs = BenchmarkRun.objects.select_related("alias__model", "provider", "hardware", "source", "snapshot").defer(
        "snapshot__content")
    if model is not None:
        runs = runs.filter(alias__model=model)
    if source_key is not None:
        runs = runs.filter(source__key=source_key)
    if not include_mostly_failed:
        runs = runs.filter(mostly_failed=False)
    return runs


def provider_speed_runs() -> QuerySet[BenchmarkRun]:
    """Runs that measure an API provider per request: published (LLMPerf) and tokenwatch's own probes."""
    return benchmark_runs().filter(source__key__in=PROVIDER_RUN_SOURCES)


def source_kind(source_key: str) -> str:
    """How a run came to be: measured by tokenwatch itself, or published by someone else."""
    return "tokenwatch probe" if source_key == PROBE_SOURCE_KEY else "published"


def provider_runs_q(provider: Provider) -> Q:
    """Runs a provider served: those naming it, and runs naming no provider on its own accelerator.

    The seed article's "Groq LPU System on ~40 Groq LPU" names no API provider, but a Groq LPU is Groq's chip
    and system: the run is Groq's. Accelerator names are stored without vendor prefixes (H100, not NVIDIA H100),
    so a cloud's name never matches another vendor's chip this way.
    """
    name = provider.name.strip()
    own_silicon = Q(provider__isnull=True) & (Q(hardware__accelerator__iexact=name)
                                              | Q(hardware__accelerator__istartswith=f"{name} "))
    return Q(provider=provider) | own_silicon


def provider_runs(provider: Provider) -> QuerySet[BenchmarkRun]:
    return benchmark_runs().filter(provider_runs_q(provider))


def own_silicon_provider(accelerator: str, providers: dict[str, str]) -> str | None:
    """The slug of the provider whose own chip ``accelerator`` is ("Groq LPU" -> groq), by the rule of
    :func:`provider_runs_q`; ``providers`` maps casefolded provider names to slugs."""
    name = accelerator.strip().casefold()
    matches = [provider for provider in providers if name == provider or name.startswith(f"{provider} ")]
    return providers[max(matches, key=len)] if matches else None  # the longest name is the most specific


def measured_speed_frame(runs: Sequence[BenchmarkRun]) -> pd.DataFrame:
    """A model's benchmark runs with their full context (source, stack, hardware, precision, workload) and
    metrics, and the provider that served each: the one it names, else the maker of its own accelerator."""
    frame = runs_frame(runs)
    if frame.empty:
        return frame
    by_slug = dict(Provider.objects.values_list("slug", "name"))
    names = {name.casefold(): slug for slug, name in by_slug.items()}
    slugs, labels = [], []
    for run in runs:
        if run.provider_id:
            slug = run.provider.slug
        else:
            slug = (own_silicon_provider(run.hardware.accelerator, names) if run.hardware_id else None) or ""
        slugs.append(slug)
        labels.append(by_slug.get(slug, ""))
    frame["provider_slug"], frame["provider"] = slugs, labels
    frame["precision"] = frame["precision"].replace("", "not stated")
    frame["workload"] = [workload_label(r.workload) for r in runs]
    frame["request_tokens_per_s_mean"] = [r.request_tokens_per_s_mean for r in runs]
    frame["source_kind"] = [source_kind(r.source.key) for r in runs]
    frame["comparable_group"] = comparable_groups(runs)
    return frame


def runs_frame(runs: Iterable[BenchmarkRun]) -> pd.DataFrame:
    """One row per run, units in the column names, with provenance."""
    rows = []
    for run in runs:
        model = run.alias.model
        rows.append({
            "run_id": run.pk,
            "model": model.name if model else run.source_model_id,
            "model_slug": model.slug if model else "",
            "provider": run.provider.name if run.provider_id else "",
            "serving_stack": run.serving_stack,
            "precision": run.precision,
            "hardware": run.hardware_label,
            "accelerator_count_approximate": run.accelerator_count_approximate,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "concurrency": run.concurrency,
            "tokens_per_s": run.tokens_per_s,
            "ttft_p50_ms": run.ttft_p50_ms,
            "p99_latency_ms": run.p99_latency_ms,
            "error_rate": run.error_rate,
            "mostly_failed": run.mostly_failed,
            "reported_usd_per_mtok": run.reported_usd_per_mtok,
            "cost_is_estimate": run.cost_is_estimate,
            "measured_at": run.measured_at,
            "source": run.source.key,
            "source_label": run.source_label,
            "observed_at": run.snapshot.observed_at,
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RunSpreads:
    """max/min across a set of runs, and whether ranking them together is fair."""

    runs: int
    throughput_spread: Decimal | None
    p99_latency_spread: Decimal | None
    cost_spread: Decimal | None
    comparable: bool
    reasons: tuple[str, ...] = field(default=())  # why not comparable: "precision differs: FP16 vs INT4"
    workloads: tuple[tuple[int | None, int | None, int | None], ...] = field(default=())
    statement: str = ""  # "no: precision differs: FP16 vs INT4; hardware differs: 8x H100 vs ~40x Groq LPU"


def run_context(run: BenchmarkRun) -> RunContext:
    model = run.alias.model
    return RunContext(model=model.name if model else run.source_model_id, workload=run.workload,
                      precision=run.precision, hardware=run.hardware_label)


def comparable_groups(runs: Sequence[BenchmarkRun]) -> list[str]:
    """A letter per run, A, B, … in order of first appearance: runs with the same letter share model, workload,
    precision and hardware (comparable); runs with different letters are not to be ranked together."""
    letters: dict[tuple[object, ...], str] = {}
    groups = []
    for run in runs:
        context = run_context(run)
        key = (context.model, context.workload, (context.precision or "").strip().casefold(),
               (context.hardware or "").strip().casefold())
        if key not in letters:
            count = len(letters)
            letters[key] = chr(ord("A") + count) if count < 26 else f"Z{count - 25}"
        groups.append(letters[key])
    return groups


def run_comparability(runs: Sequence[BenchmarkRun]) -> Comparability:
    """Same model, workload, precision and hardware? (:func:`apps.benchmarks.comparability.comparability`)."""
    return comparability([run_context(r) for r in runs])


def run_spreads(runs: Sequence[BenchmarkRun]) -> RunSpreads:
    """Throughput, P99 latency and cost spreads, marked not comparable where the model, workload, precision or
    hardware differ.

    The seed table: 18000/1200 = 15x throughput, 350/18 = 19.4x P99 latency,
    8.50/0.75 = 11.3x cost, one model and one (unstated) workload, but FP16 and
    INT4 (and an unstated precision) on 8x H100 and ~40x Groq LPU: not comparable.
    """
    workloads = tuple(sorted({r.workload for r in runs}, key=lambda w: tuple(-1 if v is None else v for v in w)))
    verdict = run_comparability(runs)
    return RunSpreads(
        runs=len(runs),
        throughput_spread=economics.spread([r.tokens_per_s for r in runs]),
        p99_latency_spread=economics.spread([r.p99_latency_ms for r in runs]),
        cost_spread=economics.spread([r.reported_usd_per_mtok for r in runs]),
        comparable=verdict.comparable,
        reasons=verdict.differences,
        workloads=workloads,
        statement=verdict.statement,
    )


def implied_hourly_prices(runs: Iterable[BenchmarkRun]) -> pd.DataFrame:
    """For each run reporting a cost per 1M tokens, the hourly hardware price that cost implies."""
    rows = []
    for run in runs:
        if run.reported_usd_per_mtok is None or not run.tokens_per_s:
            continue
        rows.append({
            "run_id": run.pk,
            "serving_stack": run.serving_stack,
            "hardware": run.hardware_label,
            "tokens_per_s": run.tokens_per_s,
            "reported_usd_per_mtok": run.reported_usd_per_mtok,
            "cost_is_estimate": run.cost_is_estimate,
            "implied_usd_per_hour": economics.usd_per_hour_implied(usd_per_mtok=run.reported_usd_per_mtok,
                                                                   tokens_per_s=run.tokens_per_s),
            "source": run.source.key,
        })
    return pd.DataFrame(rows)


# --- hardware prices --------------------------------------------------------------


def _at(as_of: date | datetime | None) -> datetime:
    if as_of is None:
        return datetime.now(UTC)
    if isinstance(as_of, datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    return datetime.combine(as_of, time.max, tzinfo=UTC)


def hardware_prices(*, as_of: date | datetime | None = None, accelerator: str | None = None,
                    accelerator_count: int | None = None, pricing_model: str | None = None,
                    ) -> QuerySet[HardwarePrice]:
    """Hourly prices in force at ``as_of`` (now by default)."""
    at = _at(as_of)
    prices = (HardwarePrice.objects.select_related("offering__provider", "offering__hardware", "offering__source",
                                                   "snapshot")
              .defer("snapshot__content")  # the raw sheet's bytes are not needed to name its date
              .filter(effective_from__lte=at).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at)))
    if accelerator is not None:
        prices = prices.filter(offering__hardware__accelerator__iexact=accelerator)
    if accelerator_count is not None:
        prices = prices.filter(offering__hardware__accelerator_count=accelerator_count)
    if pricing_model is not None:
        prices = prices.filter(offering__pricing_model=pricing_model)
    return prices


def matching_hardware_prices(run: BenchmarkRun, *, as_of: date | datetime | None = None) -> QuerySet[HardwarePrice]:
    """Prices of instances with the run's accelerator and count (and memory/form factor where the run states them)."""
    hardware = run.hardware
    if hardware is None:
        return HardwarePrice.objects.none()
    prices = hardware_prices(as_of=as_of, accelerator=hardware.accelerator,
                             accelerator_count=hardware.accelerator_count)
    if hardware.accelerator_memory_gib:
        prices = prices.filter(offering__hardware__accelerator_memory_gib=hardware.accelerator_memory_gib)
    if hardware.form_factor:
        prices = prices.filter(offering__hardware__form_factor__iexact=hardware.form_factor)
    return prices


def self_hosting_costs(*, runs: Iterable[BenchmarkRun], as_of: date | datetime | None = None,
                       utilisation: Decimal = ONE) -> pd.DataFrame:
    """Cost per 1M tokens of each run on each instance that matches its hardware.

    Regions with the same price are one row (``regions`` lists them). E.g. the
    seed vLLM run (3,800 tokens/s on 8x H100) on Lambda's gpu_8x_h100_sxm5 at
    31.92 USD/h: 2.33 USD per 1M tokens.
    """
    rows: dict[tuple[object, ...], dict[str, object]] = {}
    for run in runs:
        if not run.tokens_per_s:
            continue
        for price in matching_hardware_prices(run, as_of=as_of):
            offering = price.offering
            key = (run.pk, offering.source_id, offering.provider_id, offering.instance_type, offering.pricing_model,
                   price.usd_per_hour)
            row = rows.get(key)
            if row is not None:
                row["regions"] = ", ".join(sorted({*str(row["regions"]).split(", "), offering.region} - {""}))
                continue
            rows[key] = {
                "run_id": run.pk,
                "model": run.alias.model.name if run.alias.model_id else run.source_model_id,
                "serving_stack": run.serving_stack,
                "tokens_per_s": run.tokens_per_s,
                "provider": offering.provider.name,
                "instance_type": offering.instance_type,
                "hardware": str(offering.hardware),
                "pricing_model": offering.pricing_model,
                "regions": offering.region,
                "usd_per_hour": price.usd_per_hour,
                "utilisation": utilisation,
                "usd_per_mtok": economics.usd_per_mtok_from_hourly(
                    usd_per_hour=price.usd_per_hour, tokens_per_s=run.tokens_per_s, utilisation=utilisation),
                "reported_usd_per_mtok": run.reported_usd_per_mtok,
                "price_source": offering.source.key,
                "price_observed_at": price.effective_from,
                # The snapshot the price comes from: a self-hosting cost names the date of its hardware price.
                "price_snapshot_at": price.snapshot.observed_at,
            }
    frame = pd.DataFrame(list(rows.values()))
    return frame.sort_values(["run_id", "usd_per_mtok"]).reset_index(drop=True) if len(frame) else frame


# --- API prices: cheapest labelled offer, cheapest price over time ----------------------


@dataclass(frozen=True)
class ApiOffer:
    price_id: int
    offering_id: int
    provider: str
    source_model_id: str
    service_tier: str
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    blended_usd_per_mtok: Decimal
    source: str
    effective_from: datetime | None


def _api_prices(*, model: Model | None = None, size_class: str | None = None) -> QuerySet[Price]:
    """Plain per-token prices: no label (free/variable/unknown), both components given and above zero
    (a zero is a free tier or a gap in the sheet, never the cheapest offer), base context tier."""
    prices = (Price.objects.filter(price_label="", input_usd_per_mtok__gt=0, output_usd_per_mtok__gt=0,
                                   offering__min_prompt_tokens=0)
              .select_related("offering__provider", "offering__source"))
    if model is not None:
        prices = prices.filter(offering__alias__model=model)
    if size_class is not None:
        prices = prices.filter(offering__alias__model__size_class=size_class)
    return prices


def cheapest_api_offer(*, model: Model, as_of: date | datetime | None = None, input_ratio: int = 3,
                       output_ratio: int = 1, service_tier: str | None = "standard") -> ApiOffer | None:
    """The cheapest API offer for a model at ``as_of`` by blended price.

    Only plain prices count: a labelled price (free, variable, unknown) or a
    zero in either component never wins.
    """
    at = _at(as_of)
    prices = (_api_prices(model=model)
              .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=at))
              .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at)))
    if service_tier is not None:
        prices = prices.filter(offering__service_tier=service_tier)
    best: ApiOffer | None = None
    for price in prices:
        blended = economics.blended_usd_per_mtok(
            input_usd_per_mtok=price.input_usd_per_mtok, output_usd_per_mtok=price.output_usd_per_mtok,
            input_ratio=input_ratio, output_ratio=output_ratio)
        if blended <= 0:
            continue
        if best is None or blended < best.blended_usd_per_mtok:
            offering = price.offering
            best = ApiOffer(price_id=price.pk, offering_id=offering.pk, provider=offering.provider.name,
                            source_model_id=offering.source_model_id, service_tier=offering.service_tier,
                            input_usd_per_mtok=price.input_usd_per_mtok,
                            output_usd_per_mtok=price.output_usd_per_mtok, blended_usd_per_mtok=blended,
                            source=offering.source.key, effective_from=price.effective_from)
    return best


@dataclass(frozen=True)
class SelfHostVsApi:
    api: ApiOffer | None
    hosting: economics.SelfHosting
    break_even_mtok_per_month: Decimal | None
    curve: pd.DataFrame  # mtok_per_month, self_host_usd_per_month, api_usd_per_month


def self_host_vs_api(*, model: Model, usd_per_hour: Decimal, tokens_per_s: Decimal, utilisation: Decimal = ONE,
                     as_of: date | datetime | None = None, input_ratio: int = 3, output_ratio: int = 1,
                     points: int = 60) -> SelfHostVsApi:
    """Monthly cost of self-hosting vs the cheapest API offer, the break-even volume, and the cost curve."""
    hosting = economics.SelfHosting(usd_per_hour=usd_per_hour, tokens_per_s=tokens_per_s, utilisation=utilisation)
    api = cheapest_api_offer(model=model, as_of=as_of, input_ratio=input_ratio, output_ratio=output_ratio)
    break_even = (economics.break_even_mtok_per_month(hosting=hosting, api_usd_per_mtok=api.blended_usd_per_mtok)
                  if api is not None else None)
    return SelfHostVsApi(api=api, hosting=hosting, break_even_mtok_per_month=break_even,
                         curve=cost_curve(hosting=hosting, api=api, break_even=break_even, points=points))


def cost_curve(*, hosting: economics.SelfHosting, api: ApiOffer | None, break_even: Decimal | None,
               points: int = 60) -> pd.DataFrame:
    """Monthly cost vs monthly volume on a log scale from 1 M tokens to 10x the larger of break-even and capacity."""
    top = max(hosting.instance_mtok_per_month, break_even or Decimal(0)) * 10
    volumes = {Decimal(repr(round(float(v), 6))) for v in np.geomspace(1, max(float(top), 10.0), points)}
    for extra in (break_even, hosting.instance_mtok_per_month):
        if extra is not None:
            volumes.add(extra)
    rows = []
    for volume in sorted(volumes):
        rows.append({
            "mtok_per_month": volume,
            "self_host_usd_per_month": hosting.usd_per_month(volume),
            "api_usd_per_month": (economics.api_usd_per_month(mtok_per_month=volume,
                                                              usd_per_mtok=api.blended_usd_per_mtok)
                                  if api is not None else None),
        })
    return pd.DataFrame(rows)


def cheapest_blended_series(*, model: Model | None = None, size_class: str | None = None,
                            since: date | datetime | None = None, until: date | datetime | None = None,
                            input_ratio: int = 3, output_ratio: int = 1) -> pd.DataFrame:
    """The cheapest labelled blended price over time, for a model or a class of models (``70b-class``).

    One row per change of the cheapest price (at, usd_per_mtok, provider,
    source_model_id, source); with ``until`` a last row holds the price then.
    Prices with a label (free, variable, unknown) or a zero blended price are left out.
    """
    if model is None and size_class is None:
        raise ValueError("give a model or a size class")
    rows = list(_api_prices(model=model, size_class=size_class).filter(offering__service_tier="standard"))
    entries = []
    for price in rows:
        blended = economics.blended_usd_per_mtok(
            input_usd_per_mtok=price.input_usd_per_mtok, output_usd_per_mtok=price.output_usd_per_mtok,
            input_ratio=input_ratio, output_ratio=output_ratio)
        if blended > 0:
            entries.append((price, blended))
    columns = ["at", "usd_per_mtok", "provider", "source_model_id", "source"]
    if not entries:
        return pd.DataFrame(columns=columns)
    never = np.datetime64("1970-01-01T00:00:00")
    forever = np.datetime64("9999-01-01T00:00:00")
    starts = np.array([_np(p.effective_from) if p.effective_from else never for p, _ in entries])
    ends = np.array([_np(p.effective_to) if p.effective_to else forever for p, _ in entries])
    values = np.array([float(b) for _, b in entries])
    boundaries = sorted({p.effective_from for p, _ in entries if p.effective_from}
                        | {p.effective_to for p, _ in entries if p.effective_to})
    lower, upper = (_at(since) if since else None), (_at(until) if until else None)
    if lower is not None:
        boundaries = [b for b in boundaries if b >= lower] + ([lower] if lower not in boundaries else [])
    if upper is not None:
        boundaries = [b for b in boundaries if b <= upper] + [upper]
    out = []
    previous: tuple[Decimal, int] | None = None
    for at in sorted(set(boundaries)):
        valid = (starts <= _np(at)) & (ends > _np(at))
        if not valid.any():
            previous = None
            continue
        index = int(np.flatnonzero(valid)[np.argmin(values[valid])])
        price, blended = entries[index]
        if previous is not None and previous[0] == blended and at != upper:
            continue
        previous = (blended, index)
        offering = price.offering
        out.append({"at": at, "usd_per_mtok": blended, "provider": offering.provider.name,
                    "source_model_id": offering.source_model_id, "source": offering.source.key})
    return pd.DataFrame(out, columns=columns)


def _np(value: datetime) -> np.datetime64:
    return np.datetime64(value.astimezone(UTC).replace(tzinfo=None), "s")


@dataclass(frozen=True)
class TrendReport:
    series: pd.DataFrame
    trend: economics.PriceTrend | None
    threshold_usd_per_mtok: Decimal | None
    crosses_on: date | None


def price_trend_report(*, model: Model | None = None, size_class: str | None = None,
                       threshold_usd_per_mtok: Decimal | None = None, since: date | datetime | None = None,
                       until: date | datetime | None = None, input_ratio: int = 3,
                       output_ratio: int = 1) -> TrendReport:
    """Decline rate and halving time of the cheapest blended price, and when it crosses a threshold."""
    series = cheapest_blended_series(model=model, size_class=size_class, since=since, until=until,
                                     input_ratio=input_ratio, output_ratio=output_ratio)
    trend = economics.price_trend(list(zip(series["at"], series["usd_per_mtok"], strict=True))) if len(series) else None
    crosses = trend.crossing(threshold_usd_per_mtok) if trend is not None and threshold_usd_per_mtok else None
    return TrendReport(series=series, trend=trend, threshold_usd_per_mtok=threshold_usd_per_mtok, crosses_on=crosses)
