"""Catalog services against the database: providers by kind, aliases, re-resolution."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.catalog.models import Model, ModelAlias, Offering, Provider
from apps.catalog.services import alias_resolve, aliases_reresolve, provider_spec_for
from tests.conftest import get_source

pytestmark = pytest.mark.django_db
NEWEST = "litellm/model_prices_2026-07-24_rocry-8442b93.json"


def test_it_maps_source_provider_keys_to_one_provider_with_a_kind():
    assert provider_spec_for("bedrock").slug == provider_spec_for("bedrock_converse").slug == "aws-bedrock"
    assert provider_spec_for("vertex_ai-llama_models").kind == "hyperscaler"
    assert provider_spec_for("ollama").kind == "local-runtime"
    assert provider_spec_for("openrouter").kind == "aggregator"
    hf = provider_spec_for("huggingface_groq")
    assert (hf.slug, hf.kind) == ("huggingface-groq", "aggregator")
    assert provider_spec_for("some_new_cloud").kind == "unknown"


def test_llama_3_70b_instruct_from_many_providers_is_one_model(ingest_file):
    ingest_file("litellm", NEWEST)
    model = Model.objects.get(slug="llama-3-70b-instruct")
    providers = set(Offering.objects.filter(alias__model=model).values_list("provider__slug", flat=True))
    assert len(providers) >= 10, providers
    assert {"aws-bedrock", "fireworks-ai", "openrouter", "ollama", "databricks"} <= providers
    # Near neighbours stay distinct.
    for other in ("llama-3.1-70b-instruct", "llama-3-8b-instruct", "gpt-4o", "gpt-4o-mini"):
        assert Model.objects.filter(slug=other).exists(), other
        assert not Offering.objects.filter(alias__model__slug=other, source_model_id__icontains="llama3-70b").exists()


def test_a_curators_decision_survives_reingest_and_reresolution(ingest_file):
    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    alias = ModelAlias.objects.filter(status=ModelAlias.Status.UNRESOLVED).order_by("raw_id").first()
    target = Model.objects.create(slug="my-model", name="My model")
    alias_resolve(alias=alias, model=target)
    aliases_reresolve()
    ingest_file("litellm", "litellm/model_prices_2024-09-23_tokencost-50ea0a0.json",
                observed_at=datetime(2024, 9, 23, tzinfo=UTC))
    alias.refresh_from_db()
    assert (alias.model, alias.status) == (target, ModelAlias.Status.MANUAL)


def test_reresolution_picks_up_new_rules_for_unresolved_aliases(ingest_file):
    ingest_file("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json",
                observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    resolved = ModelAlias.objects.filter(status=ModelAlias.Status.RULE).first()
    ModelAlias.objects.filter(pk=resolved.pk).update(model=None, status=ModelAlias.Status.UNRESOLVED, rule="")
    assert aliases_reresolve(source=get_source("litellm")) == 1
    resolved.refresh_from_db()
    assert resolved.status == ModelAlias.Status.RULE and resolved.model is not None


def test_zero_priced_local_runtime_offers_are_labelled(ingest_file):
    ingest_file("litellm", NEWEST)
    ollama = Provider.objects.get(slug="ollama")
    assert ollama.kind == "local-runtime"
    from apps.pricing.models import Price

    prices = Price.objects.filter(offering__provider=ollama, effective_to__isnull=True)
    assert prices.exists()
    assert set(prices.values_list("price_label", flat=True)) <= {"free", "unknown"}
