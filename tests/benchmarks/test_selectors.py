"""Selectors joining benchmark runs, hardware prices and API prices, checked against hand-worked figures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.benchmarks import selectors
from apps.benchmarks.models import BenchmarkRun
from apps.catalog.services import alias_resolve

from .conftest import at

ARTICLE = datetime(2024, 1, 1, tzinfo=UTC)
CENT = Decimal("0.01")


@pytest.fixture
def seed_runs(ingest_file, canonical_model) -> list[BenchmarkRun]:
    """The seed table, its "Llama 3 70B" resolved by a curator to Llama 3 70B Instruct."""
    ingest_file("benchmarks-csv", "seed-article/benchmarks.csv", observed_at=ARTICLE)
    model = canonical_model()
    run = BenchmarkRun.objects.select_related("alias").first()
    if run.alias.model_id is None:
        alias_resolve(alias=run.alias, model=model)
    return list(selectors.benchmark_runs(source_key="benchmarks-csv").order_by("tokens_per_s"))


@pytest.fixture
def lambda_catalog(ingest_file) -> None:
    ingest_file("gpu-catalog", "gpu-cloud/skypilot_lambda_vms_v8.csv", observed_at=datetime(2025, 6, 1, tzinfo=UTC))


def test_it_measures_the_seed_spreads_as_the_article_states(seed_runs: list[BenchmarkRun]) -> None:
    spreads = selectors.run_spreads(seed_runs)
    assert spreads.runs == 4
    assert spreads.throughput_spread == Decimal(15)  # 18000 / 1200
    assert spreads.p99_latency_spread.quantize(CENT) == Decimal("19.44")  # 350 / 18, "about 20x"
    assert spreads.cost_spread.quantize(CENT) == Decimal("11.33")  # 8.50 / 0.75, "over 10x"
    assert spreads.workloads == ((None, None, None),)
    # One model and one (unstated) workload, but INT4 beside FP16 and Groq's chips beside H100s (issue 13).
    assert not spreads.comparable
    assert spreads.reasons == ("precision differs: FP16 vs INT4 vs not stated",
                               "hardware differs: 8x H100 vs ~40x Groq LPU")


def test_it_marks_runs_under_different_workloads_not_comparable(seed_runs, ingest_file) -> None:
    ingest_file("llmperf", "llmperf-leaderboard/summary/groq_70b.json")
    runs = list(selectors.benchmark_runs())
    spreads = selectors.run_spreads(runs)
    assert not spreads.comparable
    assert "workload differs: 550 in / 150 out tokens, 5 concurrent vs not stated" in spreads.reasons
    # 18000 (seed Groq) / 441.847 (LLMPerf Groq, API side): a spread that means nothing, hence the mark.
    assert spreads.throughput_spread.quantize(CENT) == Decimal("40.74")


def test_it_marks_llmperf_runs_of_different_models_not_comparable(ingest_file) -> None:
    for name in ("anyscale_70b.json", "anyscale_7b.json"):
        ingest_file("llmperf", f"llmperf-leaderboard/summary/{name}")
    spreads = selectors.run_spreads(list(selectors.benchmark_runs()))
    assert spreads.reasons == ("model differs: Llama 2 70B Chat vs Llama 2 7B Chat",)


def test_it_implies_about_37_usd_an_hour_behind_the_seed_h100_costs(seed_runs: list[BenchmarkRun]) -> None:
    frame = selectors.implied_hourly_prices(seed_runs)
    h100 = frame[frame["hardware"] == "8x H100"].set_index("serving_stack")["implied_usd_per_hour"]
    assert h100.to_dict() == {"Naive PyTorch": Decimal("36.72"), "vLLM": Decimal("36.936"),
                              "TensorRT-LLM": Decimal("37.8")}
    assert (sum(h100) / 3).quantize(Decimal(1)) == Decimal(37)


def test_it_costs_the_seed_runs_on_lambdas_h100s(seed_runs, lambda_catalog) -> None:
    frame = selectors.self_hosting_costs(runs=seed_runs)
    vllm = frame[frame["serving_stack"] == "vLLM"]
    assert len(vllm) == 1  # 17 regions at one price are one row
    row = vllm.iloc[0]
    assert row["instance_type"] == "gpu_8x_h100_sxm5"
    assert row["usd_per_hour"] == Decimal("31.92")
    assert row["usd_per_mtok"].quantize(Decimal("0.0001")) == Decimal("2.3333")  # 31.92 / (3800*3600) * 1e6
    assert len(row["regions"].split(", ")) == 17
    assert row["price_source"] == "gpu-catalog"
    # No Lambda instance has 40 Groq LPUs.
    assert "Groq LPU System" not in set(frame["serving_stack"])
    trt = frame[frame["serving_stack"] == "TensorRT-LLM"].iloc[0]
    assert trt["usd_per_mtok"].quantize(Decimal("0.0001")) == Decimal("1.1822")  # 31.92 / (7500*3600) * 1e6


def test_it_picks_the_cheapest_labelled_api_offer(canonical_model, api_price) -> None:
    model = canonical_model()
    api_price(model, "ollama", "0", "0", label="free")
    api_price(model, "zeroes", "0", "0")  # unlabelled zero: still not a price to compare with
    api_price(model, "half-free", "0", "0.70")  # a zero input price is a gap, not a bargain (blended 0.175)
    api_price(model, "openrouter", None, None, label="variable")
    api_price(model, "groq", "0.59", "0.79")  # (3 * 0.59 + 0.79) / 4 = 0.64
    api_price(model, "together-ai", "0.88", "0.88")
    api_price(model, "bargain", "0.10", "0.10", end=at("2024-01-01"))  # no longer offered
    offer = selectors.cheapest_api_offer(model=model)
    assert (offer.provider, offer.blended_usd_per_mtok) == ("Groq", Decimal("0.64"))
    past = selectors.cheapest_api_offer(model=model, as_of=at("2023-06-01"))
    assert (past.provider, past.blended_usd_per_mtok) == ("Bargain", Decimal("0.10"))
    # 1:1 blend: (0.59 + 0.79) / 2 = 0.69
    assert selectors.cheapest_api_offer(model=model, input_ratio=1).blended_usd_per_mtok == Decimal("0.69")


def test_it_finds_the_break_even_volume_and_draws_the_curves(canonical_model, api_price) -> None:
    model = canonical_model()
    api_price(model, "premium", "4.00", "8.00")  # (3 * 4 + 8) / 4 = 5.00 blended
    result = selectors.self_host_vs_api(model=model, usd_per_hour=Decimal("31.92"), tokens_per_s=Decimal(3800),
                                        utilisation=Decimal("0.5"))
    assert result.api.blended_usd_per_mtok == Decimal(5)
    assert result.break_even_mtok_per_month == Decimal("4660.32")  # 31.92 * 730 / 5
    curve = result.curve
    assert list(curve.columns) == ["mtok_per_month", "self_host_usd_per_month", "api_usd_per_month"]
    at_break_even = curve[curve["mtok_per_month"] == Decimal("4660.32")].iloc[0]
    assert at_break_even["self_host_usd_per_month"] == at_break_even["api_usd_per_month"] == Decimal("23301.60")
    assert curve["mtok_per_month"].is_monotonic_increasing
    above = curve[curve["mtok_per_month"] > Decimal("4660.32")]
    assert (above["self_host_usd_per_month"] < above["api_usd_per_month"]).all()


def test_it_reports_no_break_even_against_a_cheaper_api(canonical_model, api_price) -> None:
    model = canonical_model()
    api_price(model, "groq", "0.59", "0.79")
    result = selectors.self_host_vs_api(model=model, usd_per_hour=Decimal("31.92"), tokens_per_s=Decimal(3800),
                                        utilisation=Decimal("0.5"))
    assert result.break_even_mtok_per_month is None
    assert (result.curve["self_host_usd_per_month"] > result.curve["api_usd_per_month"]).all()


def test_it_traces_the_cheapest_price_of_a_model_class_and_its_trend(canonical_model, api_price) -> None:
    llama3 = canonical_model()
    llama31 = canonical_model(slug="llama-3-1-70b-instruct", name="Llama 3.1 70B Instruct")
    closed = canonical_model(slug="gpt-4o", name="GPT-4o", parameter_count_b=None, size_class="frontier-closed")
    api_price(llama3, "a", "8", "8", start=at("2023-01-01"), end=at("2024-01-01"))
    api_price(llama3, "b", "4", "4", start=at("2024-01-01"), end=at("2025-01-01"))
    api_price(llama31, "c", "2", "2", start=at("2025-01-01"))
    api_price(llama31, "d", "0", "0", label="free", start=at("2024-06-01"))  # never the cheapest
    api_price(closed, "e", "0.1", "0.1", start=at("2023-01-01"))  # another class
    report = selectors.price_trend_report(size_class="70b-class", threshold_usd_per_mtok=Decimal("0.50"))
    series = report.series
    assert list(zip(series["at"], series["usd_per_mtok"], strict=True)) == [
        (at("2023-01-01"), Decimal(8)), (at("2024-01-01"), Decimal(4)), (at("2025-01-01"), Decimal(2))]
    assert list(series["provider"]) == ["A", "B", "C"]
    assert report.trend.halving_time_years.quantize(CENT) == Decimal("1.00")
    assert report.trend.annual_decline.quantize(CENT) == Decimal("0.50")
    assert abs((report.crosses_on - at("2027-01-01").date()).days) <= 2
    only_llama3 = selectors.cheapest_blended_series(model=llama3)
    assert list(only_llama3["usd_per_mtok"]) == [Decimal(8), Decimal(4)]


def test_it_adds_the_price_in_force_at_the_end_of_the_window(canonical_model, api_price) -> None:
    model = canonical_model()
    api_price(model, "a", "8", "8", start=at("2023-01-01"), end=at("2024-01-01"))
    api_price(model, "b", "4", "4", start=at("2024-01-01"))
    series = selectors.cheapest_blended_series(model=model, until=at("2025-01-01"))
    assert list(zip(series["at"], series["usd_per_mtok"], strict=True)) == [
        (at("2023-01-01"), Decimal(8)), (at("2024-01-01"), Decimal(4)), (at("2025-01-01"), Decimal(4))]


def test_it_lists_hardware_prices_in_force_at_a_date(lambda_catalog) -> None:
    assert selectors.hardware_prices(as_of=datetime(2025, 5, 1, tzinfo=UTC)).count() == 0
    current = selectors.hardware_prices(accelerator="h100", accelerator_count=8)
    assert {p.usd_per_hour for p in current} == {Decimal("31.92")}
