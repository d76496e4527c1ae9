"""Ingest of benchmark runs and hardware prices through the pipeline: real files, bad files, idempotence, order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from apps.benchmarks.models import BenchmarkRun, Hardware, HardwareOffering, HardwarePrice, HardwarePriceObservation
from apps.catalog.models import ModelAlias, Provider
from apps.sources.models import IngestRun, Rejection, Snapshot, Source
from apps.sources.services import FetchMeta, snapshot_reparse, source_ingest_bytes

from .conftest import at

LLMPERF = Path("llmperf-leaderboard/summary")
SEED_BENCHMARKS = Path("seed-article/benchmarks.csv")
LAMBDA_CATALOG = Path("gpu-cloud/skypilot_lambda_vms_v8.csv")
ARTICLE = datetime(2024, 1, 1, tzinfo=UTC)
BENCH_HEADER = ("model,solution,precision,hardware,accelerators,throughput_tokens_per_s,p99_latency_ms,"
                "cost_usd_per_mtok,cost_is_estimate,source,published_on,notes\n")
HW_HEADER = "provider,instance_type,accelerator,accelerator_count,usd_per_hour,pricing_model,region,observed_on\n"
CATALOG_HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\n"


def ingest_bytes(key: str, content: bytes, observed_at: datetime | None = None, name: str = "upload.csv"):
    return source_ingest_bytes(source=Source.objects.get(key=key), content=content, trigger="command",
                               observed_at=observed_at, meta=FetchMeta(filename=name))


def table_counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (BenchmarkRun, Hardware, HardwareOffering, HardwarePrice,
                                                     HardwarePriceObservation, ModelAlias, Provider)}


def history(offering_filter: dict) -> list[tuple[str, datetime, datetime | None, Decimal]]:
    return [(p.offering.instance_type, p.effective_from, p.effective_to, p.usd_per_hour)
            for p in HardwarePrice.objects.filter(**offering_filter).select_related("offering")
            .order_by("offering__instance_type", "effective_from")]


# --- LLMPerf -------------------------------------------------------------------------


def test_it_ingests_all_19_llmperf_summaries(ingest_file, shared_data: Path) -> None:
    for path in sorted((shared_data / LLMPERF).glob("*.json")):
        run = ingest_file("llmperf", path)
        assert run.status == IngestRun.Status.OK, run.message
        assert run.message.endswith("1 created, 0 changed, 0 unchanged, 0 rejected")
    assert BenchmarkRun.objects.count() == 19
    assert set(BenchmarkRun.objects.filter(mostly_failed=True).values_list("provider__slug", "source_model_id")) == {
        ("lepton", "llama2-7b"), ("lepton", "llama2-13b"), ("lepton", "llama2-70b"),
        ("aws-bedrock", "meta.llama2-13b-chat-v1")}
    lepton = BenchmarkRun.objects.get(source_model_id="llama2-70b")
    assert lepton.error_rate == Decimal("0.866667")
    assert lepton.error_counts == {"429": 130}
    assert (lepton.requests_completed, lepton.requests_failed) == (20, 130)
    assert lepton.ttft_p50_ms == Decimal("925.325")
    assert lepton.snapshot.observed_at == datetime.fromtimestamp(1703638336, tz=UTC)
    assert lepton.measured_at == lepton.snapshot.observed_at
    assert (lepton.input_tokens, lepton.output_tokens, lepton.concurrency) == (550, 150, 5)
    anyscale = BenchmarkRun.objects.get(source_model_id="meta-llama/Llama-2-70b-chat-hf")
    assert anyscale.alias.model is not None and anyscale.alias.model.slug == "llama-2-70b-chat"
    assert anyscale.provider.slug == "anyscale"
    assert anyscale.hardware is None  # an API run: the provider's hardware is not stated


def test_it_changes_nothing_when_the_same_summary_comes_again(ingest_file) -> None:
    first = ingest_file("llmperf", LLMPERF / "lepton_70b.json")
    before = table_counts()
    again = ingest_file("llmperf", LLMPERF / "lepton_70b.json")
    assert again.status == IngestRun.Status.UNCHANGED
    assert table_counts() == before
    reparse = snapshot_reparse(snapshot=first.snapshot)
    assert reparse.status == IngestRun.Status.OK
    assert (reparse.created_count, reparse.changed_count, reparse.unchanged_count) == (0, 0, 1)
    assert table_counts() == before


# --- curated benchmark CSV ---------------------------------------------------------------


def test_it_ingests_the_seed_benchmark_table(ingest_file) -> None:
    run = ingest_file("benchmarks-csv", SEED_BENCHMARKS, observed_at=ARTICLE)
    assert run.status == IngestRun.Status.OK, run.message
    assert run.created_count == 4 and run.rejected_count == 0
    runs = {r.serving_stack: r for r in BenchmarkRun.objects.select_related("hardware")}
    assert runs["vLLM"].tokens_per_s == Decimal(3800)
    assert runs["vLLM"].reported_usd_per_mtok == Decimal("2.7")
    assert runs["vLLM"].cost_is_estimate
    assert runs["vLLM"].hardware.slug == "8x-h100"
    assert runs["Groq LPU System"].hardware.slug == "40x-groq-lpu"
    assert runs["Groq LPU System"].precision == ""
    assert runs["TensorRT-LLM"].source_label == "seed-article"
    assert runs["vLLM"].snapshot.observed_at == ARTICLE


def test_it_asks_when_an_undated_benchmark_table_was_observed(ingest_file) -> None:
    run = ingest_file("benchmarks-csv", SEED_BENCHMARKS)
    assert run.status == IngestRun.Status.FAILED
    assert "--observed-at" in run.message
    assert BenchmarkRun.objects.count() == 0


def test_it_fails_a_file_missing_columns_and_changes_no_table(ingest_file, db) -> None:
    ingest_file("benchmarks-csv", SEED_BENCHMARKS, observed_at=ARTICLE)
    before = table_counts()
    run = ingest_bytes("benchmarks-csv", b"\xef\xbb\xbfmodel;solution;accelerators\nLlama 3 70B;vLLM;8\n",
                       observed_at=ARTICLE, name="broken.csv")
    assert run.status == IngestRun.Status.FAILED
    assert run.message == ("broken.csv: missing required column(s): hardware, throughput_tokens_per_s "
                           "(the header line 1 has: model, solution, accelerators)")
    assert run.snapshot.parse_status == Snapshot.Status.FAILED
    assert table_counts() == before
    assert Rejection.objects.count() == 0


def test_it_quarantines_bad_rows_with_their_line_and_ingests_the_rest(db) -> None:
    content = (BENCH_HEADER
               + "Llama 3 70B,vLLM,FP16,H100,8,\"3,800\",120,$2.70,true,seed-article,,\n"
               + "Llama 3 70B,TensorRT-LLM,INT4,H100,8,lots,65,1.40,true,seed-article,,\n"
               + "Llama 3 70B,vLLM,FP16,H100,8,3900,120,2.70,true,seed-article,,\n"
               + "Llama 3 70B,Naive PyTorch,FP16,H100,8,1200,350,8.50,true,seed-article,,\n\n\n").encode()
    run = ingest_bytes("benchmarks-csv", content, observed_at=ARTICLE)
    assert run.status == IngestRun.Status.OK, run.message
    assert (run.created_count, run.rejected_count) == (2, 2)
    rejections = list(Rejection.objects.filter(snapshot=run.snapshot).values_list("locator", "reason"))
    assert rejections == [
        ("line 3", "throughput_tokens_per_s is not a number ('lots')"),
        ("line 4", "duplicate of line 2 (same model, stack, precision, hardware, workload, date and source); "
                   "the first one is kept"),
    ]
    run.snapshot.refresh_from_db()
    assert run.snapshot.reject_count == 2
    assert BenchmarkRun.objects.get(serving_stack="vLLM").tokens_per_s == Decimal(3800)


def test_it_keeps_the_newest_snapshots_figures_whatever_the_arrival_order(db) -> None:
    v1 = (BENCH_HEADER + "Llama 3 70B,vLLM,FP16,H100,8,3800,120,2.70,true,seed-article,,\n").encode()
    v2 = (BENCH_HEADER + "Llama 3 70B,vLLM,FP16,H100,8,4100,110,2.50,true,seed-article,,\n"
          + "Llama 3 70B,SGLang,FP8,H100,8,5200,90,,,seed-article,,\n").encode()
    june = datetime(2024, 6, 1, tzinfo=UTC)

    def state() -> list[tuple]:
        return list(BenchmarkRun.objects.order_by("serving_stack").values_list(
            "serving_stack", "tokens_per_s", "p99_latency_ms", "reported_usd_per_mtok", "snapshot__observed_at"))

    ingest_bytes("benchmarks-csv", v1, observed_at=ARTICLE)
    ingest_bytes("benchmarks-csv", v2, observed_at=june)
    in_order = state()
    assert in_order[1][:2] == ("vLLM", Decimal("4100.000"))

    BenchmarkRun.objects.all().delete()
    Snapshot.objects.filter(source__key="benchmarks-csv").delete()
    backfill_last = ingest_bytes("benchmarks-csv", v2, observed_at=june)
    late = ingest_bytes("benchmarks-csv", v1, observed_at=ARTICLE)
    assert late.status == IngestRun.Status.OK
    assert (late.created_count, late.changed_count, late.unchanged_count) == (0, 0, 1)
    assert state() == in_order
    assert backfill_last.created_count == 2


# --- SkyPilot GPU catalog -------------------------------------------------------------------


def test_it_ingests_the_lambda_catalog(ingest_file) -> None:
    observed = datetime(2025, 6, 1, tzinfo=UTC)
    run = ingest_file("gpu-catalog", LAMBDA_CATALOG, observed_at=observed)
    assert run.status == IngestRun.Status.OK, run.message
    assert run.created_count == 374 and run.rejected_count == 0
    assert HardwareOffering.objects.count() == 374
    assert set(HardwareOffering.objects.values_list("provider__slug", "provider__name")) == {("lambda", "Lambda")}
    h100 = HardwarePrice.objects.filter(offering__instance_type="gpu_8x_h100_sxm5").select_related(
        "offering__hardware")
    assert h100.count() == 17  # one per region
    price = h100.first()
    assert (price.usd_per_hour, price.effective_from, price.effective_to) == (Decimal("31.92"), observed, None)
    assert price.offering.hardware.slug == "8x-h100-80gb-sxm5"
    assert price.usd_per_accelerator_hour == Decimal("3.99")
    assert not HardwareOffering.objects.filter(instance_type__startswith="cpu_").exists()


def test_it_changes_nothing_when_the_same_catalog_comes_again(ingest_file) -> None:
    first = ingest_file("gpu-catalog", LAMBDA_CATALOG, observed_at=datetime(2025, 6, 1, tzinfo=UTC))
    before = table_counts()
    assert ingest_file("gpu-catalog", LAMBDA_CATALOG).status == IngestRun.Status.UNCHANGED
    reparse = snapshot_reparse(snapshot=first.snapshot)
    assert (reparse.created_count, reparse.changed_count, reparse.unchanged_count) == (0, 0, 374)
    assert table_counts() == before


def test_it_fails_a_catalog_whose_source_names_no_cloud(ingest_file) -> None:
    Source.objects.filter(key="gpu-catalog").update(url="", attribution="")
    run = ingest_file("gpu-catalog", LAMBDA_CATALOG, observed_at=datetime(2025, 6, 1, tzinfo=UTC))
    assert run.status == IngestRun.Status.FAILED
    assert "does not say which cloud" in run.message
    assert HardwareOffering.objects.count() == 0


def _catalog(*rows: tuple[str, str]) -> bytes:
    lines = [f"{name},A10,1.0,30.0,200.0,{price},us-east-1,," for name, price in rows]
    return (CATALOG_HEADER + "\n".join(lines) + "\n").encode()


CATALOGS = {
    "2025-01-01": _catalog(("gpu_1x_a", "10.00"), ("gpu_1x_b", "5.00")),
    "2025-02-01": _catalog(("gpu_1x_a", "12.00")),  # b delisted
    "2025-03-01": _catalog(("gpu_1x_a", "12.00"), ("gpu_1x_b", "5.00")),  # b back
}
CATALOG_HISTORY = [
    ("gpu_1x_a", at("2025-01-01"), at("2025-02-01"), Decimal("10.0000000000")),
    ("gpu_1x_a", at("2025-02-01"), None, Decimal("12.0000000000")),
    ("gpu_1x_b", at("2025-01-01"), at("2025-02-01"), Decimal("5.0000000000")),
    ("gpu_1x_b", at("2025-03-01"), None, Decimal("5.0000000000")),
]


@pytest.mark.parametrize("order", [
    ["2025-01-01", "2025-02-01", "2025-03-01"],
    ["2025-03-01", "2025-01-01", "2025-02-01"],
    ["2025-02-01", "2025-03-01", "2025-01-01"],
])
def test_it_derives_catalog_history_independent_of_arrival_order(db, order: list[str]) -> None:
    for day in order:
        run = ingest_bytes("gpu-catalog", CATALOGS[day], observed_at=at(day))
        assert run.status == IngestRun.Status.OK, run.message
    assert history({"offering__source__key": "gpu-catalog"}) == CATALOG_HISTORY


# --- curated hardware CSV ----------------------------------------------------------------------


def test_it_builds_history_from_dated_rows_without_ending_prices_a_sheet_omits(db) -> None:
    first = (HW_HEADER + "Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,27.92,,,2024-06-01\n"
             + "Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,31.92,,,2025-06-01\n"
             + "CoreWeave,HGX H100,H100,8,49.24,on-demand,us-east,2024-06-01\n").encode()
    second = (HW_HEADER + "Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,31.92,,,2025-09-01\n").encode()
    assert ingest_bytes("hardware-csv", first).status == IngestRun.Status.OK
    run = ingest_bytes("hardware-csv", second)
    assert run.status == IngestRun.Status.OK, run.message
    assert run.snapshot.observed_at == at("2025-09-01")  # every row dated: the file needs no --observed-at
    assert history({"offering__source__key": "hardware-csv"}) == [
        ("HGX H100", at("2024-06-01"), None, Decimal("49.2400000000")),
        ("gpu_8x_h100_sxm5", at("2024-06-01"), at("2025-06-01"), Decimal("27.9200000000")),
        ("gpu_8x_h100_sxm5", at("2025-06-01"), None, Decimal("31.9200000000")),
    ]
    assert (run.created_count, run.changed_count, run.unchanged_count) == (0, 0, 1)


def test_it_describes_an_instance_as_the_newest_sheet_does(db) -> None:
    header = HW_HEADER.strip() + ",vcpus\n"
    old = (header + "Lambda,gpu_1x_a10,A10,1,1.29,,,2025-01-01,30\n").encode()
    new = (header + "Lambda,gpu_1x_a10,A10 PCIe,1,1.29,,,2025-06-01,32\n").encode()
    ingest_bytes("hardware-csv", new)
    ingest_bytes("hardware-csv", old)  # backfilled: its description is older
    offering = HardwareOffering.objects.select_related("hardware").get()
    assert (offering.vcpus, offering.hardware.slug) == (Decimal(32), "1x-a10-pcie")
    assert history({"offering__source__key": "hardware-csv"}) == [
        ("gpu_1x_a10", at("2025-01-01"), None, Decimal("1.2900000000"))]


def test_it_quarantines_rows_that_name_one_provider_two_ways(db) -> None:
    content = (HW_HEADER + "together,t-8xh100,H100,8,30,,,2025-01-01\n"
               + "together_ai,t-8xh100,H100,8,31,,,2025-01-01\n").encode()
    run = ingest_bytes("hardware-csv", content)
    assert run.status == IngestRun.Status.OK, run.message
    assert list(Rejection.objects.filter(snapshot=run.snapshot).values_list("locator", flat=True)) == ["line 3"]
    assert HardwarePriceObservation.objects.count() == 1


def test_it_quarantines_a_merged_duplicate_from_an_earlier_batch(db, monkeypatch) -> None:
    from apps.benchmarks import services

    monkeypatch.setattr(services, "BATCH", 1)  # every row its own batch: the database finds the duplicate
    content = (HW_HEADER + "together,t-8xh100,H100,8,30,,,2025-01-01\n"
               + "Lambda,gpu_1x_a10,A10,1,1.29,,,2025-01-01\n"
               + "together_ai,t-8xh100,H100,8,31,,,2025-01-01\n").encode()
    run = ingest_bytes("hardware-csv", content)
    assert run.status == IngestRun.Status.OK, run.message
    assert list(Rejection.objects.filter(snapshot=run.snapshot).values_list("locator", flat=True)) == ["line 4"]
    assert HardwarePrice.objects.get(offering__instance_type="t-8xh100").usd_per_hour == Decimal(30)


def test_it_quarantines_bad_hardware_rows_and_ingests_the_rest(db) -> None:
    content = ("\ufeff" + HW_HEADER.replace(",", ";")
               + "Lambda;gpu_1x_a10;A10;1;$1,29;;;2025-01-01\n"
               + "Lambda;gpu_1x_a100;A100;1;-1.99;;;2025-01-01\n"
               + "Lambda;gpu_1x_h100;H100;1;2.49;;;20O5-01-01\n\n").encode()
    run = ingest_bytes("hardware-csv", content)
    assert run.status == IngestRun.Status.OK, run.message
    assert run.created_count == 1
    assert list(Rejection.objects.filter(snapshot=run.snapshot).values_list("locator", flat=True)) == [
        "line 3", "line 4"]
    assert HardwarePrice.objects.get().usd_per_hour == Decimal("1.29")


def test_it_fails_a_hardware_sheet_missing_columns_and_changes_no_table(db) -> None:
    before = table_counts()
    run = ingest_bytes("hardware-csv", b"provider,instance_type,accelerator\nLambda,x,H100\n",
                       observed_at=ARTICLE)
    assert run.status == IngestRun.Status.FAILED
    assert "missing required column(s): accelerator_count, usd_per_hour" in run.message
    assert table_counts() == before
