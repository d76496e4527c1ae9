from django.contrib import admin

from .models import Segment, SizeEstimate, StatedCagr


class SizeEstimateInline(admin.TabularInline):
    model = SizeEstimate
    extra = 0
    fields = ["year", "value_usd_bn", "kind", "source_label", "driver", "snapshot"]
    readonly_fields = fields
    can_delete = False
    max_num = 0


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SizeEstimateInline]


@admin.register(SizeEstimate)
class SizeEstimateAdmin(admin.ModelAdmin):
    list_display = ["segment", "year", "value_usd_bn", "kind", "source_label", "source"]
    list_filter = ["kind", "year", "source", "segment"]
    list_select_related = ["segment", "source"]
    readonly_fields = ["snapshot", "source"]


@admin.register(StatedCagr)
class StatedCagrAdmin(admin.ModelAdmin):
    list_display = ["segment", "start_year", "end_year", "cagr_pct", "source_label", "source"]
    list_filter = ["source", "segment"]
    list_select_related = ["segment", "source"]
    readonly_fields = ["snapshot", "source"]
