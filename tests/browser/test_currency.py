"""The currency picker in headless Chromium: choosing EUR on Price trends keeps it in the URL, redraws the
history in EUR, and the table's download carries it and says the unit."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest

from tests.browser.conftest import wait_for_charts
from tests.fx.conftest import ingest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rates(site) -> str:
    """A USD rate for every weekday since 2023 (1.05 to 1.09, moving each month) and up to today."""
    today, day, lines = date.today(), date(2023, 1, 2), []
    while day <= today:
        if day.weekday() < 5:
            lines.append(f"{day},1.0{5 + day.month % 5},\n")
        day += timedelta(days=1)
    run = ingest(("Date,USD,\n" + "".join(reversed(lines))).encode())
    assert run.status == "ok", run.message
    return site


def test_the_picker_redraws_in_eur_and_the_download_keeps_it(page, rates):
    page.goto(f"{rates}/trends/?model=llama-3-70b-instruct&component=input")
    assert wait_for_charts(page) == 1
    assert "USD per 1M input tokens" in page.locator("#plot-trend").inner_text()
    page.select_option("#currency", "EUR")
    page.click("form[data-filters] button[type=submit]")
    page.wait_for_url("**currency=EUR**")
    assert wait_for_charts(page) == 1
    drawn = page.locator("#plot-trend").inner_text()
    assert "EUR per 1M input tokens" in drawn and "$" not in drawn
    assert page.locator("#currency").input_value() == "EUR"
    link = page.locator("[data-download=csv]").first
    assert "currency=EUR" in (link.get_attribute("href") or "")
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert "Price (EUR / 1M tokens)" in header and "Rate (EUR per USD)" in header
    assert page.console_errors == []


def test_the_picker_on_compare_converts_the_table_and_the_calculator(page, rates):
    page.goto(f"{rates}/compare/?model=llama-3-70b-instruct")
    wait_for_charts(page)
    usd_header = page.locator("table[data-table=offerings] thead").inner_text()
    assert "USD / 1M tokens" in usd_header
    page.select_option("#currency", "EUR")
    page.click("form#filters button[type=submit]")
    page.wait_for_url("**currency=EUR**")
    wait_for_charts(page)
    assert "EUR / 1M tokens" in page.locator("table[data-table=offerings] thead").inner_text()
    assert "EUR / month" in page.locator("table[data-table=workload] thead").inner_text()
    assert "EUR per USD, the ECB reference rate of" in page.locator("body").inner_text()
    assert "$" not in page.locator("#plot-bars").inner_text()
    assert page.locator("#currency").input_value() == "EUR"
    link = page.locator("[data-download=csv]").first
    assert "currency=EUR" in (link.get_attribute("href") or "")
    with page.expect_download() as download:
        link.click()
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert "Input (EUR / 1M tokens)" in header
    assert page.console_errors == []
