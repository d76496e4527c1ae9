"""Measured speed of one model: its benchmark runs with their context, shown on the model's page and on the
Compare page's speed card (the seed article's Llama 3 70B serving stacks measure system throughput, not the
per-request speed the price-vs-speed chart plots, so they are listed beside it rather than drawn on it)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from django.db.models import F

from apps.benchmarks import selectors as bench
from apps.benchmarks.comparability import NOT_STATED, RunContext, comparability
from apps.catalog.models import Model, Provider

from .. import selectors as sel
from ..tables import Column, Table
from .common import MONEY_UNIT, link_models, link_providers

SPEED_COLUMNS = [
    Column("source", "Source"),
    Column("source_kind", "Measured by", title="tokenwatch probe: measured by tokenwatch itself; published: "
                                                "copied from the source"),
    Column("source_label", "Published by"),
    Column("comparable_group", "Group", title="Runs with the same letter share model, workload, "
                                                         "precision and hardware; different letters are not "
                                                         "comparable"),
    Column("serving_stack", "Serving stack"),
    Column("provider", "Served by", link="provider_url"),
    Column("hardware", "Hardware", title="~ marks an accelerator count the source gives as approximate"),
    Column("precision", "Precision"),
    Column("workload", "Workload"),
    Column("tokens_per_s", "System throughput", unit="output tokens/s", kind="number", places=0),
    Column("request_tokens_per_s_mean", "Per-request speed", unit="tokens/s, mean", kind="number", places=1),
    Column("ttft_p50_ms", "TTFT", unit="ms, median", kind="number", places=0),
    Column("p99_latency_ms", "P99 latency", unit="ms", kind="number", places=0),
    Column("reported_usd_per_mtok", "Reported cost", unit=MONEY_UNIT, kind="money"),
    Column("measured_at", "Measured", kind="date"),
    Column("observed_at", "Snapshot", unit="observed", kind="date"),
]


def measured_speed(model: Model) -> pd.DataFrame:
    runs = list(bench.benchmark_runs(model=model).order_by("source__key", "-tokens_per_s"))
    frame = bench.measured_speed_frame(runs)
    return link_providers(frame) if not frame.empty else frame


def comparability_statement(frame: pd.DataFrame) -> str:
    """"Comparable: no: workload differs: …" for the runs of a measured-speed frame (what differs, by name)."""
    if frame.empty:
        return ""
    contexts = [RunContext(model=str(r.model), precision="" if r.precision == NOT_STATED else str(r.precision or ""),
                           hardware=str(r.hardware or ""), workload=(_int(r.input_tokens), _int(r.output_tokens),
                                                                     _int(r.concurrency)))
                for r in frame.itertuples()]
    return f"Comparable: {comparability(contexts).statement}."


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[arg-type]


def measured_speed_table(frame: pd.DataFrame, model: Model | None, *, stem: str, as_of: date,
                         columns: list[Column] | None = None, title: str = "", empty_message: str = "") -> Table:
    name = model.name if model is not None else "it"
    return Table("speed", title or f"Measured speed of {name}", columns or SPEED_COLUMNS, frame,
                 stem=f"{stem}-measured-speed", as_of=as_of, caption=(
                     "Every benchmark run with its context, tokenwatch's own probe runs beside published ones: runs "
                     "in different groups (the Group letter: workload, precision or hardware differ) are not "
                     "comparable. "
                     "System throughput counts all concurrent requests together. "
                     + comparability_statement(frame)).strip(),
                 empty_message=empty_message or f"No benchmark run measures {name}.")


def provider_speed(provider: Provider) -> tuple[pd.DataFrame, list[Column]]:
    """The runs a provider served (tokenwatch's probes, LLMPerf, runs on its own chip), newest first, and the
    speed table's columns with the model first."""
    runs = list(bench.provider_runs(provider).order_by(F("measured_at").desc(nulls_last=True), "source__key", "pk"))
    frame = bench.measured_speed_frame(runs)
    # "Served by" is the page's own provider: the model takes its place (the table stays readable at 1440 px).
    columns = [Column("model", "Model", link="model_url"), *(c for c in SPEED_COLUMNS if c.key != "provider")]
    if frame.empty:
        return frame, columns
    return link_models(link_providers(frame)), columns


def with_provider_prices(frame: pd.DataFrame, offerings: pd.DataFrame, *, unit: str) -> tuple[pd.DataFrame,
                                                                                               list[Column]]:
    """The measured runs beside the cheapest plain blended price (standard tier, base context) of the provider
    that served each, where it lists one: price against measured speed for runs the per-request chart cannot
    draw (the seed article's Groq LPU System against Groq's own price)."""
    columns = list(SPEED_COLUMNS)
    columns.insert(4, Column("blended_usd_per_mtok", "Its price", unit=unit, kind="money",
                             title="The serving provider's cheapest plain blended price for this model today"))
    if frame.empty:
        return frame, columns
    prices: dict[str, object] = {}
    if not offerings.empty:
        priced = offerings[sel.rankable(offerings) & (offerings["min_prompt_tokens"] == 0)
                           & (offerings["service_tier"] == "standard")]
        for slug, value in zip(priced["provider_slug"], priced["blended_usd_per_mtok"], strict=True):
            if slug not in prices or float(value) < float(prices[slug]):
                prices[slug] = value
    return frame.assign(blended_usd_per_mtok=[prices.get(s) for s in frame["provider_slug"]]), columns
