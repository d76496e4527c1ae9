"""Model attributes analysts filter by: active parameters, modality, open weights, release date.

The pure rules first (apps.catalog.attributes), then what ingest makes of the real files.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.catalog import attributes
from apps.catalog.attributes import Statement, from_identity, merge, modality_of
from apps.catalog.models import Model, ModelAlias
from apps.catalog.services import models_attributes_refresh

OPENROUTER_NEWEST = "openrouter/openrouter_models_2026-08-01_token-tariff-90407eb.json"
OPENROUTER_OLDER = "openrouter/openrouter_models_2025-10-02_ia-uyhcire.json"
LITELLM_NEWEST = "litellm/model_prices_2026-07-24_rocry-8442b93.json"


def _identity(slug: str, creator: str = "", family: str = "", version: str = "", params: str | None = None):
    return from_identity(slug=slug, creator=creator, family=family, version=version,
                         parameter_count_b=Decimal(params) if params else None)


@pytest.mark.parametrize(("slug", "active"), [
    ("qwen3-30b-a3b", "3"), ("qwen3-235b-a22b-instruct-2507", "22"), ("ernie-4.5-300b-a47b", "47"),
    ("nemotron-3-ultra-550b-a55b", "55"), ("mixtral-8x7b-instruct", "12.9"), ("gpt-oss-120b", "5.1"),
    ("llama-4-maverick-17b-128e-instruct", "17"), ("deepseek-v3", "37"), ("deepseek-r1-0528", "37"),
])
def test_it_reads_active_parameters_of_mixture_of_experts_models(slug, active):
    assert attributes.active_parameters(slug) == Decimal(active)


@pytest.mark.parametrize("slug", ["llama-3-70b-instruct", "gpt-4o", "qwen2.5-72b-instruct",
                                  "deepseek-r1-distill-llama-70b", "mixtral-8x7", "gpt-oss-1200b"])
def test_dense_and_unknown_models_have_no_active_parameters(slug):
    assert attributes.active_parameters(slug) is None


def test_it_says_open_weights_only_where_identity_or_a_table_knows():
    assert _identity("llama-3-70b-instruct", "meta", "llama", "3", "70")[1].open_weights is True
    assert _identity("gpt-4o", "openai", "gpt", "4o")[1].open_weights is False
    assert _identity("claude-3-5-sonnet", "anthropic", "claude", "3.5")[1].open_weights is False
    assert _identity("gemini-2.5-pro", "google", "gemini", "2.5")[1].open_weights is False
    assert _identity("gpt-oss-120b", "openai", "gpt-oss", "", "117")[1].open_weights is True
    assert _identity("glm-4.6", "zhipu", "glm", "4.6")[1].open_weights is True
    assert _identity("glm-4-plus", "zhipu", "glm", "4")[1].open_weights is None
    assert _identity("qwen-max", "qwen", "qwen", "")[1].open_weights is False
    assert _identity("grok-4", "xai", "grok", "4")[1].open_weights is False
    assert _identity("some-maker-model", "some-maker", "model")[1].open_weights is None  # unknown, not guessed


def test_it_reads_release_dates_and_modality_from_the_id():
    assert _identity("gpt-4o-2024-08-06")[1].released_on == dt.date(2024, 8, 6)
    assert _identity("claude-3-5-sonnet-20241022")[1].released_on == dt.date(2024, 10, 22)
    assert _identity("gpt-4o")[1].released_on is None
    assert _identity("mistral-large-2407")[1].released_on is None  # a month is not a day
    assert _identity("gpt-4-0613")[1].released_on is None
    assert _identity("text-embedding-3-small")[1].modality == "embedding"
    assert _identity("qwen2.5-vl-72b-instruct")[1].modality == "vision"
    assert _identity("llama-3-70b-instruct")[1].modality == ""


def test_merging_is_order_free_and_keeps_the_most_specific():
    a = Statement(dt.date(2025, 3, 1), "text", None)
    b = Statement(dt.date(2024, 5, 13), "vision", True)
    c = Statement(None, "embedding", None)
    assert merge([a, b, c]) == merge([c, b, a]) == Statement(dt.date(2024, 5, 13), "embedding", True)
    assert merge([a, a]) == a
    assert modality_of("chat", ["text", "image", "file"]) == "vision"
    assert modality_of("chat", ["text", "audio"]) == "multimodal"
    assert modality_of("embedding") == "embedding"
    assert modality_of("image_generation") == "image"
    assert modality_of("search") == ""
    assert modality_of("chat") == "text"


def test_a_model_takes_the_modality_most_of_its_names_give():
    text, vision, embedding = Statement(modality="text"), Statement(modality="vision"), Statement(modality="embedding")
    multimodal = Statement(modality="multimodal")
    assert attributes.combine(Statement(), [text, text, embedding, vision, vision]).modality == "vision"
    # One stray vision flag among many text listings (LiteLLM on Llama 3.1 8B) is not evidence.
    assert attributes.combine(Statement(), [text] * 37 + [vision]).modality == "text"
    assert attributes.combine(Statement(), [text] * 6 + [vision] * 4 + [multimodal] * 2).modality == "multimodal"
    assert attributes.combine(Statement(), [text] * 6 + [vision] * 5 + [multimodal]).modality == "vision"
    assert attributes.combine(Statement(), [vision]).modality == "vision"
    assert attributes.combine(Statement(), [embedding, embedding, text]).modality == "embedding"
    assert attributes.combine(Statement(), [embedding, text]).modality == "text"
    assert attributes.combine(Statement(modality="embedding"), [text, text]).modality == "embedding"
    assert attributes.combine(Statement(modality="vision"), [text]).modality == "vision"
    assert attributes.combine(Statement(), []).modality == ""


def _attrs(slug: str) -> tuple:
    return Model.objects.filter(slug=slug).values_list(
        "active_parameter_count_b", "modality", "open_weights", "released_on").get()


@pytest.mark.parametrize("order", ["newest-first", "oldest-first"])
def test_ingest_fills_what_openrouter_says_in_any_order(ingest_file, order):
    files = [(OPENROUTER_NEWEST, dt.datetime(2026, 8, 1, tzinfo=dt.UTC)),
             (OPENROUTER_OLDER, dt.datetime(2025, 10, 2, tzinfo=dt.UTC))]
    for path, at in files if order == "newest-first" else files[::-1]:
        ingest_file("openrouter", path, observed_at=at)
    # created -> release date; hugging_face_id -> open weights; input_modalities -> modality
    assert _attrs("qwen3-30b-a3b") == (Decimal(3), "text", True, dt.date(2025, 4, 28))
    assert _attrs("llama-3.3-70b-instruct")[1:] == ("text", True, dt.date(2024, 12, 6))
    active, modality, open_weights, released = _attrs("gpt-4o")
    assert (active, modality, open_weights, released) == (None, "vision", False, dt.date(2024, 5, 13))
    assert _attrs("gemini-2.5-flash")[1:3] == ("multimodal", False)


def test_ingest_fills_litellm_modalities_and_keeps_a_curators_edit(ingest_file):
    ingest_file("litellm", LITELLM_NEWEST)
    assert _attrs("gpt-4o")[1] == "vision"  # supports_vision; Replicate's lone audio-input flag is outvoted
    assert _attrs("gpt-4o-2024-08-06")[1] == "vision"
    assert _attrs("llama-3.1-8b-instruct")[1] == "text"  # one provider entry flags vision, the rest do not
    assert _attrs("gpt-oss-120b")[1:3] == ("text", True)
    assert _attrs("codestral-embed-2505")[1] == "embedding"
    assert _attrs("gpt-4o-2024-08-06")[3] == dt.date(2024, 8, 6)
    assert Model.objects.filter(modality="").count() < Model.objects.count() / 20

    # A curator says otherwise in the admin; a rebuild and the next ingest leave it alone.
    Model.objects.filter(slug="gpt-4o").update(modality="multimodal", released_on=dt.date(2024, 5, 13),
                                               curated_fields=["modality", "released_on"])
    models_attributes_refresh()
    ingest_file("openrouter", OPENROUTER_NEWEST, observed_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    assert _attrs("gpt-4o")[1:] == ("multimodal", False, dt.date(2024, 5, 13))
    # Fields the curator did not set still follow the sources.
    Model.objects.filter(slug="gpt-4o").update(open_weights=None)
    assert models_attributes_refresh() == 1
    assert _attrs("gpt-4o")[2] is False


def test_rebuild_restores_what_the_aliases_say(ingest_file):
    ingest_file("openrouter", OPENROUTER_NEWEST, observed_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC))
    before = {m["slug"]: m for m in Model.objects.values("slug", "modality", "open_weights", "released_on",
                                                           "active_parameter_count_b")}
    Model.objects.update(modality="", open_weights=None, released_on=None, active_parameter_count_b=None)
    assert models_attributes_refresh() > 100
    after = {m["slug"]: m for m in Model.objects.values("slug", "modality", "open_weights", "released_on",
                                                          "active_parameter_count_b")}
    assert after == before
    assert ModelAlias.objects.exclude(released_on=None).count() > 200
