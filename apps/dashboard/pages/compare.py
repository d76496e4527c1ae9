"""Provider comparison (/compare/): one canonical model across providers. Every offering with its market price
(or every source's row with ``?per_source=1``), optionally as the market stood on ``as_of``; a bar chart of the
blended price, price against measured speed, and a workload calculator that ranks offerings by monthly cost and
lists those it cannot rank. Downloads: ``offerings``, ``workload``, ``not-ranked``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from django.http import HttpRequest, HttpResponse, QueryDict

from apps.benchmarks.comparability import workload_label
from apps.benchmarks.selectors import PROBE_SOURCE_KEY
from apps.catalog.models import Model, Provider
from apps.fx import dashboard as fx
from apps.pricing.filtersets import PriceFilterSet
from apps.pricing.market import market_rows_as_of
from apps.pricing.models import MarketPrice, Price
from apps.pricing.selectors import prices_current

from .. import agreement, charts
from .. import selectors as sel
from ..access import analyst_view
from ..errors import missing, with_model
from ..exports import source_keys
from ..forms import BlendForm, WorkloadForm, bind, error_messages
from ..tables import Column, Table
from .common import (
    DEFAULT_COMPARE_MODEL,
    FIRST_SEEN,
    LAST_CONFIRMED,
    MONEY_UNIT,
    PER_SOURCE,
    Chart,
    Page,
    as_market,
    blend_label,
    current_time,
    download_response,
    link_providers,
    market_frame,
    offering_columns,
    options_html,
    render_page,
    selected_filters,
    wants_per_source,
)
from .speed import measured_speed, measured_speed_table, with_provider_prices

if TYPE_CHECKING:
    from django.db.models import QuerySet

WORKLOAD_COLUMNS = [
    Column("rank", "Rank", kind="int"),
    Column("provider", "Provider", link="provider_url"),
    Column("region", "Region"),
    Column("tier_used", "Tier used"),
    Column("monthly_usd", "Monthly cost", unit="USD / month", kind="money", places=2),
    Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
    Column("cached_input_usd_per_mtok", "Cached input", unit=MONEY_UNIT, kind="money"),
    Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
    Column("source_model_id", "Offering id"),
]
EXCLUDED_COLUMNS = [
    Column("provider", "Provider", link="provider_url"),
    Column("source_model_id", "Offering id"),
    Column("region", "Region"),
    Column("service_tier", "Tier"),
    Column("price_label", "Label"),
    Column("reason", "Why not ranked", wrap=True),
    Column("source", "Source"),
    Column("first_seen_at", "First seen", unit="UTC", kind="date", title=FIRST_SEEN),
    Column("last_confirmed_at", "Last confirmed", unit="UTC", kind="date", title=LAST_CONFIRMED),
]

# What produced the calculator's rows, written on every row of its downloads (after "As of") so that two
# downloads (another model, another workload) stacked in pandas or Excel can still be told apart (issue 13).
CONTEXT_MODEL = Column("model", "Model")
CONTEXT_MODEL_ID = Column("model_slug", "Model id", title="The canonical model's slug, as in /models/<id>/")
CONTEXT_INPUT = Column("input_mtok", "Input tokens per month", unit="millions", kind="number", places=3)
CONTEXT_OUTPUT = Column("output_mtok", "Output tokens per month", unit="millions", kind="number", places=3)
CONTEXT_CACHED = Column("cached_pct", "Cached share of input", unit="%", kind="pct", places=1,
                        title="The share of input tokens billed at the cached-input price where an offering has one")
CONTEXT_BATCH = Column("batch", "Batch", kind="bool", title="yes: the batch tier is used where the provider offers one")
CONTEXT_PRICES = Column("prices", "Prices", title="market price per offering (the policy's choice among sources) "
                                                  "or every source's row (per_source=1)")
CONTEXT_FILTERS = Column("filters", "Filters", title="The page's other filters (name=value; …), empty for none")
CONTEXT_SOURCES = Column("sources", "Sources", title="Keys of every source whose data is in this download")
CALCULATOR_PARAMS = {"model", "as_of", "input_mtok", "output_mtok", "cached_pct", "batch", "ratio_in", "ratio_out",
                     "sort", PER_SOURCE, "download", "table", "page"}


# Every money column of the page's frames: converted together when a currency is chosen (apps.fx.dashboard).
MONEY_COLUMNS = ("input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok", "blended_usd_per_mtok",
                 "monthly_usd")


def filters_text(data: QueryDict) -> str:
    """The filters besides the calculator's inputs, e.g. ``provider_kind=aggregator; source=litellm,openrouter``."""
    parts = [f"{name}={','.join(v for v in data.getlist(name) if v)}" for name in sorted(data)
             if name not in CALCULATOR_PARAMS and any(data.getlist(name))]
    return "; ".join(parts)


