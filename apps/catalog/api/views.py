"""Providers, canonical models (with their aliases), aliases (and resolving them), offerings."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api_common.pagination import CountedKeysetPagination
from apps.api_common.permissions import StaffOnly
from apps.api_common.views import TableViewSet
from apps.catalog.filtersets import ModelAliasFilterSet, ModelFilterSet, OfferingFilterSet, ProviderFilterSet
from apps.catalog.models import Model, ModelAlias, Offering, Provider
from apps.catalog.services import alias_resolve

from .serializers import (
    AliasResolveSerializer,
    ModelAliasSerializer,
    ModelSerializer,
    OfferingSerializer,
    ProviderSerializer,
)


class ProviderViewSet(TableViewSet):
    """Who sells inference, and what kind of seller each is."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = Provider.objects.all()
    serializer_class = ProviderSerializer
    filterset_class = ProviderFilterSet
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    ordering_fields = {"id": "pk", "slug": "slug", "name": "name", "kind": "kind"}


class ModelViewSet(TableViewSet):
    """Canonical models, each with the raw ids (aliases) that name it in the sources."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = Model.objects.prefetch_related(
        Prefetch("aliases", queryset=ModelAlias.objects.select_related("source")))
    serializer_class = ModelSerializer
    filterset_class = ModelFilterSet
    lookup_field = "slug"
    lookup_value_regex = r"[a-z0-9][a-z0-9.\-]*"
    ordering_fields = {"id": "pk", "slug": "slug", "name": "name", "family": "family",
                       "parameter_count_b": "parameter_count_b", "active_parameter_count_b": "active_parameter_count_b",
                       "released_on": "released_on"}


class ModelAliasViewSet(TableViewSet):
    """Raw model ids per source and the canonical model each names; ``status=unresolved`` is the curator's queue."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = ModelAlias.objects.select_related("source", "model")
    serializer_class = ModelAliasSerializer
    filterset_class = ModelAliasFilterSet
    ordering_fields = {"id": "pk", "raw_id": "raw_id", "updated_at": "updated_at"}

    def get_serializer_class(self):
        return AliasResolveSerializer if self.action == "resolve" else ModelAliasSerializer

    @extend_schema(request=AliasResolveSerializer, responses={200: ModelAliasSerializer})
    @action(detail=True, methods=["post"], permission_classes=[StaffOnly])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Staff: name the canonical model of a raw id (the admin's alias queue does the same)."""
        alias = self.get_object()
        body = AliasResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        alias = alias_resolve(alias=alias, model=body.validated_data["model"], curator=request.user.get_username())
        return Response(ModelAliasSerializer(alias, context=self.get_serializer_context()).data)


class OfferingViewSet(TableViewSet):
    """What each source says each provider sells: a raw model id in a region, service tier and context tier."""

    pagination_class = CountedKeysetPagination  # a catalogue-sized table: counting is cheap
    queryset = Offering.objects.select_related("provider", "alias__model", "source")
    serializer_class = OfferingSerializer
    filterset_class = OfferingFilterSet
    ordering_fields = {"id": "pk", "provider": "provider__slug", "model": "alias__model__slug",
                       "source_model_id": "source_model_id"}
