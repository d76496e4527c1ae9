"""Tests for scrapers.benchmarks_csv against the seed table and CSV as people really send it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import benchmarks_csv
from scrapers.bench_records import BenchmarkRecord
from scrapers.records import ParseError, ParseResult

HEADER = ("model,solution,precision,hardware,accelerators,throughput_tokens_per_s,p99_latency_ms,"
          "cost_usd_per_mtok,cost_is_estimate,source,published_on,notes")
VLLM = "Llama 3 70B,vLLM,FP16,H100,8,3800,120,2.70,true,seed-article,,"


def _parse(text: str | bytes) -> ParseResult:
    return benchmarks_csv.parse(text.encode() if isinstance(text, str) else text)


def _only(result: ParseResult) -> BenchmarkRecord:
    assert result.rejects == []
    assert len(result.records) == 1
    return result.records[0]


def test_it_reads_the_seed_table(shared_data: Path) -> None:
    result = benchmarks_csv.parse((shared_data / "seed-article" / "benchmarks.csv").read_bytes())
    assert result.rejects == []
    assert result.observed_at is None  # no published_on: the ingest must say when
    rows = [(r.serving_stack, r.precision, r.accelerator, r.accelerator_count, r.tokens_per_s, r.p99_latency_ms,
             r.reported_usd_per_mtok, r.cost_is_estimate) for r in result.records]
    assert rows == [
        ("Naive PyTorch", "FP16", "H100", 8, Decimal(1200), Decimal(350), Decimal("8.5"), True),
        ("vLLM", "FP16", "H100", 8, Decimal(3800), Decimal(120), Decimal("2.7"), True),
        ("TensorRT-LLM", "INT4", "H100", 8, Decimal(7500), Decimal(65), Decimal("1.4"), True),
        ("Groq LPU System", "", "Groq LPU", 40, Decimal(18000), Decimal(18), Decimal("0.75"), True),
    ]
    assert {r.source_model_id for r in result.records} == {"Llama 3 70B"}
    assert result.records[3].notes == "accelerator count is approximate (~40 chips)"


def test_it_reads_a_bom_semicolons_thousands_and_currency() -> None:
    text = ("\ufeffmodel;solution;precision;hardware;accelerators;throughput_tokens_per_s;p99_latency_ms;"
            "cost_usd_per_mtok;cost_is_estimate;source;published_on;notes\n"
            "Llama 3 70B;vLLM;fp16;H100;8;3.800.000;1.234,5;$2,70;yes;seed-article;2024-05-01;\n")
    record = _only(_parse(text.encode("utf-8")))
    assert record.tokens_per_s == Decimal(3800000)
    assert record.p99_latency_ms == Decimal("1234.5")
    assert record.reported_usd_per_mtok == Decimal("2.7")
    assert record.precision == "FP16"


def test_it_reads_thousands_separators_in_quoted_fields() -> None:
    record = _only(_parse(f'{HEADER}\nLlama 3 70B,vLLM,FP16,H100,8,"1,200",350,$8.50,true,seed-article,,\n'))
    assert record.tokens_per_s == Decimal(1200)
    assert record.reported_usd_per_mtok == Decimal("8.5")


def test_it_keeps_quoted_commas_in_text() -> None:
    record = _only(_parse(f'{HEADER}\nLlama 3 70B,"vLLM, chunked prefill",FP16,H100,8,3800,120,2.70,true,'
                          f'seed-article,,"tuned, then measured"\n'))
    assert record.serving_stack == "vLLM, chunked prefill"
    assert record.notes == "tuned, then measured"


def test_it_ignores_trailing_blank_lines() -> None:
    assert len(_parse(f"{HEADER}\n{VLLM}\n\n\n,,,,,,,,,,,\n\r\n").records) == 1


def test_it_reads_an_error_rate_as_a_fraction_or_a_percentage() -> None:
    head = "model,solution,hardware,accelerators,throughput_tokens_per_s,error_rate\n"
    assert _only(_parse(head + "m,s,H100,8,100,5%\n")).error_rate == Decimal("0.05")
    assert _only(_parse(head + "m,s,H100,8,100,0.05\n")).error_rate == Decimal("0.05")
    marked = _only(_parse(head + "m,s,H100,8,100,65%\n"))
    assert marked.mostly_failed
    assert "above 1" in _parse(head + "m,s,H100,8,100,65\n").rejects[0].reason


def test_it_reads_the_optional_workload_and_latency_columns() -> None:
    head = "model,solution,hardware,accelerators,throughput_tokens_per_s,input_tokens,output_tokens,concurrency," \
           "ttft_p50_ms,stack_version,provider\n"
    record = _only(_parse(head + "m,vLLM,A100-80GB,2,900,550,150,5,210.5,0.4.2,\n"))
    assert (record.input_tokens, record.output_tokens, record.concurrency) == (550, 150, 5)
    assert (record.accelerator, record.accelerator_memory_gib) == ("A100", 80)
    assert record.ttft_p50_ms == Decimal("210.5")
    assert record.stack_version == "0.4.2"


def test_it_dates_the_file_when_every_row_is_dated() -> None:
    result = _parse(f"{HEADER}\n{VLLM[:-1]}2024-05-01,\n")
    assert result.observed_at == datetime(2024, 5, 1, tzinfo=UTC)


def test_it_fails_the_whole_file_naming_the_missing_columns() -> None:
    with pytest.raises(ParseError, match=r"missing required column\(s\): hardware, throughput_tokens_per_s"):
        _parse("model,solution,accelerators\nm,s,8\n")


@pytest.mark.parametrize(("row", "reason"), [
    ("Llama 3 70B,vLLM,FP16,H100,8,fast,120,2.70,true,seed-article,,", "throughput_tokens_per_s is not a number"),
    ("Llama 3 70B,vLLM,FP16,H100,8,,120,2.70,true,seed-article,,", "throughput_tokens_per_s is empty"),
    ("Llama 3 70B,vLLM,FP16,H100,8,-5,120,2.70,true,seed-article,,", "throughput_tokens_per_s is negative"),
    ("Llama 3 70B,vLLM,FP16,H100,8.5,3800,120,2.70,true,seed-article,,", "accelerators is not a whole number"),
    ("Llama 3 70B,vLLM,FP16,,8,3800,120,2.70,true,seed-article,,", "accelerators is given but hardware is empty"),
    ("Llama 3 70B,vLLM,FP16,H100,8,3800,120,2.70,maybe,seed-article,,", "cost_is_estimate is not true/false"),
    ("Llama 3 70B,vLLM,FP16,H100,8,3800,120,2.70,true,seed-article,05/01/2024,", "not a YYYY-MM-DD date"),
    (",vLLM,FP16,H100,8,3800,120,2.70,true,seed-article,,", "model is empty"),
])
def test_it_quarantines_a_bad_row_and_ingests_the_rest(row: str, reason: str) -> None:
    result = _parse(f"{HEADER}\n{VLLM}\n{row}\n")
    assert len(result.records) == 1
    assert [r.locator for r in result.rejects] == ["line 3"]
    assert reason in result.rejects[0].reason


def test_it_quarantines_a_duplicate_row_with_its_line() -> None:
    result = _parse(f"{HEADER}\n{VLLM}\nLlama 3 70B,TensorRT-LLM,INT4,H100,8,7500,65,1.40,true,seed-article,,\n"
                    f"{VLLM.replace('3800', '3900')}\n")
    assert len(result.records) == 2
    assert result.rejects[0].locator == "line 4"
    assert result.rejects[0].reason.startswith("duplicate of line 2 (same model, stack")