def calculator_context(table: Table, model: Model, work: dict[str, Any], *, batch: bool, per_source: bool,
                       filters: str) -> list[tuple[Column, Any]]:
    return [(CONTEXT_MODEL, model.name), (CONTEXT_MODEL_ID, model.slug), (CONTEXT_INPUT, work["input_mtok"]),
            (CONTEXT_OUTPUT, work["output_mtok"]), (CONTEXT_CACHED, work["cached_pct"]), (CONTEXT_BATCH, batch),
            (CONTEXT_PRICES, "every source's row" if per_source else "market price per offering"),
            (CONTEXT_FILTERS, filters), (CONTEXT_SOURCES, " ".join(source_keys(table)))]


# Filters that pick which source statements count (not which offerings): with one, the market is
# computed from the statements left (the policy on fewer sources), not read from the stored rows.
MARKET_KEY_FILTERS = {"provider", "provider_kind", "model", "family", "size_class", "region", "service_tier",
                      "min_prompt_tokens", "current", "as_of"}


def evidence_filters(data: QueryDict) -> list[str]:
    return [name for name in PriceFilterSet.base_filters
            if name not in MARKET_KEY_FILTERS and any(v for v in data.getlist(name))]


def default_model() -> str | None:
    if Model.objects.filter(slug=DEFAULT_COMPARE_MODEL).exists():
        return DEFAULT_COMPARE_MODEL
    choices = sel.model_choices()
    return choices[0][0] if choices else None


def as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return None


def offerings_frame(request: HttpRequest, page: Page, data: QueryDict, prices: QuerySet[Price], *, as_of_value: object,
                    ratio: tuple[int, int], per_source: bool) -> pd.DataFrame:
    """The model's offerings: every source's statement in force, or (by default) one market row per offering."""
    narrowed = evidence_filters(data)
    # Every source's statement in force (the evidence); the market rows are chosen from these.
    offerings = sel.offering_prices(prices if as_of_value else prices_current(prices), ratio=ratio)
    if not per_source and (as_of_value or narrowed):
        # The market as it stood then, or as the chosen sources alone say: the policy run on those statements.
        offerings = market_frame(sel.offers_from_rows(market_rows_as_of(as_of_value or current_time(), prices)),
                                 ratio=ratio, source_rows=offerings)
        if not as_of_value:
            page.notes.append(f"Market prices from the statements these filters keep ({', '.join(narrowed)}): "
                              "other sources have no say.")
    elif not per_source:
        stored = MarketPrice.objects.filter(price_id__in=[int(i) for i in offerings["price_id"]])
        offerings = market_frame(sel.offers_from_stored(stored), ratio=ratio, source_rows=offerings)
    if not request.GET.get("download"):  # who says what is HTML only: a download has it as "Other sources"
        offerings = agreement.with_evidence(offerings)
    return link_providers(offerings)


def offerings_table(request: HttpRequest, offerings: pd.DataFrame, model: Model, *, stem: str, as_of: date,
                    ratio: tuple[int, int], per_source: bool, money: fx.PageCurrency | None = None) -> Table:
    money = money or fx.PageCurrency()
    columns = money.columns(offering_columns(ratio))
    if offerings.empty or not offerings["min_prompt_tokens"].any():
        columns = [c for c in columns if c.key != "min_prompt_tokens"]  # no long-context tiers: say nothing
    if per_source:
        title, rows_are = f"Every source's row for {model.name}", "Every source's current statement, one row each"
    else:
        columns = as_market(columns, after="blended_usd_per_mtok")
        title, rows_are = (f"Every offering of {model.name}", "One row per offering (provider, region, tier): its "
                           "market price, from the source with the newest confirmation; ⚠ marks offerings the "
                           "sources disagree on (open it to see who says what)")
    return Table("offerings", title, columns, offerings, stem=stem, as_of=as_of, sortable=True,
                 caption=f"{rows_are}. Prices in force on {as_of.isoformat()}; blended = ({ratio[0]} × input + "
                         f"{ratio[1]} × output) / {ratio[0] + ratio[1]}.{money.caption()}",
                 empty_message=f"No provider lists a price for {model.name} on {as_of.isoformat()} with these "
                               "filters.").sorted_by(request.GET.get("sort"))


