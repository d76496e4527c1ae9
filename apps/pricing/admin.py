from django.contrib import admin

from .models import Price, PriceChange, PriceObservation


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
