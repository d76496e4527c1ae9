"""Base views: every table endpoint is a three-line viewset (queryset, serializer, filterset).

Lists read ``values_list`` rows through the serializer's column plan: JSON pages
by keyset pagination; CSV streamed whatever the row count (on PostgreSQL one
``COPY ... TO STDOUT`` that formats every cell in the server).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.template import loader
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework import serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .columns import plan_for
from .context import RelatedContext
from .csv import streaming_csv_response
from .filters import lean_filterset
from .lean import Decline, LeanList
from .pagination import KeysetOrdering, KeysetPagination
from .pgcopy import export_query
from .rows import rows_by_id

CSV_CHUNK_ROWS = 2000


def wants_csv(request: Request) -> bool:
    renderer = getattr(request, "accepted_renderer", None)
    return getattr(renderer, "format", None) == "csv"


def release_rendered(response: Response) -> None:
    """Break the two reference cycles DRF leaves through a rendered response, so that it (its ``data``, a
    page of row dicts, and its bytes) is freed as soon as the server drops it.

    DRF puts the response into its own ``renderer_context`` when rendering, and the view keeps it as
    ``view.response``; both are cycles, which only Python's cyclic collector frees. Under load a gunicorn
    worker then spent ~8 % of its CPU in that collector, and its full collections (every few hundred pages,
    each freeing the pages piled up since) held the worker, and every connection it serves, for 20-110 ms
    (bench/README.md, issue 14, twelfth look). Run after rendering, when nothing reads either link again.
    """
    context = getattr(response, "renderer_context", None)
    if not context:
        return
    context.pop("response", None)
    view = context.get("view")
    if view is not None and getattr(view, "response", None) is response:
        del view.response


class ApiViewMixin:
    """Errors are JSON even when CSV or raw bytes were asked for (or the format could not be negotiated);
    a rendered response is freed without the cyclic collector (``release_rendered``)."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        renderer = getattr(request, "accepted_renderer", None)
        if (isinstance(response, Response) and response.status_code >= 400
                and getattr(renderer, "format", None) not in ("json", "api")):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if isinstance(response, Response):
            response.add_post_render_callback(release_rendered)
        return response


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, binding only the filters a request names (see lean_filterset)."""

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        return lean_filterset(filterset_class, request.query_params, queryset, request)

    def to_html(self, request, queryset, view):
        # The browsable API's filter form shows every filter.
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        filterset = filterset_class(**self.get_filterset_kwargs(request, queryset, view))
        return loader.get_template(self.template).render({"filter": filterset}, request)


class TableViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """A read-only table: filter (FilterSet), order (``ordering``), page by cursor, or export all rows as CSV."""

    filter_backends = [FilterBackend, KeysetOrdering]
    pagination_class = KeysetPagination
    lookup_value_regex = r"[0-9]+"  # ids; anything else falls through to the JSON 404
    ordering_fields: dict[str, str] = {"id": "pk"}
    ordering: tuple[str, ...] = ("id",)
    lean: LeanList | None = None  # the hot query strings' own page-id query (apps/api_common/lean.py)
    # Columns through this relation kept per data version instead of joined per page (apps/api_common/context.py).
    row_context: RelatedContext | None = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        plan = plan_for(self.get_serializer_class()).bind(request)
        if wants_csv(request):
            # A CSV is every row, unpaged; a bad page_size is still the 400 the schema promises.
            self.paginator.get_page_size(request)  # type: ignore[union-attr]
            queryset = self.filter_queryset(self.get_queryset())
            export = export_query(plan, queryset) if connection.vendor == "postgresql" else None
            if export is not None:
                # PostgreSQL formats the cells itself (COPY); memory stays flat however many rows match.
                return streaming_csv_response(export.blocks(), what=self.basename)
            # Elsewhere, a cursor read in chunks through the column converters.
            rows = queryset.values_list(*plan.plan.paths).iterator(chunk_size=CSV_CHUNK_ROWS)
            return streaming_csv_response(plan.csv_blocks(rows), what=self.basename)
        converters = plan.json_converters_for(connection.vendor)

        def fetch(ids: list[Any]) -> list[dict[str, Any]]:
            """The page's rows as the serializer would write them, in the order of ``ids``."""
            key = (type(self), self.get_serializer_class())
            if self.row_context is not None:
                rows = self.row_context.json_rows(self.base_queryset(), plan, ids, converters, key=key)
                if rows is not None:
                    return rows
            return plan.json_rows(rows_by_id(self.base_queryset(), lambda qs: plan.json_select(qs, connection.vendor),
                                             ids, key=key), converters)

        page = self._lean_page(request, fetch)
        if page is None:
            page = self.paginator.paginate_queryset(  # type: ignore[union-attr]
                self.filter_queryset(self.get_queryset()), request, view=self, fetch=fetch)
        return self.get_paginated_response(page)

    def base_queryset(self) -> Any:
        """The list's queryset to read rows by id from: ``queryset`` itself unless ``get_queryset`` is
        overridden. Never evaluated (rows_by_id filters or compiles it), so DRF's reason for copying it
        per request (a cached result shared between requests) does not apply; the copy, with its
        select_related tree, was a tenth of a lean page's Python."""
        if type(self).get_queryset is viewsets.ReadOnlyModelViewSet.get_queryset and self.queryset is not None:
            return self.queryset
        return self.get_queryset()

    def _lean_page(self, request: Request, fetch: Any) -> list[Any] | None:
        """The page by the list's ``lean`` id query when the request is one it covers (see
        apps/api_common/lean.py); None: take the FilterSet and the ORM."""
        # Only the count-free paginator: a counted one needs the filtered queryset anyway.
        if self.lean is None or type(self.paginator) is not KeysetPagination:
            return None
        find = self.lean.find(request, self)
        if find is None:
            return None
        try:
            return self.paginator.paginate(request, self, find=find, fetch=fetch)
        except Decline:
            return None