def workload_tables(ranked: pd.DataFrame, excluded: pd.DataFrame, model: Model, *, work: dict[str, Any], batch: bool,
                    stem: str, as_of: date, per_source: bool, filters: str = "",
                    money: fx.PageCurrency | None = None) -> list[Table]:
    """The workload's monthly cost per offering, cheapest first, and the offerings it could not rank; their
    downloads name the model and the workload on every row."""
    money = money or fx.PageCurrency()
    workload_columns, excluded_columns = money.columns(WORKLOAD_COLUMNS), EXCLUDED_COLUMNS
    if not per_source:
        workload_columns = as_market(workload_columns, after="output_usd_per_mtok")
        excluded_columns = as_market(EXCLUDED_COLUMNS, after="price_label")
    tables = [
        Table("workload", "Monthly cost of your workload", workload_columns, ranked,
              stem=f"{stem}-workload", as_of=as_of,
              caption=(f"{work['input_mtok']:,} M input tokens ({work['cached_pct']} % cached) and "
                       f"{work['output_mtok']:,} M output tokens a month"
                       + (", batch tier where offered" if batch else "") + "." + money.caption()),
              empty_message="No offering has the input and output prices this workload needs."),
        Table("not-ranked", "Not ranked", excluded_columns, excluded, stem=f"{stem}-not-ranked",
              as_of=as_of, empty_message="Every offering was ranked."),
    ]
    for table in tables:
        table.context = calculator_context(table, model, work, batch=batch, per_source=per_source, filters=filters)
    return tables


def newest_per_series(measured: pd.DataFrame) -> pd.DataFrame:
    """Each provider's newest run per source and workload: a scheduled probe's history is one point, not one per
    run, and a probe never hides a published run (or the reverse)."""
    if measured.empty:
        return measured
    series = ["provider_slug", "benchmark_source", "input_tokens", "output_tokens", "concurrency"]
    return (measured.sort_values("measured_at", ascending=False, kind="stable", na_position="last")
            .drop_duplicates(series).reset_index(drop=True))


def speed_workload_note(plotted: pd.DataFrame) -> str:
    """Whether the drawn points were measured under one workload; if not, they are not comparable."""
    workloads = sorted({workload_label((_int(r.input_tokens), _int(r.output_tokens), _int(r.concurrency)))
                        for r in plotted.itertuples()})
    if len(workloads) <= 1:
        return f"Every point was measured under one workload: {workloads[0]}." if workloads else ""
    return ("Not comparable: workload differs: " + " vs ".join(workloads) + ". Each point is a provider's newest "
            "run per source and workload; hover for its source and date.")


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[arg-type]


def compare_charts(offerings: pd.DataFrame, ranked: pd.DataFrame, model: Model, *,
                   ratio: tuple[int, int], measured_runs: int = 0, money: fx.PageCurrency | None = None
                   ) -> list[Chart]:
    """Blended price per offering, price against measured speed, and the workload's monthly cost (in the
    page's currency: the frames' money columns already converted, the figures without "$")."""
    money = money or fx.PageCurrency()
    unit = money.unit(f"USD per 1M tokens, blended {blend_label(ratio)}")
    bars = Chart("bars", "Blended price by offering", empty=(
        f"No offering of {model.name} has a plain input and output price to compare."))
    rankable = offerings[sel.rankable(offerings) & (offerings["min_prompt_tokens"] == 0)] if not offerings.empty \
        else offerings
    if not rankable.empty:
        bars.figure = charts.offering_bars_figure(rankable, value="blended_usd_per_mtok", unit=unit)
        bars.summary = charts.offering_bars_summary(rankable, value="blended_usd_per_mtok", unit=unit)
        left = len(offerings) - len(rankable)
        if left:
            bars.note = (f"{left} offerings are not drawn: labelled or zero prices, missing components, or "
                         "long-context tiers (they are in the table).")
    measured = newest_per_series(sel.speed_for_model(model))
    speed = sel.price_vs_speed(offerings, measured)
    speed_chart = Chart("speed", "Price against measured speed", empty=(
        f"No per-request speed of {model.name} is measured at a provider that lists a price for it, so there is "
        "nothing to plot. " + (f"The table below lists its {measured_runs} measured runs (system throughput, with "
                               "the serving provider's price where it lists one)." if measured_runs else
                               "LLMPerf covers Llama 2 models; see the Benchmarks page.")))
    if not speed.empty:
        # tokenwatch's own probe runs are marked by name (and drawn as diamonds) beside the published ones.
        speed = speed.assign(provider=[f"{name} (probe)" if source == PROBE_SOURCE_KEY else name
                                       for name, source in zip(speed["provider"], speed["benchmark_source"],
                                                               strict=True)])
        speed_chart.figure = charts.price_vs_speed_figure(speed, unit=unit)
        speed_chart.summary = charts.price_vs_speed_summary(speed)
        speed_chart.note = speed_workload_note(measured[measured["provider_slug"].isin(set(speed["provider_slug"]))])
    cost_chart = Chart("monthly", "Monthly cost, cheapest first", empty="No offering can be ranked for this workload.")
    if not ranked.empty:
        cost_chart.figure = charts.monthly_cost_figure(ranked)
        cost_chart.summary = charts.monthly_cost_summary(ranked)
        if len(ranked) > 15:
            cost_chart.note = f"The 15 cheapest of {len(ranked)} ranked offerings; the table has them all."
    for chart in (bars, speed_chart, cost_chart):
        chart.figure = money.figure(chart.figure)
        chart.summary = money.text(chart.summary)
    return [bars, speed_chart, cost_chart]


