"""Choose a provider (/advice/), issue 15: one model, a month's tokens and a latency SLA in; the offerings that
meet the SLA ranked by monthly cost, the others with the reason, cost against measured speed with the Pareto
frontier and the SLA drawn, and the answer as a LiteLLM Router ``model_list`` or OpenRouter ``provider``
preferences (``?export=litellm-yaml`` / ``?export=openrouter-json``). The advice itself is
:func:`apps.routing.advice.routing_advice`, the same as /api/v1/advice/. Downloads: ``ranked``, ``not-ranked``."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlencode

import pandas as pd
from django import forms
from django.http import Http404, HttpRequest, HttpResponse

from apps.catalog.models import Model
from apps.fx import dashboard as fx
from apps.routing.advice import SLA, Advice, advice_records, routing_advice, workload_text
from apps.routing.exports import litellm_yaml, openrouter_preferences

from .. import charts_advice
from .. import selectors as sel
from ..access import analyst_view
from ..errors import missing, with_model
from ..forms import bind, error_messages
from ..tables import Column, Table
from .common import DEFAULT_COMPARE_MODEL, MONEY_UNIT, Chart, Page, download_response, link_providers, render_page


class AdviceForm(forms.Form):
    """The question; a bad value falls back to its default with a message (as every page form)."""

    input_mtok = forms.DecimalField(label="Input tokens per month (millions)", min_value=Decimal(0),
                                    max_digits=15, decimal_places=6, required=False, initial=Decimal(300))
    output_mtok = forms.DecimalField(label="Output tokens per month (millions)", min_value=Decimal(0),
                                     max_digits=15, decimal_places=6, required=False, initial=Decimal(100))
    max_ttft_ms = forms.DecimalField(label="Max time to first token, p50 (ms)", min_value=Decimal(0),
                                     max_digits=10, decimal_places=3, required=False)
    min_output_tokens_per_s = forms.DecimalField(label="Min output speed per request (tokens/s)",
                                                 min_value=Decimal(0), max_digits=10, decimal_places=3,
                                                 required=False)
    max_error_rate = forms.DecimalField(label="Max error rate (0-1)", min_value=Decimal(0), max_value=Decimal(1),
                                        max_digits=7, decimal_places=6, required=False)


def _freshness(stale: object) -> str:
    if stale is None or (isinstance(stale, float) and pd.isna(stale)):
        return ""
    return "stale" if stale else "fresh"


SPEED_COLUMNS = [
    Column("ttft_p50_ms", "TTFT", unit="ms, p50", kind="number", places=0),
    Column("output_tokens_per_s", "Output speed", unit="tokens/s per request", kind="number", places=1,
           title="The median (p50) a probe measures; the mean where a published source gives no median"),
    Column("output_tokens_per_s_basis", "Statistic", title="p50 or mean"),
    Column("error_rate_pct", "Error rate", unit="%", kind="pct", places=2),
    Column("speed_source", "Speed source", title="Who measured it: the probe source is tokenwatch's own probes"),
    Column("measured_at", "Measured", unit="UTC", kind="date"),
    Column("freshness", "Age", badge=True, title="stale: older than the set age, not trusted for an SLA"),
    Column("workload_label", "Workload measured", title="Prompt and output tokens per request, concurrency"),
    Column("comparable_label", "Comparable", title="no: measured under another workload than most rows"),
]
RANKED_COLUMNS = [
    Column("rank", "Rank", kind="int"),
    Column("provider_name", "Provider", link="provider_url"),
    Column("region", "Region"),
    Column("monthly_usd", "Monthly cost", unit="USD / month", kind="money", places=2),
    Column("input_usd_per_mtok", "Input", unit=MONEY_UNIT, kind="money"),
    Column("output_usd_per_mtok", "Output", unit=MONEY_UNIT, kind="money"),
    *SPEED_COLUMNS,
    Column("source", "Price source", title="The source whose price the market policy chose"),
    Column("litellm_model", "LiteLLM model"),
]
REJECTED_COLUMNS = [
    Column("provider_name", "Provider", link="provider_url"),
    Column("region", "Region"),
    Column("not_ranked_reason", "Why not ranked", wrap=True),
    Column("monthly_usd", "Monthly cost", unit="USD / month", kind="money", places=2),
    *SPEED_COLUMNS,
    Column("source", "Price source"),
]


MONEY_COLUMNS = ("monthly_usd", "input_usd_per_mtok", "output_usd_per_mtok")


def advice_frame(advice: Advice) -> pd.DataFrame:
    """The advice's rows as the page's tables and charts read them."""
    frame = pd.DataFrame(advice_records(advice))
    if frame.empty:
        return frame
    frame["provider_slug"] = frame["provider"]
    frame["freshness"] = frame["stale"].map(_freshness)
    frame["error_rate_pct"] = frame["error_rate"].map(lambda v: None if v is None else v * 100)
    frame["workload_label"] = [
        workload_text((i, o, c)) if s else "" for i, o, c, s in
        zip(frame["input_tokens"], frame["output_tokens"], frame["concurrency"], frame["speed_source"], strict=True)]
    frame["comparable_label"] = frame["comparable"].map(lambda v: "" if v is None else ("yes" if v else "no"))
    return link_providers(frame)


def export_response(advice: Advice, fmt: str) -> HttpResponse:
    stamp = sel.today().isoformat()
    if fmt == "litellm-yaml":
        response = HttpResponse(litellm_yaml(advice), content_type="application/yaml; charset=utf-8")
        name = f"tokenwatch-{stamp}-litellm-router-{advice.model.slug}.yaml"
    elif fmt == "openrouter-json":
        response = HttpResponse(json.dumps(openrouter_preferences(advice), indent=2) + "\n",
                                content_type="application/json")
        name = f"tokenwatch-{stamp}-openrouter-provider-{advice.model.slug}.json"
    else:
        raise Http404("No such export: use export=litellm-yaml or export=openrouter-json.")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def advice_charts(frame: pd.DataFrame, sla: SLA, money: fx.PageCurrency | None = None) -> list[Chart]:
    money = money or fx.PageCurrency()
    out = []
    for metric, chart_id, title, limit in (
            ("ttft", "ttft", "Monthly cost against time to first token", sla.max_ttft_ms),
            ("speed", "speed", "Monthly cost against output speed", sla.min_output_tokens_per_s)):
        chart = Chart(chart_id, title, empty="No offering has both a usable price and this speed measured: "
                                             "probe the providers (manage.py probe) or load a benchmark.")
        if not frame.empty and not charts_advice.plotted(frame, metric).empty:
            chart.figure = charts_advice.advice_speed_figure(frame, metric=metric, limit=limit)
            chart.summary = charts_advice.advice_speed_summary(frame, metric=metric, limit=limit)
            chart.note = ("Hollow markers: stale measurements. The dotted line is the Pareto frontier: no "
                          "offering is both cheaper and faster than one on it.")
            chart.figure, chart.summary = money.figure(chart.figure), money.text(chart.summary)
        out.append(chart)
    return out


def _default_model() -> str | None:
    if Model.objects.filter(slug=DEFAULT_COMPARE_MODEL).exists():
        return DEFAULT_COMPARE_MODEL
    choices = sel.model_choices()
    return choices[0][0] if choices else None


@analyst_view
def advice(request: HttpRequest) -> HttpResponse:
    """Choose a provider: the offerings of one model that meet a latency SLA, cheapest first."""
    page = Page()
    slug = request.GET.get("model") or _default_model()
    if slug is None:
        return render_page(request, "dashboard/advice.html", page, model=None)
    model = Model.objects.filter(slug=slug).first()
    if model is None:  # the nearest models link to this page with the rest of the query string kept
        raise missing("canonical model", Model.objects, slug, lambda found: f"?{with_model(request, found)}")
    form, values = bind(AdviceForm, request.GET)
    page.errors += error_messages(form)
    sla = SLA(max_ttft_ms=values["max_ttft_ms"], min_output_tokens_per_s=values["min_output_tokens_per_s"],
              max_error_rate=values["max_error_rate"])
    result = routing_advice(model=model, input_mtok_per_month=values["input_mtok"],
                            output_mtok_per_month=values["output_mtok"], sla=sla)
    if fmt := request.GET.get("export"):
        return export_response(result, fmt)
    stem, as_of = f"advice-{model.slug}", sel.today()
    money = fx.page_currency(request, day=as_of, errors=page.errors, notes=page.notes)
    frame = money.frame(advice_frame(result), MONEY_COLUMNS)  # ranked in USD; one rate keeps the order
    ranked = frame[frame["rank"].notna()] if not frame.empty else frame
    rejected = frame[frame["rank"].isna()] if not frame.empty else frame
    workload = (f"{values['input_mtok']:,} M input and {values['output_mtok']:,} M output tokens a month")
    page.tables += [
        Table("ranked", "Offerings that meet the SLA, cheapest first" if sla.is_set else
              "Offerings ranked by monthly cost", money.columns(RANKED_COLUMNS), ranked.reset_index(drop=True),
              stem=f"{stem}-ranked", as_of=as_of,
              caption=f"{workload}; market prices in force today, standard tier, base context price.{money.caption()}",
              empty_message="No offering meets this SLA with a fresh measurement: see why below."),
        Table("not-ranked", "Not ranked, and why", money.columns(REJECTED_COLUMNS), rejected.reset_index(drop=True),
              stem=f"{stem}-not-ranked", as_of=as_of, caption=money.caption().strip(),
              empty_message="Every offering was ranked."),
    ]
    if (response := download_response(request, page.tables)) is not None:
        return response
    page.charts += advice_charts(frame, sla, money)
    query = {k: v for k, v in request.GET.items() if k not in ("export", "download", "table") and v}
    return render_page(request, "dashboard/advice.html", page, model=model, model_choices=sel.model_choices(),
                       form=form, values=values, sla=sla, advice=result, best=result.ranked[:1],
                       reference_workload=workload_text(result.reference_workload),
                       export_query=urlencode({**query, "model": model.slug}), currency=money.code,
                       best_monthly=money.value(result.ranked[0].monthly_usd) if result.ranked else None,
                       currency_options=fx.currency_options_html(money.rate and money.code))
