"""The Providers page (/providers/): every provider with its kind (first-party, inference cloud, hyperscaler,
aggregator, ...), how many offerings and canonical models it sells, and its primary offering; filter by kind,
sort by any column, download ``providers``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.catalog.filtersets import ProviderFilterSet
from apps.catalog.models import Provider

from .. import selectors as sel
from ..access import analyst_view
from ..forms import error_messages
from ..tables import Column, Table
from .common import Page, download_response, link_providers, render_page, selected_filters

PROVIDER_LIST_COLUMNS = [
    Column("name", "Provider", link="provider_url"),
    Column("kind", "Kind"),
    Column("offerings", "Offerings", kind="int"),
    Column("models", "Canonical models", kind="int"),
    Column("primary_offering", "Primary offering", wrap=True),
]


@analyst_view
def provider_list(request: HttpRequest) -> HttpResponse:
    page = Page()
    filterset = ProviderFilterSet(request.GET, queryset=Provider.objects.all())
    page.errors += error_messages(filterset.form)
    slugs = set(filterset.qs.values_list("slug", flat=True))
    frame = sel.providers_frame()
    frame = link_providers(frame[frame["slug"].isin(slugs)].reset_index(drop=True), slug="slug")
    page.tables.append(Table("providers", "Providers", PROVIDER_LIST_COLUMNS, frame, stem="providers",
                             as_of=sel.today(), sortable=True, empty_message="No provider matches.")
                       .sorted_by(request.GET.get("sort")))
    if (response := download_response(request, page.tables)) is not None:
        return response
    return render_page(request, "dashboard/provider_list.html", page, kind_choices=Provider.Kind.choices,
                       selected=selected_filters(request.GET))
