from django.contrib import admin

from .models import BenchmarkRun, Hardware, HardwareOffering, HardwarePrice


@admin.register(Hardware)
class HardwareAdmin(admin.ModelAdmin):
    list_display = ["slug", "accelerator", "accelerator_count", "accelerator_memory_gib", "form_factor"]
    list_filter = ["accelerator", "accelerator_count"]
    search_fields = ["slug", "accelerator"]


class HardwarePriceInline(admin.TabularInline):
    model = HardwarePrice
    extra = 0
    fields = ["effective_from", "effective_to", "usd_per_hour", "snapshot"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(HardwareOffering)
class HardwareOfferingAdmin(admin.ModelAdmin):
    list_display = ["instance_type", "provider", "region", "pricing_model", "hardware", "source"]
    list_filter = ["source", "pricing_model", "provider", "hardware__accelerator"]
    search_fields = ["instance_type", "provider__name", "region"]
    list_select_related = ["provider", "hardware", "source"]
    readonly_fields = ["source", "provider", "instance_type", "region", "pricing_model"]
    inlines = [HardwarePriceInline]


@admin.register(HardwarePrice)
class HardwarePriceAdmin(admin.ModelAdmin):
    list_display = ["offering", "usd_per_hour", "effective_from", "effective_to", "snapshot"]
    list_filter = ["offering__source", "offering__pricing_model", "offering__hardware__accelerator"]
    search_fields = ["offering__instance_type", "offering__provider__name"]
    list_select_related = ["offering__provider", "snapshot__source"]
    date_hierarchy = "effective_from"
    readonly_fields = ["offering", "effective_from", "effective_to", "usd_per_hour", "snapshot"]

    def has_add_permission(self, request) -> bool:  # derived from observations; edit the sheet instead
        return False


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(admin.ModelAdmin):
    list_display = ["source_model_id", "canonical_model", "provider", "serving_stack", "precision", "hardware",
                    "tokens_per_s", "p99_latency_ms", "error_rate", "mostly_failed", "reported_usd_per_mtok",
                    "source"]
    list_filter = ["source", "mostly_failed", "cost_is_estimate", "serving_stack", "precision",
                   "hardware__accelerator"]
    search_fields = ["source_model_id", "serving_stack", "alias__model__name", "provider__name"]
    list_select_related = ["alias__model", "provider", "hardware", "source"]
    readonly_fields = ["source", "snapshot", "run_key", "alias"]

    @admin.display(description="canonical model", ordering="alias__model__name")
    def canonical_model(self, obj: BenchmarkRun) -> str:
        return obj.alias.model.name if obj.alias.model_id else "(unresolved)"
