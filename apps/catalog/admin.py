from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from .models import Model, ModelAlias, Offering, Provider
from .selectors import curated_aliases_export
from .services import ATTRIBUTE_FIELDS, alias_resolve


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "offering_count"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return super().get_queryset(request).annotate(n=Count("offerings"))

    @admin.display(description="offerings", ordering="n")
    def offering_count(self, obj: Provider) -> int:
        return obj.n  # type: ignore[attr-defined]


@admin.register(Model)
class ModelAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "creator", "family", "version", "parameter_count_b", "active_parameter_count_b",
                    "variant", "modality", "open_weights", "released_on", "size_class"]
    list_filter = ["modality", "open_weights", "family", "creator", "variant", "size_class"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Model, form, change: bool) -> None:
        # An attribute the curator sets here is theirs: ingest and rebuilds leave it alone from now on
        # (clear it from "curated fields" to hand it back to the sources).
        edited = [f for f in ATTRIBUTE_FIELDS if f in form.changed_data]
        # The stored list, not form.changed_data: the JSON widget reports "[]" as changed from [].
        stored = Model.objects.filter(pk=obj.pk).values_list("curated_fields", flat=True).first() if change else []
        submitted = obj.curated_fields or []
        if edited and sorted(submitted) == sorted(stored or []):  # a list the curator typed wins
            obj.curated_fields = sorted(set(submitted) | set(edited))
        super().save_model(request, obj, form, change)


class UnresolvedFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("unresolved", "Unresolved (to work through)")]

    def queryset(self, request, queryset):
        if self.value() == "unresolved":
            return queryset.filter(status=ModelAlias.Status.UNRESOLVED)
        return queryset


@admin.register(ModelAlias)
class ModelAliasAdmin(admin.ModelAdmin):
    """The unresolved queue: pick a canonical model for each raw id, or mark it ignored."""

    list_display = ["raw_id", "source", "provider_hint", "model", "status", "rule"]
    list_filter = [UnresolvedFilter, "status", "source", "provider_hint"]
    search_fields = ["raw_id", "name_hint", "model__name"]
    autocomplete_fields = ["model"]
    readonly_fields = ["source", "raw_id", "rule", "provider_hint", "name_hint", "curator", "released_on", "modality",
                       "open_weights", "updated_at"]
    actions = ["mark_ignored", "export_curated"]
    change_list_template = "admin/catalog/modelalias_change_list.html"

    def save_model(self, request: HttpRequest, obj: ModelAlias, form, change: bool) -> None:
        if "model" in form.changed_data and obj.model is not None:
            alias_resolve(alias=obj, model=obj.model, curator=request.user.get_username())
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="Mark as not a model (ignored)")
    def mark_ignored(self, request: HttpRequest, queryset: QuerySet[ModelAlias]) -> None:
        n = queryset.update(status=ModelAlias.Status.IGNORED, model=None, curator=request.user.get_username()[:150],
                            updated_at=timezone.now())
        self.message_user(request, f"{n} alias(es) ignored.", messages.SUCCESS)

    @admin.action(description="Export curated aliases (the whole table, as fixtures/aliases.csv)")
    def export_curated(self, request: HttpRequest, queryset: QuerySet[ModelAlias]) -> HttpResponse:
        return self.export_curated_view(request)

    def get_urls(self):
        return [path("export-curated/", self.admin_site.admin_view(self.export_curated_view),
                     name="catalog_modelalias_export_curated"), *super().get_urls()]

    def export_curated_view(self, request: HttpRequest) -> HttpResponse:
        """fixtures/aliases.csv with every manual resolution added: commit it back so curation outlives the
        database. Decisions the format cannot hold (ignored aliases) are named in a header."""
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        export = curated_aliases_export()
        response = HttpResponse(export.text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="aliases.csv"'
        response["X-Curated-Rows"] = str(export.rows)
        response["X-Manual-Rows"] = str(export.manual)
        response["X-Left-Out"] = str(len(export.left_out))
        return response


@admin.register(Offering)
class OfferingAdmin(admin.ModelAdmin):
    list_display = ["source_model_id", "provider", "model_name", "region", "service_tier", "min_prompt_tokens",
                    "mode", "source"]
    list_filter = ["source", "service_tier", "mode", "provider__kind"]
    search_fields = ["source_model_id", "display_name", "alias__model__name"]
    list_select_related = ["provider", "alias__model", "source"]
    raw_id_fields = ["alias"]
    # What identifies an offering (see Offering's unique constraint) is what the source said; editing it
    # would turn the offering, and every price copied from it, into another one.
    identity_fields = ["source", "provider", "source_model_id", "region", "service_tier", "min_prompt_tokens"]

    def get_readonly_fields(self, request, obj=None):
        return self.identity_fields if obj is not None else []

    @admin.display(description="model")
    def model_name(self, obj: Offering) -> str:
        return obj.alias.model.name if obj.alias.model else "—"
