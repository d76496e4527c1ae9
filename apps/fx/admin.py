from django.contrib import admin

from .models import FxCurrency, FxRate


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "day", "per_eur", "per_usd", "snapshot")
    list_filter = ("currency",)
    date_hierarchy = "day"
    raw_id_fields = ("snapshot",)


@admin.register(FxCurrency)
class FxCurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "first_day", "last_day")
