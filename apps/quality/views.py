"""The data-quality page (/quality/): where the sources disagree, and what the data is still missing.

Built like every dashboard page (apps.dashboard.pages): selectors return DataFrames, each wrapped as a
:class:`Table` that the page shows and ``?download=csv|xlsx&table=<name>`` exports row for row.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.dashboard import selectors as dashboard
from apps.dashboard.access import analyst_view
from apps.dashboard.pages.common import (
    LAST_CONFIRMED,
    MONEY_UNIT,
    Page,
    download_response,
    link_models,
    link_providers,
    paginate,
    render_page,
)
from apps.dashboard.pages.sources import HELD_COLUMNS
from apps.dashboard.tables import Column, Table
from apps.pricing.models import COMPONENTS, MarketPrice
from apps.sources.models import Snapshot

from . import selectors as q

GAP_UNIT = "% of the lower price"
TAIL_PER_SOURCE = 10
MATRIX_COLUMNS = [
    Column("source_a", "Source A"),
    Column("source_b", "Source B"),
    Column("pairs", "Pairs compared", kind="int", title="Market offerings both sources price now, like-for-like"),
    Column("disagree", "Disagreeing", kind="int",
           title="Pairs whose input or output price differs, or whose labels do"),
    Column("share_pct", "Share disagreeing", unit="%", kind="pct", places=1),
    Column("median_gap_pct", "Median gap", unit=GAP_UNIT, kind="pct", places=1,
           title="Median, over the disagreeing pairs, of the largest relative gap between the two prices"),
]
DISAGREEMENT_COLUMNS = [
    # Who says what first; the offering's tier and the source's own id after the prices.
    Column("rank", "#", kind="int", title="The offering's place by its largest gap"),
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model", link="model_url"),
    Column("max_gap_pct", "Largest gap", unit=GAP_UNIT, kind="pct", places=1),
    Column("source", "Source"),
    Column("chosen", "Market price", kind="bool",
           title="The statement the policy chose: the newest confirmation wins, source priority breaks ties"),
    *[Column(name, q.COMPONENT_NAMES[name].capitalize(), unit=MONEY_UNIT, kind="money") for name in COMPONENTS],
    Column("price_label", "Label"),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
    Column("differs_on", "Differs on"),
    Column("service_tier", "Tier"),
    Column("region", "Region"),
    Column("min_prompt_tokens", "Context tier", unit="above N prompt tokens", kind="int"),
    Column("source_model_id", "Source's id"),
]
MARKUP_COLUMNS = [
    Column("model", "Model", link="model_url"),
    Column("creator", "Creator"),
    Column("aggregator", "Aggregator", link="aggregator_url"),
    Column("first_party", "Creator's own API", link="first_party_url"),
    Column("aggregator_input_usd_per_mtok", "Input, aggregator", unit=MONEY_UNIT, kind="money"),
    Column("first_party_input_usd_per_mtok", "Input, creator", unit=MONEY_UNIT, kind="money"),
    Column("input_markup_pct", "Input markup", unit="%", kind="pct", places=1),
    Column("aggregator_output_usd_per_mtok", "Output, aggregator", unit=MONEY_UNIT, kind="money"),
    Column("first_party_output_usd_per_mtok", "Output, creator", unit=MONEY_UNIT, kind="money"),
    Column("output_markup_pct", "Output markup", unit="%", kind="pct", places=1),
    Column("aggregator_source", "Aggregator's source"),
    Column("first_party_source", "Creator's source"),
    Column("aggregator_last_confirmed_at", "Aggregator last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
    Column("first_party_last_confirmed_at", "Creator last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]
OUTLIER_COLUMNS = [
    Column("provider", "Provider", link="provider_url"),
    Column("model", "Model", link="model_url"),
    Column("region", "Region"),
    Column("basis", "Compared on"),
    Column("usd_per_mtok", "Price", unit=MONEY_UNIT, kind="money"),
    Column("median_others_usd_per_mtok", "Median of the others", unit=MONEY_UNIT, kind="money"),
    Column("others", "Others", kind="int", title="The model's other market offerings (standard tier, base context)"),
    Column("times", "Away", unit="times", kind="number", places=1),
    Column("direction", "Direction"),
    Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
    Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
    Column("source", "Source"),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]
UNRESOLVED_COLUMNS = [
    Column("family", "Family (guessed)", link="admin_url",
           title="The raw id's leading name, without provider prefixes: kimi, glm, qwen, minimax…"),
    Column("offerings", "Offerings", kind="int", title="Offerings whose raw id is not yet a canonical model"),
    Column("ids", "Raw ids", kind="int"),
    Column("sources", "Sources"),
    Column("examples", "Examples", wrap=True, title="The raw ids covering the most offerings"),
]
COVERAGE_COLUMNS = [
    Column("source", "Source"),
    Column("observed_at", "Newest snapshot", unit="UTC", kind="date",
           title="The source's newest accepted snapshot: the offerings it states are counted"),
    Column("chat_resolved", "Chat resolved", kind="int", title="Chat offerings whose raw id names a canonical model"),
    Column("chat_total", "Chat offerings", kind="int"),
    Column("chat_share_pct", "Chat share resolved", unit="%", kind="pct", places=1),
    Column("resolved", "All resolved", kind="int", title="Offerings of every mode (embeddings, images…)"),
    Column("total", "All offerings", kind="int"),
    Column("share_pct", "All share resolved", unit="%", kind="pct", places=1),
]
TAIL_COLUMNS = [
    Column("source", "Source"),
    Column("rank", "#", kind="int"),
    Column("raw_id", "Raw id", link="admin_url"),
    Column("offerings", "Offerings", kind="int", title="Chat offerings of the newest snapshot under this raw id"),
]
STALE_COLUMNS = [
    Column("name", "Source"),
    Column("key", "Key"),
    Column("status", "Status", badge=True),
    Column("data_as_of", "Newest data", unit="UTC", kind="date",
           title="The document's own date where its format states one, else when it was last seen"),
    Column("age_days", "Age", unit="days", kind="number", places=1),
    Column("limit_hours", "Limit", unit="hours", kind="int",
           title="How old the newest data may be (the admin sets it)"),
    Column("last_fetched_at", "Last fetched", unit="UTC", kind="datetime",
           title="When tokenwatch last got a document from the source: fetching often does not make old data new"),
    Column("held", "Held for review", kind="int"),
]


def _without_empty(columns: list[Column], frame: pd.DataFrame, keys: tuple[str, ...]) -> list[Column]:
    """Leave out optional columns no row fills (no reasoning prices, no long-context tier): they say nothing."""
    def empty(key: str) -> bool:
        return frame.empty or not frame[key].map(lambda v: v is not None and v == v and v != 0 and v != "").any()

    return [c for c in columns if c.key not in keys or not empty(c.key)]


PROVIDER_LINKS = {"provider_slug": "provider_url", "aggregator_slug": "aggregator_url",
                  "first_party_slug": "first_party_url"}


def _link_rows_shown(table: Table) -> None:
    """Model and provider links (HTML only) on the rows of the page shown, not on every row there is."""
    for slug, out in PROVIDER_LINKS.items():
        if slug in table.frame:
            table.frame = link_providers(table.frame, slug=slug, out=out)
    if "model_slug" in table.frame:
        table.frame = link_models(table.frame)


@analyst_view
def quality(request: HttpRequest) -> HttpResponse:
    """The pairwise agreement matrix, the largest disagreements, aggregator markups, price outliers, the
    unresolved-id queue, stale sources and held snapshots; each table exports as CSV and XLSX."""
    as_of, staff = dashboard.today(), request.user.is_staff
    disagreements, markups, outliers = q.largest_disagreements(), q.aggregator_markups(), q.price_outliers()
    unresolved = q.unresolved_families()
    changelist = reverse("admin:catalog_modelalias_changelist") if staff else ""
    unresolved["admin_url"] = [f"{changelist}?{urlencode({'status__exact': 'unresolved', 'q': f})}" if staff else None
                               for f in unresolved["family"]]
    coverage, tail = q.identity_coverage_frame(), q.unresolved_tail_frame(limit=TAIL_PER_SOURCE)
    tail["admin_url"] = [f"{changelist}?{urlencode({'q': raw})}" if staff else None for raw in tail["raw_id"]]
    held = dashboard.held_frame(Snapshot.objects.all())
    held["review_url"] = [reverse("admin:sources_snapshot_change", args=[int(i)]) if staff else None
                          for i in held["id"]]
    offerings, disagreeing = MarketPrice.objects.count(), q.disagreement_count()
    page = Page()
    page.tables += [
        Table("agreement", "Agreement between sources", MATRIX_COLUMNS, q.agreement_frame(), stem="quality-agreement",
              as_of=as_of, caption="Each pair of sources over the market offerings both price now, like-for-like "
                                   "(standard tier, no particular region, base context tier), on input and output "
                                   "prices, compared as exact decimals. Computed live.",
              empty_message="No market offering is priced by two sources yet."),
        paginate(request, Table(
            "disagreements", "Largest disagreements",
            _without_empty(DISAGREEMENT_COLUMNS, disagreements,
                           ("region", "min_prompt_tokens", "price_label", *COMPONENTS[2:])),
            disagreements, stem="quality-disagreements", as_of=as_of,
            caption=f"The {disagreements['rank'].max() if len(disagreements) else 0} of {disagreeing:,} market "
                    f"offerings (of {offerings:,}) whose current sources differ most, by the largest relative gap on "
                    "any price; one row per source's word, the market price's first.",
            empty_message="Every source agrees on every market offering."), param="disagreements_page"),
        paginate(request, Table(
            "markups", "Aggregator markups over the creator's own price", MARKUP_COLUMNS, markups,
            stem="quality-markups", as_of=as_of, sortable=True,
            caption="Market prices of aggregators (providers that resell others' models) against the model "
                    "creator's own API for the same model, standard tier, base context, plain prices; markup = "
                    "(aggregator − creator) / creator. The aggregators reselling most first, each one's largest "
                    "markup (either way) first.",
            empty_message="No aggregator sells a model whose creator's own price is known.")
            .sorted_by(request.GET.get("sort")), param="markups_page"),
        paginate(request, Table(
            "outliers", f"Price outliers (more than {q.OUTLIER_FACTOR}x from the model's other offerings)",
            _without_empty(OUTLIER_COLUMNS, outliers, ("region",)), outliers, stem="quality-outliers", as_of=as_of,
            caption=f"A market offering priced more than {q.OUTLIER_FACTOR} times above or below the median of the "
                    f"same model's other offerings (standard tier, base context, plain prices; at least "
                    f"{q.OUTLIER_MIN_OTHERS} others), on the blended price where the model's offerings all have "
                    "input and output prices, else the input price. Shown, not rejected.",
            empty_message="No offering is that far from its model's other offerings."), param="outliers_page"),
        Table("coverage", "Identity coverage on each source's newest snapshot", COVERAGE_COLUMNS,
              coverage, stem="quality-identity-coverage", as_of=as_of,
              caption="Offerings whose raw id names a canonical model, counted over the offerings each source's "
                      "newest accepted snapshot states (manage.py identity_report gives the same numbers), chat "
                      "separately.", empty_message="No source has offerings yet."),
        Table("tail", f"Unresolved chat tail (top {TAIL_PER_SOURCE} per source)", TAIL_COLUMNS, tail,
              stem="quality-unresolved-tail", as_of=as_of,
              caption="The raw ids of each source's newest snapshot that cover most unresolved chat offerings."
                      + (" A raw id opens it in the admin." if staff else ""),
              empty_message="Every chat offering of the newest snapshots is resolved."),
        paginate(request, Table(
            "unresolved", "Unresolved ids by family", UNRESOLVED_COLUMNS, unresolved, stem="quality-unresolved",
            as_of=as_of, caption="Raw ids no rule or curated alias maps to a canonical model yet, grouped by a "
                                 "family guessed from the id; the families covering most offerings first."
                                 + (" A family opens its ids in the admin." if staff else ""),
            empty_message="Every raw id is resolved or ignored."), param="unresolved_page"),
        Table("stale", "Stale sources", STALE_COLUMNS, q.stale_sources(), stem="quality-stale", as_of=as_of,
              caption="Judged by the date of each source's newest data against its limit, not by when it was last "
                      "fetched; scheduled sources with no data at all are listed too (never).",
              empty_message="Every source's newest data is within its limit."),
        Table("held", "Held snapshots", HELD_COLUMNS, held, stem="quality-held", as_of=as_of,
              caption="Snapshots that would end too much of a source's current prices wait for a curator.",
              empty_message="No snapshot is held for review."),
    ]
    if (response := download_response(request, page.tables)) is not None:
        return response
    for table in page.tables:
        _link_rows_shown(table)
    counts = {t.name: t.extra.get("total", len(t)) for t in page.tables}
    return render_page(request, "quality/page.html", page, staff=staff, offerings=offerings,
                       disagreeing=disagreeing, counts=counts,
                       unresolved_offerings=int(unresolved["offerings"].sum()) if len(unresolved) else 0,
                       chat_coverage=_overall_share(coverage),
                       chat_coverage_note=", ".join(f"{r.source} {r.chat_share_pct} %" for r in coverage.itertuples()
                                                    if r.chat_total))


def _overall_share(coverage: pd.DataFrame) -> str:
    total = int(coverage["chat_total"].sum()) if len(coverage) else 0
    return f"{int(coverage['chat_resolved'].sum()) * 100 / total:.1f} %" if total else "—"
