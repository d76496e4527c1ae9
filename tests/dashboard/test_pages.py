"""Every page with a slice of real data: it renders, draws, filters from the query string, and exports
exactly the table on screen."""

import csv
import io
import json
import re

import plotly.graph_objects as go
import pytest
from openpyxl import load_workbook

from .html_tables import as_exported, read_table

pytestmark = pytest.mark.django_db

PAGES = {
    "/": ["class-trend"],
    "/trends/": ["trend"],
    "/compare/": ["bars", "monthly"],
    "/benchmarks/": ["seed", "llmperf", "hosting", "break-even"],
    "/market/": ["sizes", "cagr", "projection", "shares"],
    "/sources/": [],
    "/models/": [],
    "/providers/": [],
    "/models/llama-3-70b-instruct/": ["history"],
    "/providers/groq/": ["history"],
}


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("url, charts", PAGES.items())
def test_every_page_renders_its_charts_from_local_static_files(web, url, charts, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):  # aggregated reads, no query per row
        html = _html(web.get(url))
    for chart in charts:
        assert f'id="plot-{chart}"' in html, chart
        assert f'<script type="application/json" id="fig-{chart}">' in html
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        go.Figure(json.loads(block))  # the builders skip Plotly's checks for speed; every figure must pass them
    if charts:
        assert "/static/vendor/plotly-scatter-bar-" in html and "/static/tokenwatch/charts.js" in html
    assert not re.search(r'<script[^>]+src="(https?:)?//', html)  # no CDN
    assert "<th scope=\"col\"" in html or not charts


def test_chart_json_cannot_close_its_script_element(web):
    html = _html(web.get("/trends/?model=llama-3-70b-instruct"))
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "<" not in block


def test_the_overview_names_a_source_never_fetched_without_warning(web):
    # Issue 14: not fetched yet (the offline demo) is not a failure; tests/dashboard/test_demo_banner.py.
    html = _html(web.get("/"))
    assert "data-source-warning" not in html and "OpenRouter models API" in html
    assert "Cheapest 70B-class open model" in html


def test_filters_live_in_the_query_string_and_change_the_chart(web):
    one = _html(web.get("/trends/?model=llama-3-70b-instruct&lines=provider"))
    other = _html(web.get("/trends/?model=gpt-4-turbo&lines=provider"))
    drawn = {html: {row[1] for row in read_table(html, "steps")[1]} for html in (one, other)}
    assert "Groq" in drawn[one] and "Groq" not in drawn[other]
    assert "OpenAI" in drawn[other]
    assert "starting selection" not in one  # chosen, not the default


def test_bad_parameters_give_a_message_not_an_error(web):
    html = _html(web.get("/trends/?model=no-such-model&ratio_in=abc&scale=sideways"))
    assert "Some parameters were not understood" in html
    assert "model:" in html and "ratio_in:" in html and "scale:" in html
    assert "starting selection" in html  # a mistyped model falls back to the default, not to every price
    html = _html(web.get("/compare/?as_of=2025-02-30&input_mtok=-4"))
    assert "as_of:" in html and "input_mtok:" in html


def test_an_empty_selection_says_what_is_missing(web):
    html = _html(web.get("/trends/?model=llama-3-70b-instruct&source=openrouter"))
    assert "No prices match these filters" in html
    assert 'id="plot-trend"' not in html


def test_the_compare_csv_is_exactly_the_table_on_screen(web):
    url = "/compare/?model=llama-3-70b-instruct&sort=-blended_usd_per_mtok&ratio_in=1&ratio_out=1"
    headers, rows = read_table(_html(web.get(url)), "offerings")
    assert len(rows) > 5
    response = web.get(url + "&download=csv&table=offerings")
    assert response["Content-Disposition"].startswith('attachment; filename="tokenwatch-compare-llama-3-70b-instruct-')
    exported = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert "Blended 1:1 (USD / 1M tokens)" in exported[0]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(c) for c in row] for row in rows]
    blended = exported[0].index("Blended 1:1 (USD / 1M tokens)")
    values = [float(r[blended]) for r in exported[1:] if r[blended]]
    assert values == sorted(values, reverse=True)  # the on-screen sort, kept


