"""The Models page (/models/): canonical models with what analysts filter and sort by, their cheapest current
market price, context window and how many providers sell them; the table exports as CSV and XLSX."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.catalog.attributes import MODALITIES, creator_label, family_label
from apps.catalog.filtersets import ModelFilterSet
from apps.catalog.models import Model
from apps.catalog.size_classes import size_class_choices

from .. import selectors as sel
from ..access import analyst_view
from ..forms import error_messages
from ..tables import Column, Table
from .common import (
    MONEY_UNIT,
    Page,
    download_response,
    link_models,
    link_providers,
    options_html,
    paginate,
    render_page,
    selected_filters,
)

CHEAPEST = ("The cheapest current market price of the model: standard tier, base context, any region, plain "
            "prices (free, variable and zero prices are labelled elsewhere, never the cheapest); the offering "
            "with the lowest 3:1 blend of input and output")
COLUMNS = [
    Column("name", "Model", link="model_url"),
    Column("creator_label", "Creator"),
    Column("family_label", "Family"),
    Column("parameter_count_b", "Parameters", unit="billions", kind="number", places=1,
           title="Published size; the total for mixture-of-experts models"),
    Column("active_parameter_count_b", "Active", unit="billions", kind="number", places=1,
           title="Mixture-of-experts models: parameters active per token"),
    Column("modality_label", "Modality", title="Vision: text and image input; multimodal: audio or video too"),
    Column("open_weights", "Open weights", kind="bool", mark=True, title="Weights published; blank = unknown"),
    Column("released_on", "Released", kind="date",
           title="The date in a dated id, or the earliest date a source lists the model (OpenRouter)"),
    Column("cheapest_input_usd_per_mtok", "Cheapest input", unit=MONEY_UNIT, kind="money", title=CHEAPEST),
    Column("cheapest_output_usd_per_mtok", "Cheapest output", unit=MONEY_UNIT, kind="money", title=CHEAPEST),
    Column("cheapest_provider", "Cheapest at", link="provider_url"),
    Column("context_tokens", "Context", unit="tokens", kind="int",
           title="The largest input window of the model's offerings"),
    Column("providers", "Providers", kind="int"),
    Column("offerings", "Offerings", kind="int"),
]


@analyst_view
def model_list(request: HttpRequest) -> HttpResponse:
    page = Page()
    filterset = ModelFilterSet(request.GET, queryset=Model.objects.all())
    page.errors += error_messages(filterset.form)
    slugs = set(filterset.qs.values_list("slug", flat=True))
    frame = sel.models_frame()
    frame = frame[frame["slug"].isin(slugs)].reset_index(drop=True)
    table = Table("models", "Canonical models", COLUMNS, frame, stem="models", as_of=sel.today(), sortable=True,
                  caption=f"{len(frame):,} canonical models with offerings. {CHEAPEST}. CSV and XLSX hold every "
                          "matching row, in this order.",
                  empty_message="No canonical model matches.").sorted_by(request.GET.get("sort"))
    page.tables.append(table)
    # Downloads hold every matching row; the page shows them a hundred at a time (formatting a thousand rows
    # of fourteen cells was most of the page's time).
    if (response := download_response(request, page.tables)) is not None:
        return response
    paginate(request, table)
    table.frame = link_providers(link_models(table.frame, slug="slug"), slug="cheapest_provider_slug")
    present = Model.objects.filter(aliases__offerings__isnull=False).distinct()
    creators = sorted(set(present.exclude(creator="").values_list("creator", flat=True)), key=creator_label)
    families = sorted(set(present.exclude(family="").values_list("family", flat=True)), key=str.lower)
    return render_page(request, "dashboard/model_list.html", page,
                       size_class_choices=size_class_choices(sel.size_classes()),
                       creators=[(c, creator_label(c)) for c in creators],
                       families=[(f, family_label(f)) for f in families], modalities=MODALITIES,
                       provider_options=options_html(sel.provider_choices(), request.GET.getlist("provider")),
                       selected=selected_filters(request.GET))
