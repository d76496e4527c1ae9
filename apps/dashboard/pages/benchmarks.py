"""Benchmarks (/benchmarks/): the seed article's serving stacks (throughput, P99 latency, cost) and whether they
are comparable, LLMPerf runs per provider, the cost per 1M tokens of self-hosting from hardware price sheets, and
the self-host vs API break-even by monthly volume for a chosen run, hardware price and API offer. Downloads:
``seed``, ``llmperf``, ``hosting``, ``break-even``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from django import forms
from django.http import HttpRequest, HttpResponse

from apps.benchmarks import selectors as bench
from apps.benchmarks.comparability import NOT_STATED
from apps.benchmarks.filtersets import BenchmarkRunFilterSet
from apps.benchmarks.models import BenchmarkRun, HardwarePrice
from apps.catalog.models import Model, Provider
from apps.pricing.models import Price
from apps.pricing.selectors import prices_current

from .. import charts
from .. import selectors as sel
from ..access import analyst_view
from ..forms import BreakEvenForm, bind, error_messages
from ..tables import Column, Table
from .common import (
    DEFAULT_COMPARE_MODEL,
    MONEY_UNIT,
    Chart,
    Page,
    download_response,
    link_providers,
    render_page,
    selected_filters,
)

SEED_COLUMNS = [
    Column("serving_stack", "Serving stack"),
    Column("hardware", "Hardware", title="~ marks an accelerator count the source gives as approximate"),
    Column("accelerator_count_approximate", "Approximate count", kind="bool"),
    Column("precision", "Precision", title="Weights/activations precision the source states (FP16, INT4…)"),
    Column("model", "Model"),
    Column("tokens_per_s", "Throughput", unit="output tokens/s", kind="number", places=0),
    Column("p99_latency_ms", "P99 latency", unit="ms", kind="number", places=0),
    Column("reported_usd_per_mtok", "Cost", unit=MONEY_UNIT, kind="money"),
    Column("cost_is_estimate", "Estimate", kind="bool"),
    Column("implied_usd_per_hour", "Implied hardware price", unit="USD / hour", kind="money", places=2),
    Column("source", "Source"),
    Column("source_label", "Published by"),
    Column("observed_at", "Snapshot", unit="observed", kind="date"),
]
LLMPERF_COLUMNS = [
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model"),
    Column("request_tokens_per_s_mean", "Per-request speed", unit="tokens/s, mean", kind="number", places=1),
    Column("ttft_p50_ms", "TTFT", unit="ms, median", kind="number", places=0),
    Column("p99_latency_ms", "P99 end-to-end latency", unit="ms", kind="number", places=0),
    Column("tokens_per_s", "System throughput", unit="tokens/s", kind="number", places=1),
    Column("error_rate", "Errors", unit="%", kind="pct"),
    Column("mostly_failed", "Mostly failed", kind="bool"),
    Column("workload", "Workload"),
    Column("comparable_group", "Group", title="Runs with the same letter share model, workload, "
                                                         "precision and hardware; different letters are not "
                                                         "comparable"),
    Column("measured_at", "Measured", kind="date"),
    Column("source", "Source"),
    Column("source_kind", "Measured by", title="tokenwatch probe: measured by tokenwatch itself; published: "
                                                "copied from the source"),
    Column("source_label", "Published by"),
]
HOSTING_COLUMNS = [
    Column("serving_stack", "Serving stack"),
    Column("hardware", "Hardware"),
    Column("provider", "Hardware provider"),
    Column("instance_type", "Instance"),
    Column("pricing_model", "Pricing"),
    Column("regions", "Regions", wrap=True),
    Column("usd_per_hour", "Hourly price", unit="USD / hour", kind="money", places=4),
    Column("tokens_per_s", "Throughput", unit="tokens/s", kind="number", places=0),
    Column("utilisation_pct", "Utilisation", unit="%", kind="pct", places=0),
    Column("usd_per_mtok", "Cost", unit=MONEY_UNIT, kind="money", places=4),
    Column("reported_usd_per_mtok", "Reported cost", unit=MONEY_UNIT, kind="money"),
    Column("price_source", "Price source"),
    Column("price_observed_at", "Price observed", kind="date"),
    Column("price_snapshot_at", "Price of", unit="snapshot date", kind="date",
           title="When the hardware price sheet this hourly price comes from was observed"),
]
CURVE_COLUMNS = [
    Column("mtok_per_month", "Volume", unit="M tokens / month", kind="number", places=1),
    Column("self_host_usd_per_month", "Self-host", unit="USD / month", kind="money", places=2),
    Column("api_usd_per_month", "API", unit="USD / month", kind="money", places=2),
]
_SIZE = re.compile(r"(\d+)b", re.IGNORECASE)


# --- the seed table and LLMPerf runs ----------------------------------------------------------------------


def seed_frame(seed_runs: list[BenchmarkRun]) -> pd.DataFrame:
    """The seed runs, each with the hourly hardware price its reported cost implies."""
    seed = bench.runs_frame(seed_runs)
    if not seed.empty:
        seed["precision"] = seed["precision"].replace("", NOT_STATED)
        implied = bench.implied_hourly_prices(seed_runs)
        seed = seed.merge(implied[["run_id", "implied_usd_per_hour"]], on="run_id", how="left") \
            if not implied.empty else seed.assign(implied_usd_per_hour=None)
    return seed


def size_b(model: str, parameter_count: object) -> int | None:
    if parameter_count is not None and parameter_count == parameter_count:
        return int(parameter_count)
    match = _SIZE.search(model or "")
    return int(match.group(1)) if match else None


def llmperf_frame(runs: list[BenchmarkRun]) -> pd.DataFrame:
    """Provider runs (LLMPerf's and tokenwatch's probes) by provider and model size, with the workload they ran,
    who measured them, their comparable group and a link to the provider."""
    llm = bench.runs_frame(runs)
    if not llm.empty:
        params = {r.pk: (r.alias.model.parameter_count_b if r.alias.model_id else None) for r in runs}
        llm["model"] = [m or sid for m, sid in zip(llm["model"], [r.source_model_id for r in runs], strict=True)]
        llm["size_b"] = [size_b(m, params.get(rid)) for m, rid in zip(llm["model"], llm["run_id"], strict=True)]
        llm["provider_slug"] = [r.provider.slug if r.provider_id else "" for r in runs]
        llm["request_tokens_per_s_mean"] = [r.request_tokens_per_s_mean for r in runs]
        llm["workload"] = [f"{r.input_tokens} in / {r.output_tokens} out, {r.concurrency} concurrent" for r in runs]
        llm["error_rate"] = [r.error_rate * 100 if r.error_rate is not None else None for r in runs]
        llm["source_kind"] = [bench.source_kind(r.source.key) for r in runs]
        llm["comparable_group"] = bench.comparable_groups(runs)
        llm = link_providers(llm.sort_values(["provider", "size_b"], kind="stable").reset_index(drop=True))
    return llm


def llmperf_providers() -> list[tuple[str, str]]:
    return list(Provider.objects.filter(benchmark_runs__source__key__in=bench.PROVIDER_RUN_SOURCES).distinct()
                .order_by("name").values_list("slug", "name"))


# --- self-hosting and break-even ------------------------------------------------------------------------


@dataclass
class BreakEven:
    """The break-even form bound, and what it chose: a run, a hardware price, an API offer, and the result."""

    form: forms.Form
    values: dict[str, Any]
    run: BenchmarkRun | None
    api_model: Model | None
    chosen_price: HardwarePrice | None
    chosen_api: dict[str, Any] | None
    result: bench.SelfHostVsApi | None


def hardware_choices(prices: list[HardwarePrice]) -> list[tuple[int, str]]:
    seen: dict[tuple[object, ...], int] = {}
    choices = []
    for price in prices:
        offering = price.offering
        key = (offering.provider_id, offering.instance_type, offering.pricing_model, price.usd_per_hour)
        if key in seen:
            continue
        seen[key] = price.pk
        choices.append((price.pk, f"{offering.provider.name} {offering.instance_type} ({offering.pricing_model}) "
                                  f"{charts.money(price.usd_per_hour)}/h · {offering.source.key}, "
                                  f"price of {price_day(price)}"))
    return choices


def price_day(price: HardwarePrice) -> str:
    """The date of the snapshot an hourly price comes from (a self-hosting cost is only as fresh as its sheet)."""
    return f"{price.snapshot.observed_at:%Y-%m-%d}"


def hardware_price_label(price: HardwarePrice) -> str:
    """"Lambda gpu_8x_h100_sxm5 (8x H100 80GB SXM5) at $31.92/h, price of 2025-06-01 (hardware-csv)"."""
    offering = price.offering
    return (f"{offering.provider.name} {offering.instance_type} ({offering.hardware}) at "
            f"{charts.money(price.usd_per_hour)}/h, price of {price_day(price)} ({offering.source.key})")


def api_offers(model: Model | None) -> list[dict[str, Any]]:
    """The model's plain, standard-tier, base-context offers in force now, cheapest blended (3:1) first."""
    if model is None:
        return []
    offers = sel.offering_prices(prices_current(Price.objects.filter(offering__alias__model=model)), ratio=(3, 1))
    offers = offers[sel.rankable(offers) & (offers["service_tier"] == "standard") & (offers["min_prompt_tokens"] == 0)]
    offers = offers.assign(_f=offers["blended_usd_per_mtok"].map(float)).sort_values("_f", kind="stable")
    return offers.drop(columns=["_f"]).to_dict("records")


