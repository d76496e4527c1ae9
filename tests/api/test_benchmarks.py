"""/api/v1/benchmarks/: benchmark runs with model, stack, hardware, workload and metrics in unit-named fields."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/benchmarks/"


def test_it_lists_runs_with_their_context_and_units(client_user, economics):
    rows = all_pages(client_user, f"{URL}?source=benchmarks-csv&ordering=-tokens_per_s")
    assert [(r["serving_stack"], r["tokens_per_s"], r["p99_latency_ms"], r["reported_usd_per_mtok"]) for r in rows] == [
        ("Groq LPU System", "18000", "18", "0.75"), ("TensorRT-LLM", "7500", "65", "1.4"),
        ("vLLM", "3800", "120", "2.7"), ("Naive PyTorch", "1200", "350", "8.5")]
    vllm = rows[2]
    assert (vllm["model"], vllm["accelerator"], vllm["accelerator_count"], vllm["precision"]) == (
        "llama-3-70b-instruct", "H100", 8, "FP16")
    assert vllm["source"] == "benchmarks-csv" and vllm["snapshot_observed_at"] == "2024-01-01T00:00:00.000000Z"


def test_it_filters_by_model_accelerator_and_workload(client_user, economics):
    h100 = all_pages(client_user, f"{URL}?accelerator=h100&accelerator_count=8")
    assert len(h100) == 3
    llmperf = all_pages(client_user, f"{URL}?source=llmperf")
    assert [(r["input_tokens"], r["output_tokens"], r["concurrency"]) for r in llmperf] == [(550, 150, 5)]
    assert len(all_pages(client_user, f"{URL}?model=llama-3-70b-instruct")) == 4
    assert client_user.get(f"{URL}?measured_after=soon").status_code == 400


def test_it_exports_csv(client_user, economics):
    rows = csv_rows(client_user.get(f"{URL}?format=csv&source=benchmarks-csv&ordering=tokens_per_s"))
    assert [r["tokens_per_s"] for r in rows] == ["1200", "3800", "7500", "18000"]
