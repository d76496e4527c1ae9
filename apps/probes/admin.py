"""Admin: probe targets (schedules mirrored into beat, "Probe now"), probe runs (samples exported as CSV)."""

from __future__ import annotations

import csv
import json

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from .models import ProbeRun, ProbeSample, ProbeTarget
from .services import probe_target_schedule_sync

SAMPLE_COLUMNS = ["target", "run_started_at", "benchmark_run", "index", "offset_ms", "ttft_ms", "e2e_ms",
                  "inter_token_ms", "output_tokens", "tokens_from_usage", "error", "http_status", "detail"]


def samples_csv(runs) -> HttpResponse:  # type: ignore[no-untyped-def]
    """The raw samples of ``runs`` as one CSV (the API's /api/v1/probe-samples/?format=csv gives the same)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="tokenwatch-probe-samples.csv"'
    writer = csv.writer(response)
    writer.writerow(SAMPLE_COLUMNS)
    for sample in ProbeSample.objects.filter(run__in=runs).select_related("run").order_by("run_id", "index"):
        run = sample.run
        writer.writerow([run.target_name, run.started_at.isoformat(), run.benchmark_run_id, sample.index,
                         sample.offset_ms, sample.ttft_ms, sample.e2e_ms, json.dumps(sample.inter_token_ms),
                         sample.output_tokens, sample.tokens_from_usage, sample.error, sample.http_status,
                         sample.detail])
    return response


@admin.register(ProbeTarget)
class ProbeTargetAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "model", "api_model_id", "base_url", "requests", "concurrency",
                    "schedule", "enabled"]
    list_filter = ["enabled", "provider"]
    search_fields = ["name", "api_model_id", "base_url"]
    autocomplete_fields = ["provider", "model"]
    actions = ["probe_now"]

    def save_model(self, request: HttpRequest, obj: ProbeTarget, form, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_model(request, obj, form, change)
        probe_target_schedule_sync(target=obj)

    @admin.action(description="Probe now (on a worker)")
    def probe_now(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        from .tasks import probe_target

        names = []
        for target in queryset.filter(enabled=True):
            transaction.on_commit(lambda pk=target.pk: probe_target.delay(pk))
            names.append(target.name)
        self.message_user(request, f"Queued: {', '.join(names) or 'nothing (disabled targets are skipped)'}.",
                          messages.SUCCESS if names else messages.WARNING)


class ProbeSampleInline(admin.TabularInline):
    model = ProbeSample
    extra = 0
    can_delete = False
    fields = ["index", "ttft_ms", "e2e_ms", "output_tokens", "tokens_from_usage", "error", "http_status", "detail"]
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ProbeRun)
class ProbeRunAdmin(admin.ModelAdmin):
    list_display = ["target_name", "started_at", "benchmark_run", "wall_s", "stopped_at_wall_limit"]
    list_filter = ["target_name", "stopped_at_wall_limit"]
    readonly_fields = ["target", "snapshot", "benchmark_run", "target_name", "endpoint", "started_at", "wall_s",
                       "stopped_at_wall_limit", "requests_not_sent", "tokenwatch_version"]
    inlines = [ProbeSampleInline]
    actions = ["export_samples"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs come from probes, never typed in

    @admin.action(description="Export the samples as CSV")
    def export_samples(self, request: HttpRequest, queryset) -> HttpResponse:  # type: ignore[no-untyped-def]
        return samples_csv(queryset)
