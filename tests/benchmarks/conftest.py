"""Helpers for benchmark and token-economics tests: snapshots, canonical models and API prices by hand."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

_counter = itertools.count()


@pytest.fixture
def make_snapshot(db) -> Callable[..., Any]:
    from apps.sources.models import Snapshot, Source

    def make(source_key: str = "litellm", observed_at: datetime | None = None) -> Snapshot:
        content = f"hand-made {next(_counter)}".encode()
        return Snapshot.objects.create(
            source=Source.objects.get(key=source_key), sha256=hashlib.sha256(content).hexdigest(), content=content,
            size_bytes=len(content), observed_at=observed_at or datetime(2024, 1, 1, tzinfo=UTC),
            parse_status=Snapshot.Status.OK,
        )

    return make


@pytest.fixture
def canonical_model(db) -> Callable[..., Any]:
    from apps.catalog.models import Model

    def make(slug: str = "llama-3-70b-instruct", name: str = "Llama 3 70B Instruct",
             parameter_count_b: Decimal | None = Decimal(70), size_class: str = "70b-class") -> Model:
        model, _ = Model.objects.get_or_create(slug=slug, defaults={
            "name": name, "family": "llama", "parameter_count_b": parameter_count_b, "variant": "instruct",
            "size_class": size_class})
        return model

    return make


@pytest.fixture
def api_price(db, make_snapshot) -> Callable[..., Any]:
    """An API offering of a canonical model with one price interval (USD per 1M tokens)."""
    from apps.catalog.models import ModelAlias, Offering, Provider
    from apps.pricing.models import Basis, Price
    from apps.sources.models import Source

    snapshot = None

    def make(model, provider: str, input_usd: str | None, output_usd: str | None, *, label: str = "",
             start: datetime | None = None, end: datetime | None = None, raw_id: str | None = None,
             tier: str = "standard") -> Price:
        nonlocal snapshot
        snapshot = snapshot or make_snapshot("litellm")
        source = Source.objects.get(key="litellm")
        prov, _ = Provider.objects.get_or_create(slug=provider, defaults={"name": provider.title()})
        raw = raw_id or f"{provider}/{model.slug}"
        alias, _ = ModelAlias.objects.get_or_create(source=source, raw_id=raw, defaults={
            "model": model, "status": ModelAlias.Status.MANUAL})
        offering, _ = Offering.objects.get_or_create(source=source, provider=prov, source_model_id=raw,
                                                     service_tier=tier, defaults={"alias": alias})
        return Price.objects.create(
            offering=offering, effective_from=start, effective_to=end,
            input_usd_per_mtok=None if input_usd is None else Decimal(input_usd),
            output_usd_per_mtok=None if output_usd is None else Decimal(output_usd),
            price_label=label, basis=Basis.OBSERVED, snapshot=snapshot)

    return make


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)
