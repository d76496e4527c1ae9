"""/api/v1/watches/ (CRUD on one's own watches) and /api/v1/deliveries/ (their delivery log, read-only).

Token or session auth; another user's watch or delivery is a 404."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from .. import selectors, services
from ..filtersets import DeliveryFilterSet, WatchFilterSet
from ..models import Delivery, Watch
from .serializers import DeliverySerializer, WatchSerializer


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"

    @property
    def page_size(self) -> int:  # type: ignore[override]
        return settings.TOKENWATCH_API_PAGE_SIZE

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.TOKENWATCH_API_MAX_PAGE_SIZE


class OwnMixin:
    permission_classes = [IsAuthenticated]
    pagination_class = NewestFirst
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = r"[0-9]+"


class WatchViewSet(OwnMixin, viewsets.ModelViewSet):
    """The signed-in user's watches: create, read, update (pause with `paused`), delete."""

    serializer_class = WatchSerializer
    filterset_class = WatchFilterSet
    queryset = Watch.objects.none()  # for the schema; requests read get_queryset

    def get_queryset(self) -> QuerySet[Watch]:
        return Watch.objects.filter(owner=self.request.user).select_related("model", "provider")

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
