"""Tests for scrapers.providers_csv against the seed landscape and synthetic bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapers import providers_csv
from scrapers.records import ParseError


def test_it_reads_the_seed_landscape(shared_data: Path) -> None:
    result = providers_csv.parse((shared_data / "seed-article" / "providers.csv").read_bytes())
    assert result.rejects == []
    assert [(r.provider, r.kind) for r in result.records] == [
        ("AWS (Inferentia2)", "hyperscaler"), ("Groq", "silicon"), ("Together AI", "inference-cloud"),
        ("NVIDIA (DGX Cloud)", "hyperscaler"),
    ]
    assert result.records[1].key_differentiation == "Extreme, predictable low latency"
    assert result.records[2].target_metric == "Developer adoption, utilization rate"


def test_it_forgives_the_spelling_of_a_kind() -> None:
    assert providers_csv.normalize_kind("Inference Cloud") == "inference-cloud"
    assert providers_csv.normalize_kind("silicon vendor") == "silicon"
    assert providers_csv.normalize_kind("") == ""


def test_it_quarantines_an_unknown_kind_and_a_repeated_provider() -> None:
    data = b"provider;kind\nGroq;silicon\nAcme;reseller of dreams\ngroq;silicon\n"
    result = providers_csv.parse(data)
    assert [r.provider for r in result.records] == ["Groq"]
    assert [(r.locator, r.reason.split(" (")[0]) for r in result.rejects] == [
        ("line 3", "kind 'reseller of dreams' is not one of first-party, inference-cloud, hyperscaler, aggregator, "
                   "silicon, local-runtime"),
        ("line 4", "duplicate of line 2"),
    ]


def test_it_names_the_kinds_the_catalog_knows() -> None:
    from apps.catalog.models import Provider

    assert set(providers_csv.KINDS) == set(Provider.Kind.values)


def test_it_fails_without_a_kind_column() -> None:
    with pytest.raises(ParseError, match=r"missing required column\(s\): kind"):
        providers_csv.parse(b"provider\nGroq\n")