def self_host_vs(*, run: BenchmarkRun, usd_per_hour: Decimal, utilisation: Decimal,
                 api: dict[str, Any] | None) -> bench.SelfHostVsApi:
    """The economics colleague's break-even, against the API offer the user picked (the cheapest by default)."""
    from apps.benchmarks import economics

    hosting = economics.SelfHosting(usd_per_hour=usd_per_hour, tokens_per_s=run.tokens_per_s, utilisation=utilisation)
    offer = None
    if api is not None:
        offer = bench.ApiOffer(
            price_id=api["price_id"], offering_id=api["offering_id"], provider=api["provider"],
            source_model_id=api["source_model_id"], service_tier=api["service_tier"],
            input_usd_per_mtok=api["input_usd_per_mtok"], output_usd_per_mtok=api["output_usd_per_mtok"],
            blended_usd_per_mtok=api["blended_usd_per_mtok"], source=api["source"],
            effective_from=api["effective_from"])
    break_even = (economics.break_even_mtok_per_month(hosting=hosting, api_usd_per_mtok=offer.blended_usd_per_mtok)
                  if offer is not None else None)
    return bench.SelfHostVsApi(api=offer, hosting=hosting, break_even_mtok_per_month=break_even,
                               curve=bench.cost_curve(hosting=hosting, api=offer, break_even=break_even))


