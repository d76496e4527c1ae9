"""The currency picker on the Trends page: a history in EUR bends where the rate moved and the USD price did not."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.fx.conftest import ingest

pytestmark = pytest.mark.django_db
# prices (tests/api/conftest.py): gpt-4o input 5 USD from 2025-01-01, 2.5 from 2025-07-01.
URL = "/trends/?model=gpt-4o&provider=openai&component=input&scale=linear&lines=offering"


@pytest.fixture
def web(client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


@pytest.fixture
def moving_rate(db):
    # Every weekday from 2024-12-31 to Friday 2025-05-09, in USD per EUR: 1.25 until February, 1.00 from Monday
    # 2025-03-03 (EUR per USD 0.8 -> 1), 1.25 again from 05-05. Friday's rate is the newest held: later days
    # convert at it (the feed is behind, said on the page), it never runs out.
    days = [date(2024, 12, 31) + timedelta(days=n) for n in range(130)]
    lines = [f"{d},{'1.00' if date(2025, 3, 3) <= d < date(2025, 5, 5) else '1.25'},\n"
             for d in days if d.weekday() < 5 and d <= date(2025, 5, 9)]
    run = ingest(("Date,USD,\n" + "".join(reversed(lines))).encode(), at=datetime(2025, 5, 9, tzinfo=UTC))
    assert run.status == "ok", run.message


def figure(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="fig-trend">(.*?)</script>', html, re.S).group(1)
    return json.loads(block)


def line(fig: dict) -> list[tuple[str, float]]:
    (trace,) = [t for t in fig["data"] if t.get("mode") == "lines"]
    return [(x, y) for x, y in zip(trace["x"], trace["y"], strict=True) if x is not None]


def test_the_eur_history_steps_where_the_rate_moved(web, prices, moving_rate):
    usd = line(figure(web.get(URL).content.decode()))
    html = web.get(URL + "&currency=EUR").content.decode()
    eur = line(figure(html))
    # USD: 5 from 2025-01-01 to 07-01, one flat step, then 2.5.
    assert [(x[:10], y) for x, y in usd][:2] == [("2025-01-01", 5.0), ("2025-07-01", 5.0)]
    # EUR: 5 x 0.8 = 4 until the rate moves on 03-03, 5 x 1 = 5 until 05-05, 4 again after, and 2.5 x 0.8 = 2
    # from 07-01 at the newest rate held (Friday 05-09's).
    assert [(x[:10], y) for x, y in eur][:8] == [
        ("2025-01-01", 4.0), ("2025-03-03", 4.0), ("2025-03-03", 5.0), ("2025-05-05", 5.0), ("2025-05-05", 4.0),
        ("2025-07-01", 4.0), ("2025-07-01", 2.0), (usd[3][0][:10], 2.0)]
    assert "EUR per 1M input tokens" in html and 'value="EUR" selected' in html
    assert "had no EUR rate" not in html
    assert "The newest ECB rates held are of 2025-05-09" in html  # the feed's age is shown, not refused
    assert "$" not in json.dumps(figure(html))  # no dollar sign on a euro axis or in its hover texts


def test_the_download_keeps_the_currency_and_says_the_unit(web, prices, moving_rate):
    response = web.get(URL + "&currency=EUR&download=csv&table=steps")
    assert response.status_code == 200, response.content[:200]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()
                                           if response.streaming else response.content.decode())))
    assert {"Price (EUR / 1M tokens)", "Rate date (ECB publication)", "Rate (EUR per USD)"} <= set(rows[0])
    assert [(r["From (UTC)"], r["Price (EUR / 1M tokens)"], r["Rate (EUR per USD)"]) for r in rows[:3]] == [
        ("2025-01-01", "4", "0.8"), ("2025-03-03", "5", "1"), ("2025-05-05", "4", "0.8")]


def test_an_unknown_currency_is_named_and_the_page_stays_in_usd(web, prices, moving_rate):
    html = web.get(URL + "&currency=XYZ").content.decode()
    assert "Unknown currency &#x27;XYZ&#x27;; valid codes: EUR, USD." in html
    assert line(figure(html))[0][1] == 5.0