@analyst_view
def compare(request: HttpRequest) -> HttpResponse:
    """One canonical model across providers: every offering, a bar chart, price vs speed, a workload calculator."""
    page = Page()
    data = request.GET.copy()
    models = [m for m in data.getlist("model") if m]
    if len(models) > 1:
        page.errors.append(f"model: the comparison shows one model at a time; showing {models[0]}.")
    slug = models[0] if models else default_model()
    if slug is None:
        return render_page(request, "dashboard/compare.html", page, model=None, model_choices=[])
    data.setlist("model", [slug])
    filterset = PriceFilterSet(data, queryset=Price.objects.all())
    blend_form, blend = bind(BlendForm, request.GET)
    workload_form, work = bind(WorkloadForm, request.GET)
    page.errors += error_messages(filterset.form, blend_form, workload_form)
    model = Model.objects.filter(slug=slug).first()
    if model is None:  # the nearest models link to this page with the rest of the query string kept
        raise missing("canonical model", Model.objects, slug, lambda found: f"?{with_model(request, found)}")
    as_of_value = filterset.form.cleaned_data.get("as_of") if filterset.is_bound else None
    as_of = as_date(as_of_value) or sel.today()
    ratio = (blend["ratio_in"], blend["ratio_out"])
    per_source = wants_per_source(request)
    money = fx.page_currency(request, day=as_of, errors=page.errors, notes=page.notes)
    offerings = offerings_frame(request, page, data, filterset.qs, as_of_value=as_of_value, ratio=ratio,
                                per_source=per_source)
    stem = f"compare-{model.slug}" + ("-per-source" if per_source else "")
    workload = sel.Workload(input_mtok_per_month=work["input_mtok"], output_mtok_per_month=work["output_mtok"],
                            cached_share_pct=work["cached_pct"], batch=bool(work["batch"]))
    ranked, excluded = sel.monthly_costs(offerings, workload,
                                         key=sel.SOURCE_OFFER_KEY if per_source else sel.MARKET_OFFER_KEY)
    ranked, excluded = link_providers(ranked), link_providers(excluded)
    # Ranked in USD (one rate for every row keeps the order), shown in the chosen currency.
    offerings, ranked, excluded = (money.frame(f, MONEY_COLUMNS) for f in (offerings, ranked, excluded))
    table = offerings_table(request, offerings, model, stem=stem, as_of=as_of, ratio=ratio, per_source=per_source,
                            money=money)
    page.tables += [
        table,
        *workload_tables(ranked, excluded, model, work=work, batch=workload.batch, stem=stem, as_of=as_of,
                         per_source=per_source, filters=filters_text(request.GET), money=money),
    ]
    measured, speed_columns = with_provider_prices(
        measured_speed(model), offerings, unit=money.unit(f"USD per 1M tokens, blended {blend_label(ratio)}"))
    page.tables.append(measured_speed_table(measured, model, stem=stem, as_of=as_of, columns=speed_columns))
    if (response := download_response(request, page.tables)) is not None:
        return response
    page.charts += compare_charts(offerings, ranked, model, ratio=ratio, measured_runs=len(measured), money=money)
    return render_page(request, "dashboard/compare.html", page, model=model,
                       model_options=options_html(sel.model_choices(), model.slug),
                       top=ranked.head(5).to_dict("records"), ranked_count=len(ranked), per_source=per_source,
                       blend_form=blend_form, blend=blend, workload_form=workload_form, work=work, as_of=as_of,
                       as_of_given=bool(as_of_value), filterset=filterset, selected=selected_filters(request.GET),
                       kind_choices=Provider.Kind.choices, source_choices=sel.source_choices(priced=True),
                       currency=money.code, currency_options=fx.currency_options_html(money.rate and money.code))