def api_model_for(run: BenchmarkRun | None) -> Model | None:
    """The model whose API prices a self-hosted run is compared with: the run's own, else Llama 3 70B Instruct."""
    if run is not None and run.alias.model_id:
        return run.alias.model
    return Model.objects.filter(slug=DEFAULT_COMPARE_MODEL).first()


def break_even(request: HttpRequest, hosts: list[BenchmarkRun]) -> BreakEven:
    """Bind the break-even form in two passes: the run first (it decides which hardware prices and API offers
    there are to choose from), then the whole form with those choices; default to vLLM and the cheapest."""
    run_choices = [(r.pk, f"{r.serving_stack or r.source_model_id} on {r.hardware} ({r.tokens_per_s:,.0f} tokens/s)")
                   for r in hosts]
    be_form = BreakEvenForm(request.GET, runs=run_choices)
    be_form.is_valid()
    run_id = be_form.cleaned_data.get("run") if "run" not in be_form.errors else None
    run = next((r for r in hosts if r.pk == run_id), None) or (
        next((r for r in hosts if (r.serving_stack or "").lower() == "vllm"), None) or (hosts[0] if hosts else None))
    hw_prices = list(bench.matching_hardware_prices(run)) if run else []
    hw_prices.sort(key=lambda p: (p.usd_per_hour, p.offering.region))
    hw_choices = hardware_choices(hw_prices)
    api_model = api_model_for(run)
    offers = api_offers(api_model)
    api_choices = [(int(r["price_id"]), f"{r['provider']}{' (' + r['region'] + ')' if r['region'] else ''} · "
                                        f"{charts.money(r['blended_usd_per_mtok'])}/1M blended · {r['source']}")
                   for r in offers]
    be_form, be = bind(BreakEvenForm, request.GET, runs=run_choices, hardware_prices=hw_choices,
                       api_prices=api_choices)
    chosen_price = next((p for p in hw_prices if p.pk == be["hardware_price"]), hw_prices[0] if hw_prices else None)
    chosen_api = next((r for r in offers if r["price_id"] == be["api_price"]), offers[0] if offers else None)
    result = None
    if run is not None and chosen_price is not None:
        result = self_host_vs(run=run, usd_per_hour=chosen_price.usd_per_hour,
                              utilisation=Decimal(be["utilisation_pct"]) / 100, api=chosen_api)
    return BreakEven(form=be_form, values=be, run=run, api_model=api_model, chosen_price=chosen_price,
                     chosen_api=chosen_api, result=result)


