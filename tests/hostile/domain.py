"""Every domain table (catalog, pricing, benchmarks, market...) as comparable rows.

Row ids and foreign-key ids are left out: a rolled-back savepoint does not roll back
PostgreSQL sequences, so the same rows can carry other ids. Bookkeeping times are left
out too; every other column must be equal.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from tests.tables import VOLATILE, _without_ids

# sources holds the snapshots and runs (what ingest did, compared by the tests themselves), not the market;
# common holds the data version, which a stored (failed) snapshot moves as any write does.
NOT_DOMAIN = {"sources", "common"}


def domain_models() -> list[type[models.Model]]:
    return [model for config in apps.get_app_configs()
            if config.name.startswith("apps.") and config.label not in NOT_DOMAIN
            for model in config.get_models()]


def _values(model: type[models.Model]) -> list[tuple]:
    fields = [f for f in model._meta.concrete_fields
              if not f.primary_key and not f.is_relation and f.name not in VOLATILE
              and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False)]
    rows = []
    for row in model.objects.all():
        values: list[Any] = []
        for field in fields:
            value = getattr(row, field.attname)
            values.append(_without_ids(value) if isinstance(field, models.JSONField) else value)
        rows.append(tuple(values))
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))


def domain_dump() -> dict[str, list[tuple]]:
    return {model._meta.label_lower: _values(model) for model in domain_models()}
