"""Sources (and fetching one now), snapshots (and their raw bytes), ingest runs, rejections, uploads."""

from __future__ import annotations

from hashlib import sha256

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api_common.pagination import CountedKeysetPagination
from apps.api_common.permissions import StaffOnly, StaffRead
from apps.api_common.views import ApiViewMixin, TableViewSet
from apps.sources.filtersets import IngestRunFilterSet, RejectionFilterSet, SnapshotFilterSet, SourceFilterSet
from apps.sources.models import IngestRun, Rejection, Snapshot, Source
from apps.sources.services import FetchMeta, snapshot_submit
from apps.sources.tasks import fetch_source

from .serializers import (
    FetchResultSerializer,
    IngestRunSerializer,
    RejectionSerializer,
    SnapshotSerializer,
    SourceSerializer,
    UploadResultSerializer,
    UploadSerializer,
)


class SourceViewSet(TableViewSet):
    """Where data comes from: URL, schedule, licence."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet
    lookup_field = "key"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering_fields = {"id": "pk", "key": "key"}

    @extend_schema(request=None, responses={202: FetchResultSerializer,
                                            409: OpenApiResponse(description="The source has no URL or is "
                                                                             "disabled.")})
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def fetch(self, request: Request, key: str | None = None) -> Response:
        """Staff: fetch the source's URL now, on a worker (the admin's "Fetch now" does the same)."""
        source = self.get_object()
        if not source.url:
            return Response({"detail": f"{source.key} has no URL to fetch; upload a file to /api/v1/uploads/."},
                            status=status.HTTP_409_CONFLICT)
        if not source.enabled:
            return Response({"detail": f"{source.key} is disabled; enable it in the admin first."},
                            status=status.HTTP_409_CONFLICT)
        fetch_source.delay(source.pk)
        runs = request.build_absolute_uri(reverse("api:ingest-runs-list")) + f"?source={source.key}"
        return Response({"source": source.key, "queued": True, "ingest_runs_url": runs},
                        status=status.HTTP_202_ACCEPTED)


class RawBytesRenderer(BaseRenderer):
    """Lets any Accept header reach the raw download (the view answers with the bytes themselves)."""

    media_type = "application/octet-stream"
    format = "raw"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class SnapshotViewSet(TableViewSet):
    """Every document fetched or uploaded, with its sha256; ``raw_url`` downloads the bytes exactly as fetched."""

    queryset = Snapshot.objects.select_related("source").defer("content")
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilterSet
    ordering_fields = {"id": "pk", "observed_at": "observed_at"}

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], permission_classes=[StaffRead],
            renderer_classes=[RawBytesRenderer, JSONRenderer], filter_backends=[])
    def raw(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The raw bytes exactly as fetched or uploaded (X-Content-SHA256 carries their hash)."""
        snapshot = get_object_or_404(Snapshot.objects.select_related("source"), pk=self.kwargs["pk"])
        response = HttpResponse(bytes(snapshot.content), content_type="application/octet-stream")
        name = snapshot.filename or f"{snapshot.source.key}-{snapshot.observed_at:%Y%m%dT%H%M}-{snapshot.sha256[:8]}"
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:200]
        response["Content-Disposition"] = f'attachment; filename="{safe}"'
        response["X-Content-SHA256"] = snapshot.sha256
        response["X-Content-Type-Options"] = "nosniff"
        return response


class IngestRunViewSet(TableViewSet):
    """Every fetch or ingest attempt and what it did (the ingest health record)."""

    queryset = IngestRun.objects.select_related("source")
    serializer_class = IngestRunSerializer
    filterset_class = IngestRunFilterSet
    ordering_fields = {"id": "pk", "started_at": "started_at"}


class RejectionViewSet(TableViewSet):
    """Quarantined rows: where they were, why they were refused, what they said."""

    queryset = Rejection.objects.select_related("snapshot__source")
    serializer_class = RejectionSerializer
    filterset_class = RejectionFilterSet


class UploadView(ApiViewMixin, APIView):
    """Staff: upload a document for a source (multipart). It is stored now and ingested on a worker."""

    permission_classes = [StaffOnly]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": UploadSerializer},
                   responses={202: UploadResultSerializer, 200: UploadResultSerializer})
    def post(self, request: Request) -> Response:
        body = UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        source: Source = data["source"]
        duplicate = Snapshot.objects.filter(source=source, sha256=sha256(data["content"]).hexdigest()).exists()
        snapshot = snapshot_submit(source=source, content=data["content"],
                                   observed_at=data.get("observed_at") or timezone.now(),
                                   meta=FetchMeta(filename=data["file"].name or "",
                                                  content_type=data["file"].content_type or ""))
        queued = snapshot.parse_status != Snapshot.Status.OK
        url = request.build_absolute_uri(reverse("api:snapshots-detail", args=[snapshot.pk]))
        return Response({"snapshot": snapshot.pk, "snapshot_url": url, "parse_status": snapshot.parse_status,
                         "queued": queued, "duplicate": duplicate},
                        status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK)
