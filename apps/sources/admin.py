from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .forms import UploadForm, column_schema
from .models import IngestRun, Rejection, Sighting, Snapshot, Source
from .services import (
    FetchMeta,
    ReviewError,
    snapshot_reparse,
    snapshot_review,
    source_ingest_bytes,
    source_schedule_sync,
)
from .tasks import fetch_source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "format", "enabled", "schedule", "licence", "freshness_hours",
                    "shrink_guard_max_ended_pct", "shrink_guard_provider_min", "priority", "own_provider_slug"]
    list_editable = ["shrink_guard_max_ended_pct", "shrink_guard_provider_min", "priority", "own_provider_slug"]
    list_filter = ["format", "enabled"]
    search_fields = ["key", "name", "url"]
    actions = ["fetch_now"]

    change_list_template = "admin/sources/source_change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Source | None = None) -> list[str]:
        """A source's format is fixed once it has snapshots: its stored documents were read by that parser (a
        reparse would read them with another), and history assumes one kind of statement per source (prices
        with stated dates or prices seen on a day, apps.pricing.services)."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk is not None and obj.snapshots.exists():
            fields.append("format")
        return fields

    def save_model(self, request: HttpRequest, obj: Source, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        source_schedule_sync(source=obj)
        if {"priority", "own_provider_slug"} & set(form.changed_data):
            from apps.pricing.market import market_prices_refresh

            market_prices_refresh()  # the tie-break moved: every market choice may change

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view), name="sources_source_upload"),
                *super().get_urls()]

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Curators upload a CSV or JSON file; it is ingested now, through the same service as the command."""
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            run = source_ingest_bytes(
                source=form.cleaned_data["source"], content=upload.read(), trigger=IngestRun.Trigger.UPLOAD,
                observed_at=form.cleaned_data["observed_at"], meta=FetchMeta(filename=upload.name),
            )
            failed = run.status == IngestRun.Status.FAILED
            self.message_user(request, run.message, messages.ERROR if failed else messages.SUCCESS)
            if run.snapshot_id and not failed:
                return HttpResponseRedirect(f"../../snapshot/{run.snapshot_id}/change/")
        schemas = [
            {"key": key, "label": label, "columns": column_schema(key)}
            for key, label in Source.Format.choices if column_schema(key)
        ]
        context = {**self.admin_site.each_context(request), "form": form, "schemas": schemas,
                   "title": "Upload a file"}
        return TemplateResponse(request, "admin/sources/upload.html", context)

    @admin.action(description="Fetch now (queued)")
    def fetch_now(self, request: HttpRequest, queryset: QuerySet[Source]) -> None:
        for source in queryset:
            fetch_source.delay(source.pk)
        self.message_user(request, f"Queued {queryset.count()} fetch(es).", messages.SUCCESS)


class RejectionInline(admin.TabularInline):
    model = Rejection
    extra = 0
    can_delete = False
    fields = ["locator", "reason", "raw_excerpt"]
    readonly_fields = fields
    max_num = 0


class SightingInline(admin.TabularInline):
    model = Sighting
    extra = 0
    can_delete = False
    fields = ["observed_at", "fetched_at", "created_at"]
    readonly_fields = fields
    max_num = 0


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "observed_at", "parse_status", "record_count", "reject_count", "size_bytes",
                    "short_sha"]
    list_filter = ["source", "parse_status"]
    search_fields = ["sha256", "filename", "url"]
    date_hierarchy = "observed_at"
    exclude = ["content"]
    readonly_fields = [f.name for f in Snapshot._meta.fields if f.name != "content"] + ["download"]
    inlines = [RejectionInline, SightingInline]
    actions = ["reparse", "accept_held", "reject_held"]

    @admin.display(description="sha256")
    def short_sha(self, obj: Snapshot) -> str:
        return obj.sha256[:12]

    @admin.display(description="raw bytes")
    def download(self, obj: Snapshot) -> str:
        return format_html('<a href="{}">download ({} bytes)</a>', reverse("snapshot-raw", args=[obj.pk]),
                           obj.size_bytes)

    @admin.action(description="Re-parse the stored bytes (after a parser fix)")
    def reparse(self, request: HttpRequest, queryset: QuerySet[Snapshot]) -> None:
        for snapshot in queryset.order_by("observed_at"):
            run = snapshot_reparse(snapshot=snapshot)
            level = messages.ERROR if run.status == IngestRun.Status.FAILED else messages.SUCCESS
            self.message_user(request, run.message, level)

    @admin.action(description="Accept held snapshots (apply them)")
    def accept_held(self, request: HttpRequest, queryset: QuerySet[Snapshot]) -> None:
        self._review(request, queryset, accept=True)

    @admin.action(description="Reject held snapshots (history stays as it is)")
    def reject_held(self, request: HttpRequest, queryset: QuerySet[Snapshot]) -> None:
        self._review(request, queryset, accept=False)

    def _review(self, request: HttpRequest, queryset: QuerySet[Snapshot], *, accept: bool) -> None:
        for snapshot in queryset.order_by("observed_at", "sha256"):
            try:
                run = snapshot_review(snapshot=snapshot, accept=accept, by=request.user.get_username())
            except ReviewError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            bad = run.status in (IngestRun.Status.FAILED, IngestRun.Status.HELD)
            self.message_user(request, run.message, messages.ERROR if bad else messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "trigger", "status", "started_at", "created_count", "changed_count",
                    "unchanged_count", "rejected_count"]
    list_filter = ["source", "status", "trigger"]
    readonly_fields = [f.name for f in IngestRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Rejection)
class RejectionAdmin(admin.ModelAdmin):
    list_display = ["id", "snapshot", "locator", "reason"]
    list_filter = ["snapshot__source"]
    search_fields = ["locator", "reason"]
    readonly_fields = ["snapshot", "locator", "reason", "raw_excerpt", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
