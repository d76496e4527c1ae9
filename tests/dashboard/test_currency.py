"""The currency picker on Compare, Choose a provider and the model and provider pages: one rate for the page
(its day: as_of or today), money columns = USD x rate exactly, units and the rate named in headers, captions
and downloads; an unknown code is named and the page stays in USD."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.api.conftest import prices  # noqa: F401 (the two LiteLLM snapshots)
from tests.dashboard.html_tables import read_table
from tests.fx.conftest import ingest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("prices")]
# prices (tests/api/conftest.py): gpt-4o at openai 2.5 in / 10 out now, 5 / 15 until 2025-07-01; azure 5.5 / 16.5.
COMPARE = "/compare/?model=gpt-4o&input_mtok=10&output_mtok=2&cached_pct=0"


@pytest.fixture
def web(client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


@pytest.fixture
def rates(db):
    """1.25 USD per EUR (0.8 EUR per USD) on every weekday of the last two weeks; 1.10 on Friday 2025-06-27."""
    today = timezone.now().date()
    days = [today - timedelta(days=n) for n in range(14) if (today - timedelta(days=n)).weekday() < 5]
    lines = [f"{day.isoformat()},1.25,\n" for day in days] + ["2025-06-27,1.1000,\n"]
    run = ingest(("Date,USD,\n" + "".join(lines)).encode())
    assert run.status == "ok", run.message
    return max(days)


def numbers(rows: list[list[str]], headers: list[str], header: str) -> list[Decimal | None]:
    at = headers.index(header)
    return [None if row[at] in ("—", "") else Decimal(row[at].replace(",", "")) for row in rows]


def figures(html: str) -> list[str]:
    return re.findall(r'<script type="application/json" id="fig-[^"]+">(.*?)</script>', html, re.S)


def test_it_shows_compare_in_eur_as_usd_times_the_rate(web, rates):
    usd_html = web.get(COMPARE).content.decode()
    html = web.get(COMPARE + "&currency=EUR").content.decode()
    usd_headers, usd_rows = read_table(usd_html, "offerings")
    headers, rows = read_table(html, "offerings")
    assert "Input (USD / 1M tokens)" in usd_headers and "Input (EUR / 1M tokens)" in headers
    for usd_name, eur_name in (("Input (USD / 1M tokens)", "Input (EUR / 1M tokens)"),
                               ("Blended 3:1 (USD / 1M tokens)", "Blended 3:1 (EUR / 1M tokens)")):
        usd, eur = numbers(usd_rows, usd_headers, usd_name), numbers(rows, headers, eur_name)
        assert any(usd) and eur == [None if v is None else v * Decimal("0.8") for v in usd]
    # openai: 2.5 in x 0.8 = 2; blended (3 x 2.5 + 10) / 4 = 4.375 USD = 3.5 EUR.
    assert "2" in [r[headers.index("Input (EUR / 1M tokens)")] for r in rows]
    work_headers, work_rows = read_table(html, "workload")
    usd_work_headers, usd_work_rows = read_table(usd_html, "workload")
    assert numbers(work_rows, work_headers, "Monthly cost (EUR / month)") == [
        v * Decimal("0.8") for v in numbers(usd_work_rows, usd_work_headers, "Monthly cost (USD / month)")]
    assert f"USD × 0.8 EUR per USD, the ECB reference rate of {rates.isoformat()}" in html
    assert 'value="EUR" selected' in html
    charts = figures(html)
    assert charts and all("$" not in chart for chart in charts)  # bars, speed, monthly cost: no dollar sign
    assert any("EUR per month" in chart for chart in charts)


def test_a_compare_download_keeps_the_currency_and_names_the_rate(web, rates):
    response = web.get(COMPARE + "&currency=EUR&download=csv&table=workload")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    usd = list(csv.DictReader(io.StringIO(web.get(COMPARE + "&download=csv&table=workload").content
                                          .decode("utf-8-sig"))))
    assert [Decimal(r["Monthly cost (EUR / month)"]) for r in rows] == [
        Decimal(r["Monthly cost (USD / month)"]) * Decimal("0.8") for r in usd]
    assert "Input (EUR / 1M tokens)" in rows[0]
    book = load_workbook(io.BytesIO(web.get(COMPARE + "&currency=EUR&download=xlsx&table=offerings").content))
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert f"0.8 EUR per USD, the ECB reference rate of {rates.isoformat()}" in about["Description"]
    assert ("currency", "EUR") in [tuple(r[:2]) for r in book["About"].iter_rows(values_only=True) if r]


def test_compare_as_of_converts_at_that_days_rate(web, rates):
    # As of Sunday 2025-06-29: Friday's rate, 1 / 1.1 = 0.9090909091 EUR per USD; openai's input then was 5:
    # 4.5454545455 EUR exactly, shown to 6 places; azure's 5.5 is 5.00000000005, shown as 5.
    html = web.get(COMPARE + "&as_of=2025-06-29&currency=EUR").content.decode()
    headers, rows = read_table(html, "offerings")
    assert numbers(rows, headers, "Input (EUR / 1M tokens)") == [Decimal("5"), Decimal("2.272727"),
                                                                Decimal("4.545455")]
    assert "the ECB reference rate of 2025-06-27" in html


def test_an_unknown_currency_is_named_and_compare_stays_in_usd(web, rates):
    html = web.get(COMPARE + "&currency=XYZ").content.decode()
    assert "Unknown currency &#x27;XYZ&#x27;; valid codes: EUR, USD. Prices are shown in USD." in html
    headers, _ = read_table(html, "offerings")
    assert "Input (USD / 1M tokens)" in headers
    # A day without a rate is named too, and the page stays in USD.
    html = web.get(COMPARE + "&as_of=2025-03-01&currency=EUR").content.decode()
    assert "Cannot convert to EUR on 2025-03-01" in html and "Prices are shown in USD." in html
    assert "Input (USD / 1M tokens)" in read_table(html, "offerings")[0]


def test_a_feed_behind_is_used_and_its_age_named(web):
    old = timezone.now().date() - timedelta(days=20)
    assert ingest(f"Date,USD,\n{old.isoformat()},1.25,\n".encode()).status == "ok"
    html = web.get(COMPARE + "&currency=EUR").content.decode()
    assert "Input (EUR / 1M tokens)" in read_table(html, "offerings")[0]
    assert f"The EUR rate used is 20 days old: the newest ECB publication held is of {old.isoformat()}" in html


def test_advice_in_eur(web, rates):
    url = "/advice/?model=gpt-4o&input_mtok=10&output_mtok=2"
    usd_headers, usd_rows = read_table(web.get(url).content.decode(), "ranked")
    html = web.get(url + "&currency=EUR").content.decode()
    headers, rows = read_table(html, "ranked")
    usd = numbers(usd_rows, usd_headers, "Monthly cost (USD / month)")
    assert usd and numbers(rows, headers, "Monthly cost (EUR / month)") == [v * Decimal("0.8") for v in usd]
    # openai: 10 x 2.5 + 2 x 10 = 45 USD a month = 36 EUR.
    assert '<strong class="num">36.00 EUR</strong> a month' in html
    assert all("$" not in chart for chart in figures(html))
    rows = list(csv.DictReader(io.StringIO(web.get(url + "&currency=EUR&download=csv&table=ranked")
                                           .content.decode("utf-8-sig"))))
    assert rows[0]["Monthly cost (EUR / month)"] == "36"


@pytest.mark.parametrize("url", ["/models/gpt-4o/", "/providers/openai/"])
def test_the_model_and_provider_pages_offer_their_current_prices_in_eur(web, rates, url):
    usd_headers, usd_rows = read_table(web.get(url).content.decode(), "current")
    html = web.get(url + "?currency=EUR").content.decode()
    headers, rows = read_table(html, "current")
    usd = numbers(usd_rows, usd_headers, "Input (USD / 1M tokens)")
    assert any(usd) and numbers(rows, headers, "Input (EUR / 1M tokens)") == [
        None if v is None else v * Decimal("0.8") for v in usd]
    assert 'value="EUR" selected' in html and "the ECB reference rate of" in html
    for chart in figures(html):
        assert "$" not in chart and "USD" not in json.loads(chart)["layout"]["yaxis"]["title"]["text"]
    download = web.get(url + "?currency=EUR&download=csv&table=current").content.decode("utf-8-sig")
    assert "Input (EUR / 1M tokens)" in next(csv.reader(io.StringIO(download)))
