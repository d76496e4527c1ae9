"""Tests for scrapers.llmperf against all 19 real LLMPerf leaderboard summaries and synthetic bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scrapers import llmperf
from scrapers.bench_records import BenchmarkRecord
from scrapers.records import ParseError

SUMMARIES = [
    "anyscale_13b.json", "anyscale_70b.json", "anyscale_7b.json", "bedrock_13b.json", "bedrock_70b.json",
    "fireworks_13b.json", "fireworks_70b.json", "fireworks_7b.json", "groq_70b.json", "lepton_13b.json",
    "lepton_70b.json", "lepton_7b.json", "perplexity_70b.json", "replicate_13b.json", "replicate_70b.json",
    "replicate_7b.json", "together_13b.json", "together_70b.json", "together_7b.json",
]
# More than half the requests failed: lepton (HTTP 429, 130 of 150) and bedrock 13B (-100, too few tokens).
MOSTLY_FAILED = {"lepton_13b.json", "lepton_70b.json", "lepton_7b.json", "bedrock_13b.json"}


def _dir(shared_data: Path) -> Path:
    return shared_data / "llmperf-leaderboard" / "summary"


def _record(shared_data: Path, name: str) -> BenchmarkRecord:
    result = llmperf.parse((_dir(shared_data) / name).read_bytes())
    assert result.rejects == []
    assert len(result.records) == 1
    return result.records[0]


def _doc(shared_data: Path, name: str = "anyscale_70b.json") -> dict[str, Any]:
    return json.loads((_dir(shared_data) / name).read_bytes())


def test_it_covers_every_real_summary(shared_data: Path) -> None:
    assert sorted(p.name for p in _dir(shared_data).glob("*.json")) == sorted(SUMMARIES)


@pytest.mark.parametrize("name", SUMMARIES)
def test_it_parses_every_real_summary_into_one_run(shared_data: Path, name: str) -> None:
    record = _record(shared_data, name)
    assert record.provider_key == name.split("_")[0]
    assert (record.input_tokens, record.output_tokens, record.concurrency) == (550, 150, 5)
    assert record.tokens_per_s is not None and record.tokens_per_s > 0
    assert record.ttft_p50_ms is not None and record.e2e_latency_p99_ms is not None
    assert record.p99_latency_ms == record.e2e_latency_p99_ms
    assert record.measured_at is not None and datetime(2023, 12, 1, tzinfo=UTC) < record.measured_at
    assert record.mostly_failed is (name in MOSTLY_FAILED)


def test_it_dates_the_snapshot_by_the_run_timestamp(shared_data: Path) -> None:
    result = llmperf.parse((_dir(shared_data) / "groq_70b.json").read_bytes())
    assert result.observed_at == datetime.fromtimestamp(1704851704, tz=UTC)


def test_it_converts_seconds_to_milliseconds_exactly(shared_data: Path) -> None:
    record = _record(shared_data, "lepton_70b.json")
    assert record.ttft_p50_ms == Decimal("925.3247535")  # 0.9253247535 s
    assert record.tokens_per_s == Decimal("53.02189174249291")
    assert record.request_tokens_per_s_p50 == Decimal("11.372748706784517")


def test_it_keeps_the_mostly_failed_run_with_its_error_rate_and_marks_it(shared_data: Path) -> None:
    record = _record(shared_data, "lepton_70b.json")
    assert record.error_rate == Decimal("0.8666666666666667")
    assert (record.requests_completed, record.requests_failed) == (20, 130)
    assert record.error_counts == (("429", 130),)
    assert record.mostly_failed
    assert "130 of 150 requests failed (429 ×130)" in record.notes


def test_it_reads_the_python_dict_in_a_string(shared_data: Path) -> None:
    assert _record(shared_data, "bedrock_13b.json").error_counts == (("-100", 97),)
    assert _record(shared_data, "together_13b.json").error_counts == (("-1", 1),)
    assert _record(shared_data, "anyscale_70b.json").error_counts == ()


def test_it_reads_the_string_typed_counts(shared_data: Path) -> None:
    doc = _doc(shared_data, "lepton_70b.json")
    assert doc["results_number_output_tokens_min"] == "94"
    assert "output tokens per request 94-151" in _record(shared_data, "lepton_70b.json").notes


def test_it_reads_summaries_without_model_size_or_api(shared_data: Path) -> None:
    doc = _doc(shared_data, "groq_70b.json")
    assert "model_size" not in doc and "api" not in doc
    assert _record(shared_data, "groq_70b.json").source_model_id == "llama2-70b-4096"


def test_it_reads_json_encoded_error_codes_too(shared_data: Path) -> None:
    doc = _doc(shared_data) | {"results_error_code_frequency": '{"429": 3}'}
    assert llmperf.parse(json.dumps(doc).encode()).records[0].error_counts == (("429", 3),)


def test_it_notes_unreadable_error_codes_without_losing_the_run(shared_data: Path) -> None:
    doc = _doc(shared_data) | {"results_error_code_frequency": "{429.0: "}
    record = llmperf.parse(json.dumps(doc).encode()).records[0]
    assert record.error_counts == ()
    assert "unreadable results_error_code_frequency" in record.notes


def test_it_rejects_a_run_with_a_non_numeric_metric(shared_data: Path) -> None:
    doc = _doc(shared_data) | {"results_ttft_s_quantiles_p50": "fast"}
    result = llmperf.parse(json.dumps(doc).encode())
    assert result.records == []
    assert "results_ttft_s_quantiles_p50 is not a number ('fast')" in result.rejects[0].reason


def test_it_rejects_an_error_rate_above_one(shared_data: Path) -> None:
    doc = _doc(shared_data) | {"results_error_rate": 1.5}
    assert "not between 0 and 1" in llmperf.parse(json.dumps(doc).encode()).rejects[0].reason


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"[]", "expected a JSON object"),
    (b'{"model": "x"}', "not an LLMPerf summary"),
    (b'{"model": "x", "framework": "y", "timestamp": 1, "version": "1"}', "no results_"),
    (b'{"model": "x", "framework": "y", "timestamp": "soon", "results_error_rate": 0}', "not unix seconds"),
])
def test_it_fails_files_that_are_not_summaries(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        llmperf.parse(data)


def test_it_refuses_an_individual_requests_file(shared_data: Path) -> None:
    path = shared_data / "llmperf-leaderboard" / "individual" / "groq_70b.json"
    with pytest.raises(ParseError, match="expected a JSON object"):
        llmperf.parse(path.read_bytes())
