"""/api/v1/advice/: routing advice as JSON, CSV, a LiteLLM Router model_list (YAML) or OpenRouter preferences."""

from __future__ import annotations

from typing import Any

import orjson
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_common.renderers import CSVRenderer, FastJSONRenderer
from apps.api_common.schema import AutoSchema
from apps.api_common.views import ComputedView
from apps.fx.api import CURRENCY_PARAMETER, CurrencyComputedMixin

from ..advice import SLA, Advice, advice_records, routing_advice, workload_text
from ..exports import litellm_yaml, openrouter_preferences
from .serializers import (
    AdviceQuerySerializer,
    AdviceResponseSerializer,
    AdviceRowSerializer,
    LiteLLMConfigSerializer,
    OpenRouterPreferencesSerializer,
)


class LiteLLMYAMLRenderer(BaseRenderer):
    media_type = "application/yaml"
    format = "litellm-yaml"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: dict[str, Any] | None = None) -> bytes:
        return data.encode() if isinstance(data, str) else orjson.dumps(data)  # errors are JSON (ApiViewMixin)


class OpenRouterJSONRenderer(BaseRenderer):
    # Its own media type: the same URL's application/json is the advice itself.
    media_type = "application/vnd.openrouter.provider+json"
    format = "openrouter-json"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: dict[str, Any] | None = None) -> bytes:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2)


EXPORT_SCHEMAS = {LiteLLMYAMLRenderer.media_type: LiteLLMConfigSerializer,
                  OpenRouterJSONRenderer.media_type: OpenRouterPreferencesSerializer}


class AdviceSchema(AutoSchema):
    """The two router configurations documented with their own shapes, not the advice's."""

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content") or {}
        for media_type, export_serializer in EXPORT_SCHEMAS.items():
            if media_type in content:
                content[media_type] = {"schema": self.resolve_serializer(export_serializer, direction).ref}
        return response


class AdviceView(CurrencyComputedMixin, ComputedView):
    """Which offerings of one model meet a latency SLA, ranked by what a month of the workload costs.

    Each market offering (standard tier, base context price) with its monthly cost and its provider's most
    recent measured speed: tokenwatch's probe runs first, then published benchmarks, each with its date and
    source; older than `max_age_days` = stale. Without an SLA every priced offering is ranked; with one, only
    those whose fresh measurement meets every limit (TTFT p50 <= max_ttft_ms, per-request tokens/s >=
    min_output_tokens_per_s, error rate <= max_error_rate), the rest listed with `not_ranked_reason`.
    Labelled or zero prices are never ranked.

    `?format=csv` gives the rows; `?format=litellm-yaml` a LiteLLM Router `model_list` (one deployment per
    ranked offering, `order` 1, 2…); `?format=openrouter-json` OpenRouter `provider` preferences
    (`order`, `allow_fallbacks`).
    """

    query_serializer_class = AdviceQuerySerializer
    response_serializer_class = AdviceResponseSerializer
    csv_serializer_class = AdviceRowSerializer
    renderer_classes = [FastJSONRenderer, CSVRenderer, LiteLLMYAMLRenderer, OpenRouterJSONRenderer,
                        BrowsableAPIRenderer]
    schema = AdviceSchema()
    fx_columns = ("input_usd_per_mtok", "output_usd_per_mtok", "monthly_usd")  # ?currency= (apps.fx.api)

    def csv_filename_part(self, params: dict) -> str:
        return f"advice-{params['model'].slug}"

    def advice(self, params: dict[str, Any]) -> Advice:
        sla = SLA(max_ttft_ms=params.get("max_ttft_ms"), min_output_tokens_per_s=params.get("min_output_tokens_per_s"),
                  max_error_rate=params.get("max_error_rate"))
        return routing_advice(model=params["model"], input_mtok_per_month=params["input_mtok_per_month"],
                              output_mtok_per_month=params["output_mtok_per_month"], sla=sla,
                              max_age=params.get("max_age_days"))

    @extend_schema(parameters=[CURRENCY_PARAMETER])
    def get(self, request: Request) -> Response:
        fmt = getattr(request.accepted_renderer, "format", None)
        if fmt not in (LiteLLMYAMLRenderer.format, OpenRouterJSONRenderer.format):
            return super().get(request)
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        advice = self.advice(query.validated_data)
        if fmt == LiteLLMYAMLRenderer.format:
            body: Any = litellm_yaml(advice)
            name = f"litellm-router-{advice.model.slug}.yaml"
        else:
            body = openrouter_preferences(advice)
            name = f"openrouter-provider-{advice.model.slug}.json"
        response = Response(body)
        response["Content-Disposition"] = f'attachment; filename="tokenwatch-{timezone.now():%Y-%m-%d}-{name}"'
        return response

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        advice = self.advice(params)
        return {"model": advice.model.slug, "as_of": advice.as_of,
                "workload": {"input_mtok_per_month": advice.input_mtok_per_month,
                             "output_mtok_per_month": advice.output_mtok_per_month},
                "sla": {**advice.sla.__dict__, "max_age_days": advice.max_age_days},
                "reference_workload": workload_text(advice.reference_workload),
                "results": advice_records(advice)}
