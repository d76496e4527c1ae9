"""The fast benchmarks-CSV import (issue 14): the parse keeps its records compactly instead of reading the
bytes twice, and a source's first file is COPYed straight into its table. Both must store exactly what the
general path stores."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.benchmarks import services
from apps.benchmarks.models import BenchmarkRun
from apps.sources.models import Source
from apps.sources.services import FetchMeta, source_ingest_bytes
from bench.gen_csv import write
from scrapers import benchmarks_csv

# Every cell form the parser reads: grouped and $ numbers, a percentage, ~counts, blank and absent cells,
# a quoted comma, a row the parser refuses and a duplicate (both quarantined).
HAND_MADE = (
    b"model,solution,stack_version,precision,hardware,accelerators,input_tokens,output_tokens,concurrency,"
    b"throughput_tokens_per_s,p99_latency_ms,ttft_p50_ms,cost_usd_per_mtok,cost_is_estimate,source,published_on,"
    b"notes,provider,error_rate,request_tokens_per_s\n"
    b'Llama 3 70B,vLLM,0.4.2,fp16,A100-80GB,8,128,128,32,"1,234.5",812.25,90,$2.70,yes,seed-article,2024-05-01,'
    b'"tuned, then measured",,5%,40.5\n'
    b"Llama 3 70B,Groq LPU System,,,Groq LPU,~40,,,,300,,,0.59,false,,2024-05-02,,groq,0.01,\n"
    b"Mixtral 8x7B,TGI,2.0.4,BF16,H100 SXM5,2,550,150,8,n/a,,,,,,2024-05-03,,,,\n"
    b"Llama 3 70B,vLLM,0.4.2,fp16,A100-80GB,8,128,128,32,999,1,1,1,no,seed-article,2024-05-01,,,,\n"
    b"Qwen2.5 72B,SGLang,0.3.0,FP8,MI300X,1,1024,256,64,1e3,,,,,bench-lab,2024-05-04,,,0.0,\n"
)


def _records(data: bytes) -> tuple[list, list]:
    result = benchmarks_csv.parse(data)
    return list(result.records), [(r.locator, r.reason) for r in result.rejects]


def test_it_gives_the_same_records_from_its_stash_as_from_the_bytes(monkeypatch, tmp_path) -> None:
    generated = write("benchmarks", 3_000, tmp_path / "b.csv").read_bytes()
    for data in (HAND_MADE, generated):
        stashed = _records(data)
        monkeypatch.setattr("scrapers.csvtools.STASH_BYTES", 0)  # the stash gives up: records come from the bytes
        reread = _records(data)
        monkeypatch.undo()
        assert stashed == reread
        assert len(benchmarks_csv.parse(data).records) == len(stashed[0])
    records, rejects = _records(HAND_MADE)
    assert [r.serving_stack for r in records] == ["vLLM", "Groq LPU System", "SGLang"]
    assert [locator for locator, _ in rejects] == ["line 4", "line 5"]
    assert records[0].tokens_per_s == 1234.5 and str(records[0].error_rate) == "0.05"
    assert records[1].accelerator_count_approximate


def test_it_iterates_the_stashed_records_again(tmp_path) -> None:
    result = benchmarks_csv.parse(HAND_MADE)
    assert list(result.records) == list(result.records)


def _ingest(key: str, data: bytes) -> Source:
    source = Source.objects.create(key=key, name=key, format="benchmarks-csv", enabled=False, schedule="")
    run = source_ingest_bytes(source=source, content=data, trigger="command",
                              observed_at=datetime(2025, 1, 1, tzinfo=UTC), meta=FetchMeta(filename="b.csv"))
    assert run.status == "ok", run.message
    return source


def _stored(source: Source) -> list[tuple]:
    fields = [f for f in services.RUN_FIELDS if f not in ("alias_id",)]  # aliases are per source
    return sorted(BenchmarkRun.objects.filter(source=source).values_list("run_key", "alias__raw_id", *fields))


def test_it_copies_a_first_file_as_the_general_path_stores_it(postgres, monkeypatch, tmp_path) -> None:
    data = HAND_MADE + write("benchmarks", 2_500, tmp_path / "b.csv").read_bytes().split(b"\n", 1)[1]
    copied = _ingest("bench-copy", data)
    monkeypatch.setattr(services, "_first_runs_copy", lambda **kwargs: None)  # as a source with runs would
    general = _ingest("bench-general", data)
    assert _stored(copied) == _stored(general)
    assert len(_stored(copied)) == len(benchmarks_csv.parse(data).records)
    assert set(services._COPY_RUN_COLUMNS) == {"source_id", "snapshot_id", "run_key", *services.RUN_FIELDS}


def test_a_second_file_goes_the_general_way_and_the_same_bytes_change_nothing(postgres, tmp_path) -> None:
    source = _ingest("bench-twice", HAND_MADE)
    first = _stored(source)
    again = source_ingest_bytes(source=source, content=HAND_MADE, trigger="command",
                                observed_at=datetime(2025, 1, 2, tzinfo=UTC), meta=FetchMeta(filename="b.csv"))
    assert again.status == "unchanged"
    more = HAND_MADE + b"Phi-3 14B,vLLM,0.5.4,FP16,L4,1,128,128,1,55,,,,,,2024-05-05,,,,\n"
    run = source_ingest_bytes(source=source, content=more, trigger="command",
                              observed_at=datetime(2025, 1, 3, tzinfo=UTC), meta=FetchMeta(filename="c.csv"))
    assert (run.status, run.created_count) == ("ok", 1)
    assert len(_stored(source)) == len(first) + 1


def test_a_repeated_key_rolls_the_copy_back_to_the_general_path(postgres, monkeypatch) -> None:
    # A parser that let two rows with one key through: COPY fails on the unique constraint, the savepoint
    # is rolled back, and the general path stores the key once.
    monkeypatch.setattr(benchmarks_csv, "parse", _parse_without_duplicate_check)
    _stored_once("bench-dup")


def _stored_once(key: str) -> None:
    """The hand-made file (a key given twice) into a new source: the general path stores the key once."""
    source = Source.objects.create(key=key, name="dup", format="benchmarks-csv", enabled=False, schedule="")
    run = source_ingest_bytes(source=source, content=HAND_MADE, trigger="command",
                              observed_at=datetime(2025, 1, 1, tzinfo=UTC), meta=FetchMeta(filename="d.csv"))
    assert run.status == "ok", run.message
    assert BenchmarkRun.objects.filter(source=source).count() == 3


def _parse_without_duplicate_check(data: bytes):
    from scrapers.csvtools import parse_table

    return parse_table(data, benchmarks_csv.COLUMNS, benchmarks_csv._row, aliases=benchmarks_csv.ALIASES)


# Rows the parser accepts but the columns cannot hold (1e11 prompt tokens; 1e14 tokens/s is past the
# column's digits) are quarantined by the screen, by model name; a text with a backslash (escaped in COPY
# text) and an ordinary row are stored.
SCREENED = (
    b"model,solution,hardware,accelerators,throughput_tokens_per_s,input_tokens,notes,published_on\n"
    b"Llama 3 8B,vLLM,H100,1,100,99999999999,,2024-05-01\n"
    b"Llama 3 70B,vLLM,H100,8,99999999999999,128,,2024-05-01\n"
    b'Qwen2.5 7B,vLLM,L4,1,55,128,"back\\slash",2024-05-01\n'
    b"Phi-3 14B,TGI,L4,1,40,128,,2024-05-02\n"
)


def test_the_screen_drops_the_same_records_from_batches_as_from_records() -> None:
    from apps.sources.screen import result_screen

    by_records = result_screen(benchmarks_csv.parse(SCREENED))
    records = list(by_records.records)
    by_batches = result_screen(benchmarks_csv.parse(SCREENED))
    batches = list(by_batches.records.batches())
    assert [r for batch in batches for r in batch.records()] == records
    assert [r.source_model_id for r in records] == ["Qwen2.5 7B", "Phi-3 14B"]
    assert by_records.rejects == by_batches.rejects
    assert {r.locator for r in by_batches.rejects} == {"Llama 3 8B", "Llama 3 70B"}
    assert len(by_batches.records) == 2


def test_a_first_file_with_screened_rows_is_stored_as_the_general_path_stores_it(postgres, monkeypatch) -> None:
    from apps.sources.models import Rejection

    copied = _ingest("bench-screen-copy", SCREENED)
    monkeypatch.setattr(services, "_first_runs_copy_batches", lambda **kwargs: None)  # as a source with runs
    general = _ingest("bench-screen-general", SCREENED)
    assert _stored(copied) == _stored(general)
    assert len(_stored(copied)) == 2
    assert [r.notes for r in BenchmarkRun.objects.filter(source=copied).order_by("measured_at")] == ["back\\slash", ""]

    def rejected(source: Source) -> list[tuple[str, str, str]]:
        return list(Rejection.objects.filter(snapshot__source=source).order_by("id")
                    .values_list("locator", "reason", "raw_excerpt"))

    assert rejected(copied) == rejected(general) and len(rejected(copied)) == 2


def test_the_run_key_is_the_batch_digest(tmp_path) -> None:
    result = benchmarks_csv.parse(HAND_MADE)
    for batch in result.records.batches():
        assert [services.run_key(r).bytes for r in batch.records()] == batch.keys


def test_a_repeated_key_in_batches_rolls_the_streamed_copy_back_to_the_general_path(postgres, monkeypatch) -> None:
    # The batch parse with its duplicate check switched off: the streamed COPY meets the unique constraint.
    monkeypatch.setattr(benchmarks_csv, "duplicate_lines", lambda *args: {})
    assert benchmarks_csv.parse(HAND_MADE).records.has_batches
    _stored_once("bench-dup-batches")
