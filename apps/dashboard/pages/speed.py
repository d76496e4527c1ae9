"""Measured speed of one model: its benchmark runs with their context, shown on the model's page and on the
Compare page's speed card (the seed article's Llama 3 70B serving stacks measure system throughput, not the
per-request speed the price-vs-speed chart plots, so they are listed beside it rather than drawn on it)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from apps.benchmarks import selectors as bench
from apps.catalog.models import Model

from .. import selectors as sel
from ..tables import Column, Table
from .common import MONEY_UNIT, link_providers

SPEED_COLUMNS = [
    Column("source", "Source"),
    Column("source_label", "Published by"),
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


def measured_speed_table(frame: pd.DataFrame, model: Model, *, stem: str, as_of: date,
                         columns: list[Column] | None = None) -> Table:
    return Table("speed", f"Measured speed of {model.name}", columns or SPEED_COLUMNS, frame,
                 stem=f"{stem}-measured-speed", as_of=as_of, caption=(
                     "Every benchmark run of this model with its context: runs that differ in workload, precision "
                     "or hardware are not comparable. System throughput counts all concurrent requests together."),
                 empty_message=f"No benchmark run measures {model.name}.")


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
