from django.contrib import admin

from .models import Alert, Delivery, MarketEvent, Watch


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ("__str__", "owner", "target", "condition", "component", "paused", "email", "digest", "created_at")
    list_filter = ("paused", "target", "condition", "digest")
    search_fields = ("name", "owner__username", "model__slug", "provider__slug", "size_class")
    raw_id_fields = ("owner", "model", "provider")


@admin.register(MarketEvent)
class MarketEventAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "provider", "model", "service_tier", "version", "source", "observed_at",
                    "evaluated_at")
    list_filter = ("kind",)
    raw_id_fields = ("provider", "model", "source", "snapshot")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "watch", "event", "old_usd_per_mtok", "new_usd_per_mtok", "percent_change", "created_at")
    raw_id_fields = ("watch", "event")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "watch", "channel", "status", "attempts", "response_code", "next_retry_at", "delivered_at",
                    "last_error")
    list_filter = ("status", "channel")
    raw_id_fields = ("watch", "alert")
    readonly_fields = ("idempotency_key",)
