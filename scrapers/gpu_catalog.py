"""Parser for SkyPilot catalog VM price sheets (skypilot-org/skypilot-catalog ``catalogs/v8/<cloud>/vms.csv``).

Header: ``InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,
Region,GpuInfo,SpotPrice``. See shared/data/MANIFEST.md §5.

Choices made here (checked against the Lambda Cloud catalog, 408 rows):

* ``Price`` is USD per hour for the *whole instance*, kept as is (the 8x H100
  SXM5 at 31.92 is 3.99 per GPU); ``SpotPrice``, when present, gives a second
  record with pricing model ``spot`` (Lambda's is always empty).
* ``GpuInfo`` is a Python-repr dict string (single quotes): read with
  ``ast.literal_eval``. Memory per accelerator comes from
  ``Gpus[0].MemoryInfo.SizeInMiB`` (``TotalGpuMemoryInMiB`` holds the per-GPU
  figure too, despite its name). ``A100-80GB`` is accelerator ``A100``, 80 GiB.
* The form factor (SXM5, PCIe...) comes from the instance type suffix.
* CPU-only rows (no accelerator) are not hardware prices: skipped, not rejected.
* Counts are floats (``8.0``): a fractional count rejects the row.
* The file does not name its cloud: ``provider_key`` is left blank and the
  applier takes it from the source.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import Any

from scrapers.bench_records import (
    MAX_MEMORY_GIB,
    MAX_USD_PER_HOUR,
    MAX_VCPUS,
    HardwarePriceRecord,
    check_below,
    format_form_factor,
    normalize_accelerator,
)
from scrapers.csvtools import Column, Row, decimal_cell, int_cell, parse_table, text_cell
from scrapers.records import ParseResult, normalize

COLUMNS = (
    Column("InstanceType", True, "the cloud's instance type name"),
    Column("AcceleratorName", True, "accelerator model; blank on CPU-only instances"),
    Column("AcceleratorCount", True, "accelerators in the instance"),
    Column("vCPUs", False, "virtual CPUs"),
    Column("MemoryGiB", False, "host memory, GiB"),
    Column("Price", True, "USD per hour for the whole instance, on demand"),
    Column("Region", False, "cloud region"),
    Column("GpuInfo", False, "Python-repr dict with per-GPU memory"),
    Column("SpotPrice", False, "USD per hour, spot; blank when there is no spot market"),
)
# The reader matches normalised header names; map them back to SkyPilot's spelling.
_ALIASES = {c.name: c.name for c in COLUMNS}

MIB_PER_GIB = 1024


def parse(data: bytes) -> ParseResult:
    """Parse one SkyPilot ``vms.csv`` into hardware price records (GPU instances only)."""
    return parse_table(data, COLUMNS, _row, aliases=_ALIASES, many=True, key=HardwarePriceRecord.natural_key,
                       key_label="instance type, region and pricing model", extra_columns="ignore")


def _row(row: Row) -> tuple[HardwarePriceRecord, ...]:
    """The on-demand record and, when the sheet has one, the spot record; () for CPU-only instances."""
    instance_type = text_cell(row, "InstanceType", required=True, max_length=200)
    accelerator_name = text_cell(row, "AcceleratorName", max_length=100)
    if not accelerator_name:
        return ()
    count = int_cell(row, "AcceleratorCount", required=True, positive=True)
    accelerator, memory_gib, form_factor = normalize_accelerator(accelerator_name)
    gpu_memory = _gpu_memory_gib(row.get("GpuInfo"))
    if gpu_memory is not None:
        memory_gib = gpu_memory
    suffix = instance_type.rsplit("_", 1)[-1]
    if not form_factor and suffix.lower().startswith(("sxm", "pcie", "nvl")):
        form_factor = format_form_factor(suffix)
    common = {
        "instance_type": instance_type,
        "accelerator": accelerator,
        "accelerator_count": count,  # type: ignore[dict-item]
        "region": text_cell(row, "Region", max_length=100),
        "accelerator_memory_gib": memory_gib,
        "form_factor": form_factor,
        # Bounded: 1e999999999 vCPUs is this row's reason, not a failed insert of the whole file.
        "vcpus": _opt(check_below(decimal_cell(row, "vCPUs", minimum=Decimal(0)), "vCPUs", MAX_VCPUS)),
        "memory_gib": _opt(check_below(decimal_cell(row, "MemoryGiB", minimum=Decimal(0)), "MemoryGiB",
                                       MAX_MEMORY_GIB)),
        "line": row.line,
    }
    records = [HardwarePriceRecord(usd_per_hour=_hourly(row, "Price", required=True), **common)]  # type: ignore[arg-type]
    spot = _hourly(row, "SpotPrice")
    if spot is not None:
        records.append(HardwarePriceRecord(usd_per_hour=spot, pricing_model="spot", **common))  # type: ignore[arg-type]
    return tuple(records)


def _hourly(row: Row, name: str, required: bool = False) -> Decimal | None:
    value = decimal_cell(row, name, required=required, positive=True)
    return _opt(check_below(value, name, MAX_USD_PER_HOUR, " USD per hour"))


def _opt(value: Decimal | None) -> Decimal | None:
    return None if value is None else normalize(value)


def _gpu_memory_gib(text: str) -> int | None:
    """Per-GPU memory from ``GpuInfo``; None when absent or unreadable (the name may still say it)."""
    if not text:
        return None
    try:
        info: Any = ast.literal_eval(text)
        mib = info["Gpus"][0]["MemoryInfo"]["SizeInMiB"]
    except (ValueError, SyntaxError, KeyError, IndexError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(mib, bool) or not isinstance(mib, int | float) or mib <= 0:
        return None
    return round(mib / MIB_PER_GIB)

