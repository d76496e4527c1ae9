"""The dashboard in a real browser: pages load clean and draw, filters drive the URL and the chart,
downloads equal the screen, focus is visible, phones do not scroll sideways."""

from __future__ import annotations

import csv
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.dashboard.html_tables import as_exported

from .conftest import wait_for_charts

pytestmark = pytest.mark.browser

PAGES = [
    ("/", 1),
    ("/trends/", 1),
    ("/compare/", 2),
    ("/benchmarks/", 4),
    ("/market/", 4),
    ("/sources/", 0),
    ("/models/", 0),
    ("/providers/", 0),
    ("/models/llama-3-70b-instruct/", 1),
    ("/providers/groq/", 1),
]


def _trace_names(page, plot: str) -> list[str]:
    return page.evaluate(f"document.getElementById('{plot}').data.map(t => t.name).filter(Boolean)")


def test_every_page_loads_without_console_errors_and_draws_its_charts(page, site):
    for url, charts in PAGES:
        page.console_errors.clear()
        page.goto(site + url)
        assert wait_for_charts(page) >= charts, url
        # Plotly drew an SVG into every chart container.
        assert page.locator(".plot svg.main-svg").count() >= charts, url
        assert page.console_errors == [], (url, page.console_errors)
        assert page.locator("h1").count() == 1, url


def test_changing_a_filter_changes_the_chart_and_the_url(page, site):
    page.goto(site + "/trends/")
    wait_for_charts(page)
    before = _trace_names(page, "plot-trend")
    assert "Groq" in before  # the starting selection: Llama 3 70B Instruct, cheapest per provider
    page.select_option("#model", ["gpt-4-turbo"])
    page.select_option("#scale", "linear")
    page.click("form[data-filters] button[type=submit]")
    page.wait_for_url(re.compile(r"model=gpt-4-turbo"))
    wait_for_charts(page)
    after = _trace_names(page, "plot-trend")
    assert after and after != before and "Groq" not in after
    query = parse_qs(urlparse(page.url).query)
    assert query["model"] == ["gpt-4-turbo"] and query["scale"] == ["linear"]
    assert all(values != [""] for values in query.values())  # unset filters stay out of the URL
    assert page.evaluate("document.getElementById('plot-trend').layout.yaxis.type") == "linear"
    page.reload()  # the URL alone reproduces the view
    wait_for_charts(page)
    assert _trace_names(page, "plot-trend") == after


def test_hover_names_the_unit_and_the_source(page, site):
    page.goto(site + "/trends/?model=llama-3-70b-instruct&lines=provider")
    wait_for_charts(page)
    page.evaluate("Plotly.Fx.hover('plot-trend', [{curveNumber: 0, pointNumber: 0}])")
    hover = page.locator("#plot-trend .hovertext").first.text_content()
    # Provenance: the source and when a document last stated the price (not when it was first seen).
    assert "USD per 1M tokens" in hover and "source:" in hover and "last confirmed 20" in hover


def _screen_table(page, name: str) -> tuple[list[str], list[list[str]]]:
    # Direct children only: an expandable cell (who says what) holds a small table of its own.
    headers = page.eval_on_selector_all(f"table[data-table='{name}'] > thead > tr > th",
                                        "els => els.map(e => e.dataset.header)")
    rows = page.eval_on_selector_all(
        f"table[data-table='{name}'] > tbody > tr",
        "rows => rows.map(r => Array.from(r.children).map(c => c.innerText.trim()))")
    return headers, rows


def test_a_csv_download_equals_the_table_on_screen(page, site):
    page.goto(site + "/compare/?model=llama-3-70b-instruct")
    wait_for_charts(page)
    # Sort by the blended price, highest first, from the column header (two clicks).
    page.click("table[data-table='offerings'] thead th[data-header^='Blended'] a")
    page.click("table[data-table='offerings'] thead th[data-header^='Blended'] a")
    page.wait_for_url(re.compile(r"sort=-blended"))
    headers, rows = _screen_table(page, "offerings")
    assert len(rows) > 5
    with page.expect_download() as download_info:
        page.click("[data-table-block='offerings'] a[data-download='csv']")
    download = download_info.value
    assert re.fullmatch(r"tokenwatch-compare-llama-3-70b-instruct-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.reader(handle))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(cell) for cell in row] for row in rows]


def test_the_workload_calculator_reranks_and_keeps_the_other_filters(page, site):
    page.goto(site + "/compare/?model=llama-3-70b-instruct&ratio_in=1&ratio_out=1")
    page.fill("#input_mtok", "10")
    page.fill("#output_mtok", "1000")
    page.click("#calc-h ~ .calc-fields button[type=submit]")
    page.wait_for_url(re.compile(r"output_mtok=1000"))
    assert "ratio_in=1" in page.url
    _, rows = _screen_table(page, "workload")
    monthly = [float(as_exported(row[4])) for row in rows]
    assert monthly == sorted(monthly)


def test_keyboard_focus_is_visible(page, site):
    page.goto(site + "/")
    page.keyboard.press("Tab")
    skip = page.evaluate("document.activeElement.textContent")
    assert skip == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle + ' ' + "
                            "getComputedStyle(document.activeElement).outlineWidth")
    assert outline.startswith("solid") and float(outline.split()[1].rstrip("px")) >= 2


def test_pages_fit_a_phone_without_scrolling_sideways(browser, site):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        for url, _ in PAGES:
            page.goto(site + url)
            wait_for_charts(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (url, width)
    finally:
        context.close()


def test_every_form_control_has_a_label(page, site):
    for url in ("/", "/trends/", "/compare/", "/benchmarks/", "/market/", "/sources/"):
        page.goto(site + url)
        unlabelled = page.evaluate("""
            Array.from(document.querySelectorAll('main input:not([type=hidden]), main select'))
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name || el.id)""")
        assert unlabelled == [], (url, unlabelled)
