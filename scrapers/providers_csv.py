"""Parser for the curated provider landscape (CSV uploads; the seed article's ``providers.csv`` layout).

One row per provider: its kind and how it competes. Columns are in
:data:`COLUMNS`; CSV quirks are handled by :mod:`scrapers.csvtools`.

Choices made here:

* ``kind`` is one of :data:`KINDS` (the catalog's provider kinds); spaces,
  underscores and case are forgiven (``Inference Cloud``), and ``silicon
  vendor`` reads as ``silicon``. Blank leaves the kind as the catalog has it.
* The same provider twice (case-insensitive): the later row is quarantined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scrapers.csvtools import Column, Row, parse_table, text_cell
from scrapers.records import ParseResult

KINDS = ("first-party", "inference-cloud", "hyperscaler", "aggregator", "silicon", "local-runtime", "unknown")
_KIND_SYNONYMS = {"silicon-vendor": "silicon", "cloud": "inference-cloud", "local": "local-runtime",
                  "reseller": "aggregator", "model-maker": "first-party"}

COLUMNS = (
    Column("provider", True, "provider name, e.g. Groq, Together AI, AWS (Inferentia2)"),
    Column("kind", True, "one of " + ", ".join(KINDS[:-1])),
    Column("primary_offering", False, "what it sells, e.g. Inference API for OSS Models"),
    Column("key_differentiation", False, "how it competes"),
    Column("target_metric", False, "the metric it optimises, e.g. Cost per 1M tokens"),
)
ALIASES = {"name": "provider", "offering": "primary_offering", "differentiation": "key_differentiation"}


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    provider: str
    kind: str  # "" = leave the catalog's kind alone
    primary_offering: str = ""
    key_differentiation: str = ""
    target_metric: str = ""

    def natural_key(self) -> str:
        return self.provider.casefold()


def parse(data: bytes) -> ParseResult:
    """Parse a providers CSV into provider records; bad or repeated rows become rejects."""
    return parse_table(data, COLUMNS, _row, aliases=ALIASES, key=ProviderRecord.natural_key, key_label="provider")


def normalize_kind(value: str) -> str:
    """``Inference Cloud`` -> ``inference-cloud``; ValueError for a kind the catalog does not know."""
    key = re.sub(r"[^a-z]+", "-", value.strip().lower()).strip("-")
    key = _KIND_SYNONYMS.get(key, key)
    if key and key not in KINDS:
        raise ValueError(f"kind {value!r} is not one of {', '.join(KINDS[:-1])}")
    return key


def _row(row: Row) -> ProviderRecord:
    return ProviderRecord(
        provider=text_cell(row, "provider", required=True, max_length=200),
        kind=normalize_kind(row.get("kind")),
        primary_offering=text_cell(row, "primary_offering", max_length=300),
        key_differentiation=text_cell(row, "key_differentiation", max_length=500),
        target_metric=text_cell(row, "target_metric", max_length=300),
    )
