"""Every column of every table ingest writes, in a form that two databases can be compared by.

Surrogate ids differ with arrival order by nature, so foreign keys are written as the
natural key of the row they point to, and rows are sorted. Wall-clock bookkeeping
(when a row was written) and the counts of what one ingest did are left out: they
describe the act of ingesting, not the market. Everything else must be equal.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

# What a row is, whatever its id.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "sources.source": ("key",),
    "sources.snapshot": ("source", "sha256"),
    "catalog.provider": ("slug",),
    "catalog.model": ("slug",),
    "catalog.modelalias": ("source", "raw_id"),
    "catalog.offering": ("source", "provider", "source_model_id", "region", "service_tier", "min_prompt_tokens"),
    "pricing.price": ("offering", "effective_from"),
    "pricing.marketprice": ("provider", "model", "region", "service_tier", "min_prompt_tokens"),
    "benchmarks.hardware": ("slug",),
    "benchmarks.hardwareoffering": ("source", "provider", "instance_type", "region", "pricing_model"),
}

# Columns about the act of ingesting (when a row was written, what one run created), not about the market.
VOLATILE = {"created_at", "updated_at", "parsed_at", "started_at", "finished_at", "created_count",
            "changed_count", "unchanged_count"}

INGEST_TABLES = ["sources.snapshot", "sources.sighting", "sources.rejection", "catalog.provider", "catalog.model",
                 "catalog.modelalias", "catalog.offering", "pricing.priceobservation", "pricing.price",
                 "pricing.pricechange", "pricing.marketprice", "pricing.marketdisagreement"]


def _without_ids(value: Any) -> str:
    """JSON as canonical text, minus the row ids it quotes (market evidence names its source prices by id)."""
    import json

    if isinstance(value, list):
        value = [{k: v for k, v in item.items() if k != "price"} if isinstance(item, dict) else item
                 for item in value]
    return json.dumps(value, sort_keys=True, default=str)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class TableDump:
    def __init__(self) -> None:
        self._keys: dict[str, dict[Any, tuple]] = {}

    def natural_key(self, label: str, pk: Any) -> tuple:
        if label not in self._keys:
            model = apps.get_model(label)
            self._keys[label] = {row.pk: self.row_key(label, row) for row in model.objects.all()}
        return self._keys[label][pk]

    def row_key(self, label: str, row: models.Model) -> tuple:
        parts = []
        for name in NATURAL_KEYS[label]:
            field = row._meta.get_field(name)
            value = getattr(row, field.attname)
            if field.is_relation and value is not None:
                value = self.natural_key(field.related_model._meta.label_lower, value)
            parts.append(value)
        return tuple(parts)

    def table(self, label: str) -> list[tuple]:
        model = apps.get_model(label)
        fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in VOLATILE
                  and not isinstance(f, models.BinaryField)]
        out = []
        for row in model.objects.all():
            values = []
            for field in fields:
                value = getattr(row, field.attname)
                if field.is_relation and value is not None:
                    value = self.natural_key(field.related_model._meta.label_lower, value)
                elif isinstance(field, models.JSONField):
                    value = _without_ids(value)
                values.append((field.name, value))
            out.append(tuple(values))
        return sorted(out, key=lambda r: tuple(_text(v) for _, v in r))

    def all(self, labels: list[str]) -> dict[str, list[tuple]]:
        return {label: self.table(label) for label in labels}


def dump_tables(labels: list[str] = INGEST_TABLES) -> dict[str, list[tuple]]:
    return TableDump().all(labels)


def first_difference(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> str:
    """A readable account of where two dumps differ (for assertion messages)."""
    for label in a:
        if a[label] != b[label]:
            only_a = [r for r in a[label] if r not in set(b[label])][:3]
            only_b = [r for r in b[label] if r not in set(a[label])][:3]
            return f"{label}: {len(a[label])} vs {len(b[label])} rows; only first: {only_a}; only second: {only_b}"
    return ""
