"""Market prices in a real browser (issue 10): one row per offering, the mark where sources disagree, who says
what on hover and on a click, and the toggle to every source's row kept in the URL and the downloads."""

from __future__ import annotations

import csv
import re

import pytest

from tests.dashboard.html_tables import as_exported
from tests.dashboard.seed import load_disagreement

from .conftest import wait_for_charts

pytestmark = pytest.mark.browser

ROWS = "table[data-table='offerings'] > tbody > tr"


def _rows_of(page, provider: str):
    return page.locator(ROWS).filter(has=page.locator("th", has_text=re.compile(rf"^{provider}$")))


def test_the_mark_shows_who_says_what_on_hover_and_on_a_click(page, site):
    load_disagreement()
    page.goto(site + "/compare/?model=llama-3-70b-instruct")
    wait_for_charts(page)
    row = _rows_of(page, "Replicate")
    assert row.count() == 1
    summary = row.locator("details.evidence > summary")
    assert summary.inner_text().strip() == "⚠ sources differ (+23.1 %)"
    # Hover: the summary's tooltip names every source, its values and dates, and the chosen one.
    title = summary.get_attribute("title")
    assert "mirror 0.8/3 (last confirmed 2024-10-01; chosen: newest confirmation)" in title
    assert "litellm 0.65/2.75 (last confirmed 2024-09-22)" in title
    # Click: the row opens to a table of who says what.
    body = row.locator(".evidence-body")
    assert not body.is_visible()
    summary.click()
    assert body.is_visible()
    evidence = body.locator("table.evidence-table > tbody > tr")
    assert evidence.count() == 2
    chosen, other = evidence.nth(0).inner_text(), evidence.nth(1).inner_text()
    assert "mirror" in chosen and "chosen" in chosen and "0.8" in chosen and "2024-10-01" in chosen
    assert "Chosen: mirror, newest confirmation" in body.locator("caption").inner_text()
    assert "litellm" in other and "0.65" in other and "2.75" in other and "2024-09-22" in other
    assert evidence.nth(1).locator("td.differs").count() == 2  # input and output differ from the chosen
    # The chart marks the offering too, and its hover says what the other source says.
    labels = page.evaluate("document.getElementById('plot-bars').data[0].y")
    assert "Replicate ⚠" in labels
    hover = page.evaluate("document.getElementById('plot-bars').data[0].hovertext")[labels.index("Replicate ⚠")]
    assert "sources differ" in hover and "litellm: 0.65/2.75 (2024-09-22)" in hover
    assert page.console_errors == []


def test_the_toggle_shows_every_source_row_and_the_download_follows(page, site):
    load_disagreement()
    page.goto(site + "/compare/?model=llama-3-70b-instruct")
    wait_for_charts(page)
    assert _rows_of(page, "Replicate").count() == 1
    page.click("[data-per-source-toggle] a:has-text('Per source')")
    page.wait_for_url(re.compile(r"per_source=1"))
    wait_for_charts(page)
    assert _rows_of(page, "Replicate").count() == 2
    # The filters keep it: applying the form stays on the per-source view.
    page.fill("#ratio_in", "1")
    page.click("form#filters button[type=submit]")
    page.wait_for_url(re.compile(r"ratio_in=1"))
    assert "per_source=1" in page.url and _rows_of(page, "Replicate").count() == 2
    headers = page.eval_on_selector_all("table[data-table='offerings'] > thead > tr > th",
                                        "els => els.map(e => e.dataset.header)")
    rows = page.eval_on_selector_all(ROWS, "rows => rows.map(r => Array.from(r.children).map(c => c.innerText.trim()))")
    with page.expect_download() as download_info:
        page.click("[data-table-block='offerings'] a[data-download='csv']")
    download = download_info.value
    assert "per-source" in download.suggested_filename
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.reader(handle))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(cell) for cell in row] for row in rows]
    # And back to one row per offering.
    page.click("[data-per-source-toggle] a:has-text('One per offering')")
    page.wait_for_url(lambda url: "per_source" not in url)
    assert _rows_of(page, "Replicate").count() == 1


def test_market_csv_equals_the_screen_with_the_evidence_closed(page, site):
    load_disagreement()
    page.goto(site + "/compare/?model=llama-3-70b-instruct&sort=-blended_usd_per_mtok")
    wait_for_charts(page)
    headers = page.eval_on_selector_all("table[data-table='offerings'] > thead > tr > th",
                                        "els => els.map(e => e.dataset.header)")
    rows = page.eval_on_selector_all(ROWS, "rows => rows.map(r => Array.from(r.children).map(c => c.innerText.trim()))")
    with page.expect_download() as download_info:
        page.click("[data-table-block='offerings'] a[data-download='csv']")
    with open(download_info.value.path(), encoding="utf-8-sig", newline="") as handle:
        exported = list(csv.reader(handle))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(cell) for cell in row] for row in rows]
    replicate = dict(zip(exported[0], next(r for r in exported[1:] if r[0] == "Replicate"), strict=True))
    assert (replicate["Sources agree"], replicate["Other sources"]) == ("no", "litellm: 0.65/2.75 (2024-09-22)")
