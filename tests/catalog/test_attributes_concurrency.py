"""Two ingests that name the same canonical model at once end with the attributes a serial ingest gives.

The interleaving the fault drills found (tests/faults, TOKENWATCH_DRILL_FILES=mixed): worker B looks for the
models its new aliases name, finds none, and before it inserts them worker A commits the same model with what
A's source says. B's insert then conflicts and is ignored, so unless B merges its own statements into the
model A created, the model keeps A's word alone.
"""

from __future__ import annotations

import datetime as dt

import pytest

from apps.catalog import services
from apps.catalog.attributes import Statement
from apps.catalog.models import Model, ModelAlias
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def test_a_model_another_worker_created_meanwhile_gets_both_sources_word(monkeypatch):
    llm_prices, litellm = get_source("llm-prices"), get_source("litellm")
    real_models_ensure = services.models_ensure

    def another_worker_commits_first(identities, statements=None, **kwargs):
        # Worker A (llm-prices) resolves gpt-4o-2024-08-06 too and commits: text, no date stated.
        monkeypatch.setattr(services, "models_ensure", real_models_ensure)
        services.aliases_ensure(source=llm_prices, items={"gpt-4o": ("openai", "GPT-4o")},
                                statements={"gpt-4o": Statement(None, "text", None)})
        return real_models_ensure(identities, statements, **kwargs)

    monkeypatch.setattr(services, "models_ensure", another_worker_commits_first)
    # Worker B (litellm): its listings of gpt-4o say vision, and OpenRouter-style, a listing date.
    said = Statement(dt.date(2024, 5, 13), "vision", None)
    services.aliases_ensure(source=litellm, items={"gpt-4o": ("openai", ""), "azure/gpt-4o": ("azure", "")},
                            statements={"gpt-4o": said, "azure/gpt-4o": said})

    assert ModelAlias.objects.filter(model__slug="gpt-4o").count() == 3
    concurrent = Model.objects.values_list("modality", "released_on").get(slug="gpt-4o")
    services.models_attributes_refresh()  # what the stored aliases say: the serial result
    assert concurrent == Model.objects.values_list("modality", "released_on").get(slug="gpt-4o") == (
        "vision", dt.date(2024, 5, 13))
