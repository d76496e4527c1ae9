"""A small slice of the real demo data, loaded through the real ingest pipeline.

Two LiteLLM versions (so prices change between them), a handful of LLMPerf
runs, the seed article's three tables and the curated Lambda GPU price sheet:
enough for every page to draw every chart, small enough to load in about a second.
"""

from __future__ import annotations

from datetime import datetime

from tests.conftest import FIXTURES, get_source

FILES = [
    ("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json", "2024-04-22T23:50:00-07:00"),
    ("litellm", "litellm/model_prices_2024-09-23_tokencost-50ea0a0.json", "2024-09-23T00:13:44+05:30"),
    ("llmperf", "llmperf/groq_70b.json", None),
    ("llmperf", "llmperf/anyscale_70b.json", None),
    ("llmperf", "llmperf/together_70b.json", None),
    ("llmperf", "llmperf/lepton_70b.json", None),
    ("llmperf", "llmperf/anyscale_7b.json", None),
    ("benchmarks-csv", "seed-article/benchmarks.csv", "2024-01-01T00:00:00+00:00"),
    ("market-csv", "seed-article/market_segments.csv", "2024-01-01T00:00:00+00:00"),
    ("providers-csv", "seed-article/providers.csv", "2024-01-01T00:00:00+00:00"),
    ("hardware-csv", "hardware/lambda_gpu_prices.csv", "2025-06-01T00:00:00+00:00"),
]


def load_subset() -> None:
    from apps.sources.models import IngestRun
    from apps.sources.services import FetchMeta, source_ingest_bytes

    for key, path, observed in FILES:
        file = FIXTURES / path
        run = source_ingest_bytes(source=get_source(key), content=file.read_bytes(), trigger=IngestRun.Trigger.COMMAND,
                                  observed_at=datetime.fromisoformat(observed) if observed else None,
                                  meta=FetchMeta(filename=file.name))
        assert run.status != IngestRun.Status.FAILED, run.message


# A second LiteLLM-format feed that disagrees with LiteLLM on one offering (Replicate) and agrees on another
# (DeepInfra), seen after the subset's newest LiteLLM file, so its word is the newest confirmation (issue 10).
MIRROR_OBSERVED = "2024-10-01T00:00:00+00:00"
MIRROR_DOC = {
    # LiteLLM (2024-09-23) says 0.65 / 2.75; the mirror, newer, 0.80 / 3.00: gaps of 23.08 % (input) and
    # 9.09 % (output). The cheaper figure is the older one: a source-row ranking would show it.
    "replicate/meta/llama-3-70b-instruct": {"litellm_provider": "replicate", "mode": "chat",
                                            "input_cost_per_token": 8e-07, "output_cost_per_token": 3e-06},
    # The same as LiteLLM: the sources agree.
    "deepinfra/meta-llama/Meta-Llama-3-70B-Instruct": {"litellm_provider": "deepinfra", "mode": "chat",
                                                       "input_cost_per_token": 5.9e-07,
                                                       "output_cost_per_token": 7.9e-07},
}


def load_disagreement(doc: dict | None = None, observed: str = MIRROR_OBSERVED) -> None:
    """Ingest MIRROR_DOC through the real pipeline as a second source, "mirror" (format litellm)."""
    import json

    from apps.sources.models import IngestRun, Source
    from apps.sources.services import FetchMeta, source_ingest_bytes

    mirror, _ = Source.objects.get_or_create(key="mirror", defaults={
        "name": "Mirror", "format": "litellm", "priority": 5})
    run = source_ingest_bytes(source=mirror, content=json.dumps(doc or MIRROR_DOC).encode(),
                              trigger=IngestRun.Trigger.COMMAND, observed_at=datetime.fromisoformat(observed),
                              meta=FetchMeta(filename=f"mirror-{observed[:10]}.json"))
    assert run.status != IngestRun.Status.FAILED, run.message