# --- charts ----------------------------------------------------------------------------------------------


def seed_chart(seed: pd.DataFrame, spreads: bench.RunSpreads | None) -> Chart:
    bubbles = Chart("seed", "Throughput vs P99 latency vs cost", empty=(
        "No seed benchmark runs with throughput and latency: upload the benchmarks CSV."))
    plotted = seed[seed["tokens_per_s"].notna() & seed["p99_latency_ms"].notna()] if not seed.empty else seed
    if not plotted.empty:
        bubbles.figure = charts.benchmark_bubbles_figure(plotted)
        bubbles.summary = charts.benchmark_bubbles_summary(plotted, spreads)
        if spreads is not None and not spreads.comparable:
            bubbles.note = ("Not comparable: " + "; ".join(spreads.reasons) + ". Colour shows precision; "
                            "~ marks an approximate accelerator count.")
    return bubbles


def llmperf_chart(llm: pd.DataFrame) -> Chart:
    perf = Chart("llmperf", "Provider runs: per-request speed vs time to first token",
                 empty="No LLMPerf or probe runs match these filters.")
    if not llm.empty and llm["ttft_p50_ms"].notna().any():
        drawn = llm[llm["ttft_p50_ms"].notna() & llm["request_tokens_per_s_mean"].notna()]
        # A probe run is its own series beside the provider's published runs (same colour, diamonds, own legend entry).
        drawn = drawn.assign(provider=[f"{name} (tokenwatch probe)" if source == bench.PROBE_SOURCE_KEY else name
                                       for name, source in zip(drawn["provider"], drawn["source"], strict=True)])
        perf.figure = charts.llmperf_figure(drawn)
        perf.summary = charts.llmperf_summary(drawn)
        if (drawn["source"] == bench.PROBE_SOURCE_KEY).any():
            perf.summary = perf.summary.replace(" LLMPerf runs", " runs (LLMPerf and tokenwatch probes)", 1)
        workloads = sorted(set(llm["workload"]))
        perf.note = "Marker size grows with model size (7B, 13B, 70B). " + (
            f"All runs share one workload: {workloads[0]}." if len(workloads) == 1 else
            "Not comparable across workloads: " + "; ".join(workloads) + ". Compare runs of one group "
            "(the table's Group letters).")
    return perf


def hosting_chart(hosting: pd.DataFrame) -> Chart:
    host_chart = Chart("hosting", "Cost per 1M tokens on rented hardware",
                       empty="No benchmark run matches an instance in the hardware price sheets.")
    if not hosting.empty:
        host_chart.figure = charts.self_host_cost_figure(hosting)
        host_chart.summary = charts.self_host_cost_summary(hosting)
    return host_chart


