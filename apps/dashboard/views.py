from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.pricing.models import Price
from apps.sources.models import Snapshot, Source


def home(request: HttpRequest) -> HttpResponse:
    sources = Source.objects.annotate(
        snapshot_count=Count("snapshots"),
        ok_count=Count("snapshots", filter=Q(snapshots__parse_status=Snapshot.Status.OK)),
        last_observed=Max("snapshots__observed_at"),
    )
    snapshots = Snapshot.objects.select_related("source").defer("content")[:30]
    prices = (
        Price.objects.filter(effective_to__isnull=True, offering__mode="chat", input_usd_per_mtok__gt=0)
        .select_related("offering__provider", "offering__alias__model", "offering__source", "snapshot")
        .order_by("offering__alias__model__name", "input_usd_per_mtok")[:200]
    )
    return render(request, "dashboard/home.html", {"sources": sources, "snapshots": snapshots, "prices": prices})


@staff_member_required
def snapshot_raw(request: HttpRequest, pk: int) -> HttpResponse:
    """The raw bytes exactly as fetched, for tracing any number to its document."""
    snapshot = get_object_or_404(Snapshot.objects.select_related("source"), pk=pk)
    response = HttpResponse(bytes(snapshot.content), content_type="application/octet-stream")
    name = snapshot.filename or f"{snapshot.source.key}-{snapshot.observed_at:%Y%m%dT%H%M}-{snapshot.sha256[:8]}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = snapshot.sha256
    return response
