"""Typed records for benchmark runs and hardware hourly prices, and accelerator naming.

Shared by the LLMPerf, SkyPilot-catalog and curated-CSV parsers. Units live in
the field names: ``tokens_per_s``, ``_ms``, ``usd_per_hour``, ``usd_per_mtok``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from scrapers.records import normalize

PRICING_MODELS = ("on-demand", "spot", "reserved")

# An hourly price at or above this is a typo, not an instance (a 72-GPU rack
# rents for a few hundred USD/h). Inclusive, like MAX_USD_PER_MTOK.
MAX_USD_PER_HOUR = Decimal(10_000)
# The largest machines have a few thousand vCPUs and a few dozen TiB of memory;
# at or above these a sheet is wrong (and the figure would not fit the tables).
MAX_VCPUS = Decimal(100_000)
MAX_MEMORY_GIB = Decimal(10_000_000)

# A run where more than this share of requests failed is marked: its latencies
# describe the few requests that got through, not the service.
MOSTLY_FAILED_ERROR_RATE = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class BenchmarkRecord:
    """One benchmark run with its context, as one source states it.

    ``source_model_id`` is the raw model name to resolve to a canonical model.
    ``provider_key`` is who served the requests (an API provider for LLMPerf),
    blank for self-run serving stacks. Throughput and latency metrics are
    ``None`` when the source does not give them.
    """

    source_model_id: str
    provider_key: str = ""
    serving_stack: str = ""
    stack_version: str = ""
    precision: str = ""
    accelerator: str = ""
    accelerator_count: int | None = None
    accelerator_count_approximate: bool = False  # the source wrote "~40": an approximate count, not 40
    accelerator_memory_gib: int | None = None
    form_factor: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    concurrency: int | None = None
    tokens_per_s: Decimal | None = None  # system output throughput, all concurrent requests together
    request_tokens_per_s_p50: Decimal | None = None
    request_tokens_per_s_mean: Decimal | None = None
    ttft_p50_ms: Decimal | None = None
    ttft_p99_ms: Decimal | None = None
    e2e_latency_p50_ms: Decimal | None = None
    e2e_latency_p99_ms: Decimal | None = None
    p99_latency_ms: Decimal | None = None  # "P99 latency" as the source reports it
    error_rate: Decimal | None = None  # 0..1
    requests_completed: int | None = None
    requests_failed: int | None = None
    error_counts: tuple[tuple[str, int], ...] = ()  # (error code, count)
    mostly_failed: bool = False
    reported_usd_per_mtok: Decimal | None = None
    cost_is_estimate: bool = False
    measured_at: datetime | None = None
    source_label: str = ""
    notes: str = ""

    def natural_key(self) -> tuple[object, ...]:
        """What makes two rows the same run: the model and its full context, not its metrics."""
        return (
            self.source_model_id.casefold(), self.provider_key.casefold(), self.serving_stack.casefold(),
            self.stack_version.casefold(), self.precision.casefold(), self.accelerator.casefold(),
            self.accelerator_count, self.accelerator_memory_gib, self.form_factor.casefold(), self.input_tokens,
            self.output_tokens, self.concurrency,
            self.measured_at.isoformat() if self.measured_at else "", self.source_label.casefold(),
        )


@dataclass(frozen=True, slots=True)
class HardwarePriceRecord:
    """The hourly price of one cloud instance (the whole instance, all its accelerators).

    ``provider_key`` may be blank when the document does not name its cloud
    (a SkyPilot catalog file is per cloud; the source says which).
    ``observed_on`` is the row's own date, when it has one; otherwise the
    snapshot's observation time dates the price.
    """

    instance_type: str
    accelerator: str
    accelerator_count: int
    usd_per_hour: Decimal
    provider_key: str = ""
    pricing_model: str = "on-demand"
    region: str = ""
    accelerator_memory_gib: int | None = None
    form_factor: str = ""
    vcpus: Decimal | None = None
    memory_gib: Decimal | None = None
    observed_on: date | None = None
    source_label: str = ""
    line: int = 0  # where the row starts in its file, for quarantine messages

    def natural_key(self) -> tuple[object, ...]:
        return (self.provider_key.casefold(), self.instance_type.casefold(), self.region.casefold(),
                self.pricing_model, self.observed_on)


def check_below(value: Decimal | None, what: str, limit: Decimal, unit: str = "") -> Decimal | None:
    """``value`` unchanged when below ``limit`` (or None); ValueError with a reason at or above it."""
    if value is not None and value >= limit:
        raise ValueError(f"{what} {normalize(value)}{unit} is absurd (at or above {limit})")
    return value


_GPU_MODEL = re.compile(r"^[a-z]{1,4}\d{1,4}[a-z]{0,3}$", re.IGNORECASE)
_MEMORY = re.compile(r"[-_ ]?(\d{2,3})\s*gi?b\b", re.IGNORECASE)
_FORM_FACTOR = re.compile(r"[-_ ]?\b(sxm\d?|pcie|nvl\d*)\b", re.IGNORECASE)
_VENDOR = re.compile(r"^(nvidia|amd|intel|google|aws)\s+", re.IGNORECASE)


@lru_cache(maxsize=4096)
def normalize_accelerator(name: str) -> tuple[str, int | None, str]:
    """(accelerator, memory GiB per accelerator or None, form factor) from a free-text name.

    >>> normalize_accelerator("A100-80GB")
    ('A100', 80, '')
    >>> normalize_accelerator("NVIDIA H100 SXM5")
    ('H100', None, 'SXM5')
    >>> normalize_accelerator("Groq LPU")
    ('Groq LPU', None, '')
    """
    text = " ".join(name.split())
    text = _VENDOR.sub("", text)
    memory: int | None = None
    match = _MEMORY.search(text)
    if match:
        memory = int(match.group(1))
        text = (text[: match.start()] + text[match.end():]).strip(" -_")
    form_factor = ""
    match = _FORM_FACTOR.search(text)
    if match:
        form_factor = format_form_factor(match.group(1))
        text = (text[: match.start()] + text[match.end():]).strip(" -_")
    if _GPU_MODEL.match(text):
        text = text.upper()
    return text, memory, form_factor


def format_form_factor(value: str) -> str:
    """``sxm5`` -> ``SXM5``, ``pcie`` -> ``PCIe``, ``nvl`` -> ``NVL``."""
    value = value.strip()
    return "PCIe" if value.lower() == "pcie" else value.upper()


@lru_cache(maxsize=256)
def normalize_pricing_model(value: str) -> str:
    """``On Demand``/``ondemand``/blank -> ``on-demand``; ``Spot``/``preemptible`` -> ``spot``;
    ``reserved-1y``/``committed`` -> ``reserved``. ValueError for anything else."""
    key = re.sub(r"[^a-z]", "", value.lower())
    if key in ("", "ondemand", "payasyougo"):
        return "on-demand"
    if key in ("spot", "preemptible", "interruptible"):
        return "spot"
    if key.startswith(("reserved", "committed", "commitment", "savingsplan")):
        return "reserved"
    raise ValueError(f"pricing_model {value!r} is not one of {', '.join(PRICING_MODELS)}")
