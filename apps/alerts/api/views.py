"""/api/v1/watches/ (CRUD on one's own watches) and /api/v1/deliveries/ (their delivery log, read-only).

Token or session auth; another user's watch or delivery is a 404."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request

from apps.api_common.pagination import WHOLE_NUMBER
from apps.api_common.views import ApiViewMixin, FilterBackend

from .. import selectors, services
from ..filtersets import DeliveryFilterSet, WatchFilterSet
from ..models import Delivery, Watch
from .serializers import DeliverySerializer, WatchSerializer


class NewestFirst(CursorPagination):
    """DRF's cursor pagination, newest first, with the API's page sizes; a bad page size or cursor is a 400
    naming the parameter (DRF's default is to ignore the one and 404 on the other)."""

    ordering = "-id"
    page_size_query_param = "page_size"

    def __init__(self) -> None:
        self.page_size = settings.TOKENWATCH_API_PAGE_SIZE
        self.max_page_size = settings.TOKENWATCH_API_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        if not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                f"Enter a whole number between 1 and {self.max_page_size}."]})
        return int(raw)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["Not a cursor this API wrote: follow the next and "
                                                             "previous links."]}) from None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        described = {"next": "URL of the next page (older rows); null on the last page.",
                     "previous": "URL of the previous page (newer rows); null on the first page.",
                     "results": "This page's rows, newest first."}
        for name, text in described.items():
            answer["properties"][name]["description"] = text
        return answer


class OwnMixin(ApiViewMixin):
    permission_classes = [IsAuthenticated]
    pagination_class = NewestFirst
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    filter_backends = [FilterBackend]
    lookup_value_regex = r"[0-9]+"


class WatchViewSet(OwnMixin, viewsets.ModelViewSet):
    """The signed-in user's watches: create, read, update (pause with `paused`), delete."""

    serializer_class = WatchSerializer
    filterset_class = WatchFilterSet
    queryset = Watch.objects.none()  # for the schema; requests read get_queryset

    def get_queryset(self) -> QuerySet[Watch]:
        return selectors.watches_of(user=self.request.user)

    def perform_create(self, serializer: WatchSerializer) -> None:
        serializer.instance = services.watch_save(watch=Watch(owner=self.request.user, **serializer.validated_data))

    def perform_update(self, serializer: WatchSerializer) -> None:
        watch = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(watch, name, value)
        serializer.instance = services.watch_save(watch=watch)

    def perform_destroy(self, instance: Watch) -> None:
        services.watch_delete(watch=instance)


class DeliveryViewSet(OwnMixin, viewsets.ReadOnlyModelViewSet):
    """The delivery log of the signed-in user's watches: status, attempts, response code, next retry."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    queryset = Delivery.objects.none()

    def get_queryset(self) -> QuerySet[Delivery]:
        return selectors.deliveries_of(user=self.request.user)
