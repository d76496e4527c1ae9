"""Probe targets (staff) and the raw per-request samples of probe runs."""

from __future__ import annotations

from rest_framework import serializers

from apps.api_common.serializers import ApiModelSerializer
from apps.probes.models import ProbeSample, ProbeTarget


class ProbeTargetSerializer(ApiModelSerializer):
    provider = serializers.CharField(source="provider.slug", help_text="Provider slug: who serves the endpoint.")
    model = serializers.CharField(source="model.slug", help_text="Canonical model slug the endpoint serves.")

    class Meta:
        model = ProbeTarget
        fields = ["id", "name", "base_url", "provider", "model", "api_model_id", "api_key_env", "requests",
                  "concurrency", "input_tokens", "output_tokens", "schedule", "enabled", "created_at"]
        extra_kwargs = {
            "id": {"help_text": "Probe target id."},
            "name": {"help_text": "Short stable name; `manage.py probe NAME` runs it."},
            "base_url": {"help_text": "OpenAI-compatible base URL; requests go to …/v1/chat/completions."},
            "api_model_id": {"help_text": "The model id sent in each request."},
            "api_key_env": {"help_text": "NAME of the environment variable holding the API key (never the key); "
                                         "null = no key."},
            "requests": {"help_text": "Default workload: requests per run."},
            "concurrency": {"help_text": "Default workload: requests in flight at once."},
            "input_tokens": {"help_text": "Default workload: prompt tokens per request (approximate)."},
            "output_tokens": {"help_text": "Default workload: max_tokens per request."},
            "schedule": {"help_text": "Cron expression (UTC) for scheduled probes; null = on demand only."},
            "enabled": {"help_text": "Whether scheduled probes run."},
            "created_at": {"help_text": "When the target was added (ISO 8601 UTC)."},
        }


class ProbeSampleSerializer(ApiModelSerializer):
    benchmark = serializers.IntegerField(source="run.benchmark_run_id",
                                         help_text="Benchmark run id (/api/v1/benchmarks/) of the probe run.")
    target = serializers.CharField(source="run.target_name", help_text="Probe target name.")
    run_started_at = serializers.DateTimeField(source="run.started_at", help_text="When the run started (UTC).")

    class Meta:
        model = ProbeSample
        fields = ["id", "benchmark", "target", "run_started_at", "index", "offset_ms", "ttft_ms", "e2e_ms",
                  "inter_token_ms", "output_tokens", "tokens_from_usage", "error", "http_status", "detail"]
        extra_kwargs = {
            "id": {"help_text": "Sample id."},
            "index": {"help_text": "Request number within the run, from 0."},
            "offset_ms": {"help_text": "When the request was sent, ms after the run started."},
            "ttft_ms": {"help_text": "Time to first content chunk, ms; null = none arrived."},
            "e2e_ms": {"help_text": "End-to-end latency, ms; null for a failed request."},
            "inter_token_ms": {"help_text": "Gaps between streamed content chunks, ms."},
            "output_tokens": {"help_text": "Output tokens: the response's usage, else text length / 4."},
            "tokens_from_usage": {"help_text": "true: output_tokens is the provider's usage count."},
            "error": {"help_text": "null = success; else http_<status>, timeout, stalled, broken_stream, connect, "
                                   "wall_limit (cut by the run's wall-time limit)…"},
            "http_status": {"help_text": "HTTP status of the response; null = none received."},
            "detail": {"help_text": "What went wrong, in a sentence; null = success."},
        }
