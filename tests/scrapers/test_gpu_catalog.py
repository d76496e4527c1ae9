"""Tests for scrapers.gpu_catalog against the real SkyPilot Lambda Cloud catalog and synthetic bad input."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import gpu_catalog
from scrapers.bench_records import HardwarePriceRecord
from scrapers.records import ParseError

HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,SpotPrice\n"
H100_INFO = ("\"{'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8.0, "
             "'MemoryInfo': {'SizeInMiB': 81920}}], 'TotalGpuMemoryInMiB': 81920}\"")


def _records(shared_data: Path) -> list[HardwarePriceRecord]:
    result = gpu_catalog.parse((shared_data / "gpu-cloud" / "skypilot_lambda_vms_v8.csv").read_bytes())
    assert result.rejects == []
    return list(result.records)


def test_it_reads_every_gpu_row_and_skips_cpu_only_rows(shared_data: Path) -> None:
    records = _records(shared_data)
    # 24 instance types x 17 regions = 408 rows; the 2 CPU-only types are not hardware prices.
    assert len(records) == 22 * 17
    assert not any(r.instance_type.startswith("cpu_") for r in records)
    assert len({r.region for r in records}) == 17
    assert Counter(r.pricing_model for r in records) == {"on-demand": 374}


def test_it_keeps_the_price_of_the_whole_instance(shared_data: Path) -> None:
    h100 = next(r for r in _records(shared_data) if r.instance_type == "gpu_8x_h100_sxm5")
    assert h100.usd_per_hour == Decimal("31.92")  # 3.99 per GPU
    assert (h100.accelerator, h100.accelerator_count, h100.accelerator_memory_gib, h100.form_factor) == (
        "H100", 8, 80, "SXM5")
    assert (h100.vcpus, h100.memory_gib) == (Decimal(208), Decimal(1800))


def test_it_reads_per_gpu_memory_from_the_python_repr_gpuinfo(shared_data: Path) -> None:
    by_type = {r.instance_type: r for r in _records(shared_data)}
    assert by_type["gpu_1x_a100"].accelerator_memory_gib == 40
    assert by_type["gpu_8x_a100_80gb_sxm4"].accelerator == "A100"
    assert by_type["gpu_8x_a100_80gb_sxm4"].accelerator_memory_gib == 80
    assert by_type["gpu_1x_h100_pcie"].form_factor == "PCIe"
    assert by_type["gpu_8x_v100"].accelerator_memory_gib == 16


def test_it_leaves_the_provider_to_the_source(shared_data: Path) -> None:
    assert {r.provider_key for r in _records(shared_data)} == {""}


def test_it_adds_a_spot_price_when_the_sheet_has_one() -> None:
    data = HEADER + f"gpu_8x_h100_sxm5,H100,8.0,208.0,1800.0,31.92,us-east-1,{H100_INFO},12.50\n"
    records = list(gpu_catalog.parse(data.encode()).records)
    assert [(r.pricing_model, r.usd_per_hour) for r in records] == [("on-demand", Decimal("31.92")),
                                                                    ("spot", Decimal("12.50"))]


@pytest.mark.parametrize(("row", "reason"), [
    ("gpu_x,H100,8.5,1,1,31.92,r,,", "AcceleratorCount is not a whole number"),
    ("gpu_x,H100,8.0,1,1,free,r,,", "Price is not a number"),
    ("gpu_x,H100,8.0,1,1,0,r,,", "Price must be positive"),
    ("gpu_x,H100,8.0,1,1,99999,r,,", "is absurd"),
])
def test_it_rejects_bad_rows_with_their_line(row: str, reason: str) -> None:
    result = gpu_catalog.parse((HEADER + row + "\n").encode())
    assert result.records == [] or len(result.records) == 0
    assert result.rejects[0].locator == "line 2"
    assert reason in result.rejects[0].reason


def test_it_quarantines_the_same_instance_and_region_twice() -> None:
    row = "gpu_1x_a10,A10,1.0,30.0,200.0,1.29,us-east-1,,\n"
    result = gpu_catalog.parse((HEADER + row + row).encode())
    assert len(result.records) == 1
    assert result.rejects[0].locator == "line 3"
    assert result.rejects[0].reason.startswith("duplicate of line 2")


def test_it_fails_a_sheet_without_a_price_column() -> None:
    with pytest.raises(ParseError, match="missing required column"):
        gpu_catalog.parse(b"InstanceType,AcceleratorName,AcceleratorCount\nx,H100,8\n")


def test_it_reads_a_sheet_after_upstream_adds_a_column() -> None:
    # SkyPilot's catalogue is fetched as published, not curated by us: a column it adds upstream must not
    # stop every scheduled fetch until a release. Only the columns we read matter.
    data = (HEADER.rstrip("\n") + ",AvailabilityZone\n"
            + f"gpu_8x_h100_sxm5,H100,8.0,208.0,1800.0,31.92,us-east-1,{H100_INFO},,us-east-1a\n")
    result = gpu_catalog.parse(data.encode())
    assert [(r.instance_type, r.usd_per_hour) for r in result.records] == [("gpu_8x_h100_sxm5", Decimal("31.92"))]


def test_it_still_fails_a_sheet_with_a_mangled_or_repeated_column() -> None:
    with pytest.raises(ParseError, match="control characters"):
        gpu_catalog.parse((HEADER.replace("Price,", "Pri\x00ce,") + "x,H100,8,1,1,2,r,,\n").encode())
    with pytest.raises(ParseError, match="repeats"):
        gpu_catalog.parse((HEADER.rstrip("\n") + ",Price\n").encode())
