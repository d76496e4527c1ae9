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
from scrapers.csvtools import CellMemo, Column, Row, day, number, parse_table, text, whole
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
    return parse_table(data, COLUMNS, _Rows(), aliases=ALIASES, key=HardwarePriceRecord.natural_key,
                       key_label="provider, instance type, region, pricing model and date", date_of=_date_of)


def _date_of(record: HardwarePriceRecord) -> date | None:
    return record.observed_on


_CELLS = tuple(c.name for c in COLUMNS)


class _Rows:
    """``make`` for :func:`parse_table`: a row to its record, with each column's conversion kept per distinct cell
    text for this sheet (:class:`CellMemo`). A price sheet repeats its providers, instance types, accelerators,
    regions, pricing models and dates on thousands of rows; a 100,000-row sheet spent ~10 us a row converting
    them again (bench/README.md, issue 14). A refused cell raises its own reason every time (``CellMemo.one``),
    and the cells are converted in the order a reason is looked for, so records and reasons are what converting
    each cell gives."""

    def __init__(self) -> None:
        self.accelerator = CellMemo(
            lambda cell: normalize_accelerator(text(cell, "accelerator", required=True, max_length=100)))
        self.usd_per_hour = CellMemo(lambda cell: check_below(
            number(cell, "usd_per_hour", required=True, positive=True), "usd_per_hour", MAX_USD_PER_HOUR))
        self.provider = CellMemo(lambda cell: text(cell, "provider", required=True, max_length=100))
        self.instance_type = CellMemo(lambda cell: text(cell, "instance_type", required=True, max_length=200))
        self.count = CellMemo(lambda cell: whole(cell, "accelerator_count", required=True, positive=True))
        self.pricing_model = CellMemo(lambda cell: normalize_pricing_model(cell.strip()))
        self.region = CellMemo(lambda cell: text(cell, "region", max_length=100))
        self.memory = CellMemo(lambda cell: whole(cell, "accelerator_memory_gib", positive=True))
        # Bounded here so that a 1e308 cell is this row's reason, not a failed insert of the whole file.
        self.vcpus = CellMemo(lambda cell: check_below(number(cell, "vcpus", positive=True), "vcpus", MAX_VCPUS))
        self.memory_gib = CellMemo(lambda cell: check_below(number(cell, "memory_gib", positive=True),
                                                            "memory_gib", MAX_MEMORY_GIB))
        self.observed_on = CellMemo(lambda cell: day(cell, "observed_on"))
        self.source = CellMemo(lambda cell: text(cell, "source", max_length=200))

    def __call__(self, row: Row) -> HardwarePriceRecord:
        (provider, instance_type, accelerator_text, accelerator_count, usd_per_hour_text, pricing_model, region,
         observed_on, source, accelerator_memory_gib, vcpus, memory_gib) = row.cells(_CELLS)
        accelerator, memory_from_name, form_factor = self.accelerator.one(accelerator_text)
        usd_per_hour = self.usd_per_hour.one(usd_per_hour_text)
        assert usd_per_hour is not None
        return HardwarePriceRecord(
            provider_key=self.provider.one(provider),
            instance_type=self.instance_type.one(instance_type),
            accelerator=accelerator,
            accelerator_count=self.count.one(accelerator_count),
            usd_per_hour=usd_per_hour,
            pricing_model=self.pricing_model.one(pricing_model),
            region=self.region.one(region),
            accelerator_memory_gib=self.memory.one(accelerator_memory_gib) or memory_from_name,
            form_factor=form_factor,
            vcpus=self.vcpus.one(vcpus),
            memory_gib=self.memory_gib.one(memory_gib),
            observed_on=self.observed_on.one(observed_on),
            source_label=self.source.one(source),
            line=row.line,
        )
