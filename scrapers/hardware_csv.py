"""Parser for curated hardware price sheets (CSV uploads): what a cloud instance costs per hour.

One row per (provider, instance type, region, pricing model) and date. The
price is for the whole instance, all its accelerators. Columns are in
:data:`COLUMNS`; CSV quirks are handled by :mod:`scrapers.csvtools`.

Choices made here:

* ``observed_on`` dates each price; when every row has one the newest dates
  the file, otherwise the ingest must say ``--observed-at`` (and undated rows
  take that time). The same instance on several dates in one file gives its
  price history.
* ``pricing_model`` is on-demand (default when blank), spot or reserved;
  common spellings (``On Demand``, ``preemptible``, ``reserved-1y``) are read.
* ``region`` blank means the price holds in every region the provider offers.
* A zero or negative hourly price is not a price: the row is rejected.
* The same provider, instance type, region, pricing model and date twice:
  the later row is quarantined as a duplicate.
"""

from __future__ import annotations

from datetime import date

from scrapers.bench_records import (
    MAX_MEMORY_GIB,
    MAX_USD_PER_HOUR,
    MAX_VCPUS,
    HardwarePriceRecord,
    check_below,
    normalize_accelerator,
    normalize_pricing_model,
)
from scrapers.csvtools import Column, Row, day, number, parse_table, text, whole
from scrapers.records import ParseResult

COLUMNS = (
    Column("provider", True, "cloud or GPU host, e.g. Lambda, CoreWeave, AWS"),
    Column("instance_type", True, "the provider's instance name, e.g. gpu_8x_h100_sxm5, p5.48xlarge"),
    Column("accelerator", True, "accelerator model, e.g. H100, H100 SXM5, A100-80GB"),
    Column("accelerator_count", True, "accelerators in the instance, e.g. 8"),
    Column("usd_per_hour", True, "USD per hour for the whole instance (not per GPU)"),
    Column("pricing_model", False, "on-demand (default), spot or reserved"),
    Column("region", False, "region; blank = the same price in every region"),
    Column("observed_on", False, "date the price was seen, YYYY-MM-DD"),
    Column("source", False, "where the price was read, e.g. lambdalabs.com/service/gpu-cloud"),
    Column("accelerator_memory_gib", False, "memory per accelerator, GiB (else read from the name)"),
    Column("vcpus", False, "virtual CPUs"),
    Column("memory_gib", False, "host memory, GiB"),
)
ALIASES = {
    "cloud": "provider",
    "instance": "instance_type",
    "gpu": "accelerator",
    "count": "accelerator_count",
    "accelerators": "accelerator_count",
    "gpu_count": "accelerator_count",
    "price_usd_per_hour": "usd_per_hour",
    "usd_hour": "usd_per_hour",
    "price": "usd_per_hour",
    "pricing": "pricing_model",
    "observed_date": "observed_on",
    "date": "observed_on",
    "observed_at": "observed_on",
}


def parse(data: bytes) -> ParseResult:
    """Parse a hardware price CSV into hourly price records; bad rows become rejects with their line."""
    return parse_table(data, COLUMNS, _row, aliases=ALIASES, key=HardwarePriceRecord.natural_key,
                       key_label="provider, instance type, region, pricing model and date", date_of=_date_of)


def _date_of(record: HardwarePriceRecord) -> date | None:
    return record.observed_on


_CELLS = tuple(c.name for c in COLUMNS)


def _row(row: Row) -> HardwarePriceRecord:
    (provider, instance_type, accelerator_text, accelerator_count, usd_per_hour_text, pricing_model, region,
     observed_on, source, accelerator_memory_gib, vcpus, memory_gib) = row.cells(_CELLS)
    accelerator, memory_from_name, form_factor = normalize_accelerator(
        text(accelerator_text, "accelerator", required=True, max_length=100))
    usd_per_hour = check_below(number(usd_per_hour_text, "usd_per_hour", required=True, positive=True),
                               "usd_per_hour", MAX_USD_PER_HOUR)
    assert usd_per_hour is not None
    return HardwarePriceRecord(
        provider_key=text(provider, "provider", required=True, max_length=100),
        instance_type=text(instance_type, "instance_type", required=True, max_length=200),
        accelerator=accelerator,
        accelerator_count=whole(accelerator_count, "accelerator_count", required=True,  # type: ignore[arg-type]
                                positive=True),
        usd_per_hour=usd_per_hour,
        pricing_model=normalize_pricing_model(pricing_model.strip()),
        region=text(region, "region", max_length=100),
        accelerator_memory_gib=whole(accelerator_memory_gib, "accelerator_memory_gib", positive=True)
        or memory_from_name,
        form_factor=form_factor,
        # Bounded here so that a 1e308 cell is this row's reason, not a failed insert of the whole file.
        vcpus=check_below(number(vcpus, "vcpus", positive=True), "vcpus", MAX_VCPUS),
        memory_gib=check_below(number(memory_gib, "memory_gib", positive=True), "memory_gib", MAX_MEMORY_GIB),
        observed_on=day(observed_on, "observed_on"),
        source_label=text(source, "source", max_length=200),
        line=row.line,
    )
