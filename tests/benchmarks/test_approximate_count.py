"""An approximate accelerator count ("~40 chips") stays approximate from the CSV to the run and its label."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.benchmarks.models import BenchmarkRun
from scrapers import benchmarks_csv

HEADER = "model,solution,precision,hardware,accelerators,throughput_tokens_per_s,notes\n"


def test_it_keeps_a_tilde_count_approximate() -> None:
    result = benchmarks_csv.parse((HEADER + "Llama 3 70B,Groq LPU System,,Groq LPU,~40,18000,\n"
                                   "Llama 3 70B,vLLM,FP16,H100,8,3800,\n").encode())
    groq, vllm = result.records
    assert (groq.accelerator_count, groq.accelerator_count_approximate) == (40, True)
    assert not vllm.accelerator_count_approximate


def test_it_reads_the_seed_tables_note_as_approximate(shared_data) -> None:
    result = benchmarks_csv.parse((shared_data / "seed-article/benchmarks.csv").read_bytes())
    approximate = {r.serving_stack: r.accelerator_count_approximate for r in result.records}
    assert approximate == {"Naive PyTorch": False, "vLLM": False, "TensorRT-LLM": False, "Groq LPU System": True}


def test_the_stored_run_says_approximately_40_groq_lpus(ingest_file) -> None:
    ingest_file("benchmarks-csv", "seed-article/benchmarks.csv", observed_at=datetime(2024, 1, 1, tzinfo=UTC))
    groq = BenchmarkRun.objects.select_related("hardware").get(serving_stack="Groq LPU System")
    assert groq.accelerator_count_approximate
    assert groq.hardware_label == "~40x Groq LPU"
    assert BenchmarkRun.objects.get(serving_stack="vLLM").hardware_label == "8x H100"


def test_the_api_says_the_count_is_approximate(ingest_file, client, settings) -> None:
    settings.TOKENWATCH_PUBLIC_API = True
    ingest_file("benchmarks-csv", "seed-article/benchmarks.csv", observed_at=datetime(2024, 1, 1, tzinfo=UTC))
    rows = client.get("/api/v1/benchmarks/", {"serving_stack": "Groq LPU System"}).json()["results"]
    assert [(r["accelerator_count"], r["accelerator_count_approximate"], r["precision"]) for r in rows] == [
        (40, True, None)]