def break_even_chart(be: BreakEven) -> Chart:
    curve = Chart("break-even", "Self-host vs API: monthly cost", empty=(
        "No break-even curve: it needs a benchmark run with hardware, an hourly price for that hardware and an API "
        "price for the model."))
    result, run, chosen_price = be.result, be.run, be.chosen_price
    if result is not None and run is not None and chosen_price is not None:
        hosting_label = (f"{run.serving_stack} on {hardware_price_label(chosen_price)}, "
                         f"{be.values['utilisation_pct']} % utilised")
        api_label = (f"{result.api.provider} {result.api.source_model_id} at "
                     f"{charts.money(result.api.blended_usd_per_mtok)}/1M" if result.api else "no API price")
        curve.figure = charts.break_even_figure(result.curve, break_even=result.break_even_mtok_per_month,
                                                api_label=api_label, hosting_label=hosting_label)
        curve.summary = charts.break_even_summary(
            break_even=result.break_even_mtok_per_month, api_label=api_label, hosting_label=hosting_label,
            self_host_usd_per_mtok=result.hosting.usd_per_mtok,
            api_usd_per_mtok=result.api.blended_usd_per_mtok if result.api else None)
    return curve


@analyst_view
def benchmarks(request: HttpRequest) -> HttpResponse:
    """Seed benchmark spreads, LLMPerf runs, self-hosting cost from hardware prices, and the break-even curve."""
    page = Page()
    as_of = sel.today()
    seed_runs = list(bench.benchmark_runs(source_key="benchmarks-csv"))
    seed = seed_frame(seed_runs)
    spreads = bench.run_spreads(seed_runs) if seed_runs else None

    filterset = BenchmarkRunFilterSet(request.GET, queryset=bench.provider_speed_runs())
    runs = list(filterset.qs.select_related("alias__model", "provider", "hardware", "source", "snapshot")
                .defer("snapshot__content"))
    llm = llmperf_frame(runs)

    hosts = [r for r in seed_runs if r.hardware_id and r.tokens_per_s]
    be = break_even(request, hosts)
    page.errors += error_messages(filterset.form, be.form)
    utilisation = Decimal(be.values["utilisation_pct"]) / 100
    hosting = sel.same_price_once(bench.self_hosting_costs(runs=hosts, utilisation=utilisation))

    page.tables += [
        Table("seed", "The seed article's serving stacks", SEED_COLUMNS, seed, stem="benchmarks-seed", as_of=as_of,
              empty_message="No seed benchmark table loaded (source benchmarks-csv)."),
        # Id and file stem stay "llmperf": shared links and scheduled downloads name them.
        Table("llmperf", "Provider runs: LLMPerf and tokenwatch probes", LLMPERF_COLUMNS, llm,
              stem="benchmarks-llmperf", as_of=as_of,
              caption=("Published LLMPerf runs beside tokenwatch's own probe runs. Runs in different groups (the "
                       "Group letter: model, workload, precision or hardware differ) are not comparable. "
                       + (f"Comparable: {bench.run_comparability(runs).statement}." if runs else "")).strip(),
              empty_message="No LLMPerf or probe runs match these filters."),
        Table("hosting", "Cost per 1M tokens from hardware prices", HOSTING_COLUMNS, hosting,
              stem="benchmarks-self-hosting", as_of=as_of,
              caption=(f"usd_per_mtok = usd_per_hour / (tokens_per_s × {be.values['utilisation_pct']} % × 3600) × 1e6. "
                       "Hourly prices are as of the snapshot named in “Price of”; clouds re-price often."),
              empty_message="No benchmark run matches an instance in the hardware price sheets."),
        Table("break-even", "Self-host vs API by monthly volume", CURVE_COLUMNS,
              be.result.curve if be.result is not None else pd.DataFrame(), stem="benchmarks-break-even",
              as_of=as_of, empty_message="No break-even curve: it needs a run with hardware, a price for that "
                                         "hardware and an API price for the model."),
    ]
    if (response := download_response(request, page.tables)) is not None:
        return response

    page.charts += [seed_chart(seed, spreads), llmperf_chart(llm), hosting_chart(hosting), break_even_chart(be)]
    return render_page(request, "dashboard/benchmarks.html", page, spreads=spreads, filterset=filterset,
                       be_form=be.form, be=be.values, run=be.run, api_model=be.api_model, result=be.result,
                       chosen_price=be.chosen_price,
                       chosen_price_label=hardware_price_label(be.chosen_price) if be.chosen_price else "",
                       chosen_api=be.chosen_api, selected=selected_filters(request.GET),
                       provider_choices=llmperf_providers(), size_classes=sel.size_classes())
