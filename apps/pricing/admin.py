from django.contrib import admin

from .models import MarketPrice, Price, PriceChange, PriceObservation


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["offering", "effective_from", "effective_to", "input_usd_per_mtok", "output_usd_per_mtok",
                    "cached_input_usd_per_mtok", "price_label", "basis"]
    list_filter = ["basis", "price_label", "offering__source", "offering__service_tier"]
    search_fields = ["offering__source_model_id", "offering__alias__model__name"]
    list_select_related = ["offering__provider"]
    raw_id_fields = ["offering", "snapshot"]
    date_hierarchy = "effective_from"


@admin.register(PriceChange)
class PriceChangeAdmin(admin.ModelAdmin):
    list_display = ["offering", "changed_at", "component", "old_usd_per_mtok", "new_usd_per_mtok", "percent_change"]
    list_filter = ["component", "offering__source"]
    search_fields = ["offering__source_model_id"]
    list_select_related = ["offering__provider"]
    raw_id_fields = ["offering", "snapshot"]


@admin.register(PriceObservation)
class PriceObservationAdmin(admin.ModelAdmin):
    list_display = ["offering", "snapshot", "input_usd_per_mtok", "output_usd_per_mtok", "stated_from", "stated_to"]
    list_filter = ["snapshot__source"]
    raw_id_fields = ["offering", "snapshot"]


@admin.register(MarketPrice)
class MarketPriceAdmin(admin.ModelAdmin):
    """Read-only: market prices are derived from the source prices (change a source's priority instead)."""

    list_display = ["provider", "model", "service_tier", "region", "min_prompt_tokens", "source",
                    "input_usd_per_mtok", "output_usd_per_mtok", "sources_agree", "max_gap_pct"]
    list_filter = ["sources_agree", "source", "service_tier", "provider__kind"]
    search_fields = ["model__slug", "model__name", "provider__slug"]
    list_select_related = ["provider", "model", "source"]
    raw_id_fields = ["price"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