def test_the_workload_ranking_exports_as_xlsx(web):
    url = "/compare/?model=llama-3-70b-instruct&input_mtok=1000&output_mtok=100&cached_pct=25"
    headers, rows = read_table(_html(web.get(url)), "workload")
    response = web.get(url + "&download=xlsx&table=workload")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert re.match(r'attachment; filename="tokenwatch-compare-llama-3-70b-instruct-workload-\d{4}-\d\d-\d\d\.xlsx"',
                    response["Content-Disposition"])
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    # The screen's columns, then "As of" and the workload's inputs (tests/dashboard/test_exports_about.py).
    assert list(values[0])[:len(headers) + 1] == [*headers, "As of (UTC date)"]
    assert len(values) - 1 == len(rows)
    monthly = headers.index("Monthly cost (USD / month)")
    assert [v[monthly] for v in values[1:]] == sorted(v[monthly] for v in values[1:])


def test_a_download_of_a_table_not_on_the_page_is_not_found(web):
    assert web.get("/compare/?download=csv&table=nope").status_code == 404
    assert web.get("/compare/?download=pdf&table=offerings").status_code == 404


def test_labelled_prices_are_listed_apart_never_ranked(web):
    _, rows = read_table(_html(web.get("/compare/?model=llama-3-70b-instruct")), "not-ranked")
    assert any("free" in " ".join(row) for row in rows)  # Ollama's llama3:70b at $0, labelled free


def test_benchmarks_show_the_seed_spreads_and_filter_llmperf_runs(web):
    html = _html(web.get("/benchmarks/"))
    assert "15.0×" in html and "19.4×" in html and "11.3×" in html
    _, all_runs = read_table(html, "llmperf")
    _, groq = read_table(_html(web.get("/benchmarks/?provider=groq")), "llmperf")
    assert len(groq) == 1 < len(all_runs)


def test_market_projects_to_the_year_asked(web):
    html = _html(web.get("/market/?project_to=2035&rate=stated"))
    _, rows = read_table(html, "projections")
    assert rows and all(row[1] == "2035" for row in rows)
    _, cagr = read_table(html, "cagr")
    flagged = [row for row in cagr if row[0] == "AI Inference Infrastructure"]
    assert flagged and "yes" in flagged[0]


def test_detail_pages_list_offerings_and_history_and_404_for_unknown_slugs(web):
    _, rows = read_table(_html(web.get("/providers/groq/")), "history")
    assert any("0.64" in row for row in rows) and any("0.59" in row for row in rows)  # the 2024 price cut
    assert web.get("/models/no-such-model/").status_code == 404
    assert web.get("/providers/no-such-provider/").status_code == 404


def test_sources_list_rejections_with_locator_and_reason_and_export_them_safely(web):
    from apps.sources.models import Rejection, Snapshot

    Rejection.objects.create(snapshot=Snapshot.objects.get(filename__startswith="model_prices_2024-04"),
                             locator="=cmd|' /C calc'!A0", reason="price is not a number", raw_excerpt='"abc"')
    html = _html(web.get("/sources/?reason=not+a+number"))
    headers, rows = read_table(html, "rejections")
    assert "Locator" in headers and "Reason" in headers
    assert rows[0][4] == "=cmd|' /C calc'!A0" and rows[0][5] == "price is not a number"
    exported = web.get("/sources/?reason=not+a+number&download=csv&table=rejections").content.decode("utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in exported
    _, sources = read_table(html, "sources")
    never = [row[1] for row in sources if row[3] == "never"]
    assert "openrouter" in never
    assert [row[1] for row in sources[:len(never)]] == never  # scheduled but never fetched: listed first