class ComputedView(ApiViewMixin, APIView):
    """A read-only computed table (compare, token economics): query parameters in, ``results`` rows out.

    ``query_serializer_class`` validates the parameters (400 naming each bad one),
    ``compute`` returns the body, ``response_serializer_class`` shapes it and
    ``csv_serializer_class`` is one row of ``results``, which ``?format=csv``
    exports. These tables are small (bounded by the parameters), so the CSV is
    rendered whole.
    """

    query_serializer_class: type[serializers.Serializer]
    response_serializer_class: type[serializers.Serializer]
    csv_serializer_class: type[serializers.Serializer]
    csv_name: str = "table"
    filterset_class: Any = None  # optional: rows chosen by a list's FilterSet (same parameters as that list)

    def compute(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def csv_filename_part(self, params: dict[str, Any]) -> str:
        return self.csv_name

    def filtered(self, queryset: Any) -> Any:
        """``queryset`` narrowed by ``filterset_class`` from the query string (400 naming each bad parameter)."""
        filterset = lean_filterset(self.filterset_class, self.request.query_params, queryset, self.request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset.qs

    def get(self, request: Request) -> Response:
        query = self.query_serializer_class(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = self.compute(query.validated_data)
        response = Response(self.response_serializer_class(body, context={"request": request}).data)
        if wants_csv(request):
            response["Content-Disposition"] = (f'attachment; filename="tokenwatch-'
                                               f'{self.csv_filename_part(query.validated_data)}-'
                                               f'{timezone.now():%Y-%m-%d}.csv"')
        return response


def records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as plain dicts: NaN/NaT as None, numpy scalars as Python values."""
    out = []
    for row in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                value = None
            elif isinstance(value, np.generic):
                value = value.item()
            elif isinstance(value, pd.Timestamp):
                value = value.to_pydatetime()
            clean[key] = value
        out.append(clean)
    return out


@csrf_exempt  # it only ever answers 404 (or a redirect), whatever the method
def api_not_found(request, path: str = ""):
    """JSON 404 for any /api/v1/ path no route matches (Django's own 404 page is HTML)."""
    from django.http import HttpResponsePermanentRedirect, JsonResponse
    from django.urls import Resolver404, resolve

    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query else ""))
    return JsonResponse({"detail": "No such API resource; see /api/docs/ for the list."}, status=404)
