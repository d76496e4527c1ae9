"""One answer per offering (issue 10): where a user compares, each offering is one row, its market price,
with a mark where the sources disagree and who says what a click (or a hover) away; ?per_source=1 shows
every source's row, as before. Seeded through the real ingest: LiteLLM's 2024 files and a second
LiteLLM-format source ("mirror") that disagrees on Replicate and agrees on DeepInfra (tests/dashboard/seed.py)."""

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook

from apps.catalog.size_classes import size_class_label

from .html_tables import as_exported, read_expansions, read_table
from .seed import load_disagreement

pytestmark = pytest.mark.django_db

LLAMA = "/compare/?model=llama-3-70b-instruct"
REPLICATE_MARK = "⚠ sources differ (+23.1 %)"  # input: (0.80 - 0.65) / 0.65 = 23.08 %


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    load_disagreement()
    return client


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _table(html: str, name: str) -> tuple[list[str], list[dict[str, str]]]:
    headers, rows = read_table(html, name)
    return headers, [dict(zip(headers, row, strict=True)) for row in rows]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _last_y(html: str, chart: str, trace: str) -> float:
    """The value a chart's line ends on (now)."""
    block = re.search(rf'<script type="application/json" id="fig-{chart}">(.*?)</script>', html, re.S)
    assert block, chart
    [line] = [t for t in json.loads(block.group(1))["data"] if t.get("name") == trace]
    return [y for y in line["y"] if y is not None][-1]


def test_compare_lists_each_offering_once_with_a_mark_where_sources_differ(web):
    html = _html(web.get(LLAMA))
    _, rows = _table(html, "offerings")
    providers = [r["Provider"] for r in rows]
    assert providers.count("Replicate") == 1 and providers.count("DeepInfra") == 1
    # LiteLLM names OpenRouter's offering twice (plain and :nitro): one word per source, one row.
    assert providers.count("OpenRouter") == 1
    keys = [(r["Provider"], r["Region"], r["Tier"]) for r in rows]
    assert len(keys) == len(set(keys))

    replicate = rows[providers.index("Replicate")]
    assert replicate["Sources agree"] == REPLICATE_MARK
    assert replicate["Chosen source"] == "mirror"  # the newest confirmation (2024-10-01 against 2024-09-22)
    assert (replicate["Input (USD / 1M tokens)"], replicate["Output (USD / 1M tokens)"]) == ("0.8", "3")
    assert replicate["Max gap (%)"] == "23.1"
    assert replicate["Other sources"] == "litellm: 0.65/2.75 (2024-09-22)"
    deepinfra = rows[providers.index("DeepInfra")]
    assert deepinfra["Sources agree"] == "✓ 2 sources agree" and deepinfra["Max gap (%)"] == "—"
    assert rows[providers.index("Groq")]["Sources agree"] == "✓ one source"

    # Who says what, one click away (<details>): each source, its values, its last confirmation, which was
    # chosen and why; and on hover (the summary's title).
    opened = read_expansions(html, "offerings")[providers.index("Replicate")]
    for text in ("mirror", "litellm", "0.8", "0.65", "2.75", "2024-10-01", "2024-09-22", "chosen",
                 "newest confirmation"):
        assert text in opened, text
    assert read_expansions(html, "offerings")[providers.index("Groq")] == ""  # nothing to open for one source
    assert ('title="Who says what: mirror 0.8/3 (last confirmed 2024-10-01; chosen: newest confirmation); '
            'litellm 0.65/2.75 (last confirmed 2024-09-22)"') in html
    # The toggle to the evidence, kept in the URL.
    assert "per_source=1" in html


def test_per_source_shows_every_source_row_and_keeps_the_toggle_in_the_downloads(web):
    html = _html(web.get(LLAMA + "&per_source=1"))
    headers, rows = _table(html, "offerings")
    providers = [r["Provider"] for r in rows]
    assert providers.count("Replicate") == 2 and providers.count("DeepInfra") == 2
    assert providers.count("OpenRouter") == 2
    assert sorted(r["Source"] for r in rows if r["Provider"] == "Replicate") == ["litellm", "mirror"]
    assert "Sources agree" not in headers and "Other sources" not in headers
    assert "per_source=1&amp;download=csv&amp;table=offerings" in html
    response = web.get(LLAMA + "&per_source=1&download=csv&table=offerings")
    assert "compare-llama-3-70b-instruct-per-source-" in response["Content-Disposition"]
    exported = _csv(response)
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(c) for c in row] for row in read_table(
        html, "offerings")[1]]
    # The workload ranks every source's row here, as before.
    _, ranked = _table(html, "workload")
    assert [r["Provider"] for r in ranked].count("Replicate") == 2


def test_the_export_carries_the_chosen_source_the_agreement_and_the_other_sources(web):
    url = LLAMA + "&sort=-blended_usd_per_mtok"
    html = _html(web.get(url))
    headers, rows = read_table(html, "offerings")
    exported = _csv(web.get(url + "&download=csv&table=offerings"))
    assert exported[0] == [*headers, "As of (UTC date)"]
    for header in ("Chosen source", "Sources agree", "Max gap (%)", "Other sources"):
        assert header in exported[0]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(c) for c in row] for row in rows]
    record = dict(zip(exported[0], next(r for r in exported[1:] if r[0] == "Replicate"), strict=True))
    assert (record["Chosen source"], record["Sources agree"], record["Max gap (%)"]) == ("mirror", "no", "23.1")
    assert record["Other sources"] == "litellm: 0.65/2.75 (2024-09-22)"
    groq = dict(zip(exported[0], next(r for r in exported[1:] if r[0] == "Groq"), strict=True))
    assert (groq["Sources agree"], groq["Max gap (%)"], groq["Other sources"]) == ("yes", "", "")

    sheet = load_workbook(io.BytesIO(web.get(url + "&download=xlsx&table=offerings").content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == exported[0] and len(values) == len(exported)
    row = dict(zip(values[0], next(v for v in values[1:] if v[0] == "Replicate"), strict=True))
    assert (row["Chosen source"], row["Sources agree"], float(row["Max gap (%)"])) == ("mirror", "no", 23.1)


def test_the_workload_calculator_ranks_market_prices_once_each(web):
    html = _html(web.get(LLAMA))
    headers, rows = _table(html, "workload")
    replicate = [r for r in rows if r["Provider"] == "Replicate"]
    # 300 M input x 0.80 + 100 M output x 3.00: the market price, not LiteLLM's older, cheaper copy (470).
    assert len(replicate) == 1 and replicate[0]["Monthly cost (USD / month)"] == "540"
    assert replicate[0]["Sources agree"] == REPLICATE_MARK
    offers = [(r["Provider"], r["Region"]) for r in rows]
    assert len(offers) == len(set(offers))
    exported = _csv(web.get(LLAMA + "&download=csv&table=workload"))
    # The screen's columns, then "As of" and the workload's inputs (tests/dashboard/test_exports_about.py).
    assert exported[0][:len(headers) + 1] == [*headers, "As of (UTC date)"]
    assert [row[:len(headers)] for row in exported[1:]] == [[as_exported(c) for c in row] for row in read_table(
        html, "workload")[1]]
    _, left_out = _table(html, "not-ranked")
    assert left_out and all("Sources agree" in r for r in left_out)


def test_as_of_shows_the_market_as_it_stood_then(web):
    _, before = _table(_html(web.get(LLAMA + "&as_of=2024-09-30")), "offerings")  # the mirror not seen yet
    [replicate] = [r for r in before if r["Provider"] == "Replicate"]
    assert (replicate["Chosen source"], replicate["Input (USD / 1M tokens)"], replicate["Sources agree"]) == (
        "litellm", "0.65", "✓ one source")
    _, after = _table(_html(web.get(LLAMA + "&as_of=2024-10-02")), "offerings")
    [replicate] = [r for r in after if r["Provider"] == "Replicate"]
    assert (replicate["Chosen source"], replicate["Sources agree"]) == ("mirror", REPLICATE_MARK)


def test_a_source_filter_computes_the_market_from_that_source_alone(web):
    html = _html(web.get(LLAMA + "&source=litellm"))
    _, rows = _table(html, "offerings")
    [replicate] = [r for r in rows if r["Provider"] == "Replicate"]
    assert (replicate["Chosen source"], replicate["Input (USD / 1M tokens)"]) == ("litellm", "0.65")
    assert "other sources have no say" in html


def test_the_model_page_lists_each_offering_once_and_its_chart_follows_the_market(web):
    html = _html(web.get("/models/llama-3-70b-instruct/"))
    _, rows = _table(html, "current")
    [replicate] = [r for r in rows if r["Provider"] == "Replicate"]
    assert replicate["Sources agree"] == REPLICATE_MARK and replicate["Chosen source"] == "mirror"
    assert _last_y(html, "history", "Replicate") == pytest.approx(1.35)  # (3 x 0.80 + 3.00) / 4
    per_source = _html(web.get("/models/llama-3-70b-instruct/?per_source=1"))
    assert [r["Provider"] for r in _table(per_source, "current")[1]].count("Replicate") == 2
    assert _last_y(per_source, "history", "Replicate") == pytest.approx(1.175)  # the lower source row


def test_the_provider_page_lists_each_model_once_and_its_chart_follows_the_market(web):
    from apps.catalog.models import Model

    name = Model.objects.get(slug="llama-3-70b-instruct").name
    html = _html(web.get("/providers/replicate/"))
    headers, rows = _table(html, "current")
    [llama] = [r for r in rows if r["Model"] == name]
    assert llama["Sources agree"] == REPLICATE_MARK
    assert _last_y(html, "history", name) == pytest.approx(1.35)
    exported = _csv(web.get("/providers/replicate/?download=csv&table=current"))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [row[:-1] for row in exported[1:]] == [[as_exported(c) for c in row] for row in read_table(
        html, "current")[1]]
    per_source = _html(web.get("/providers/replicate/?per_source=1"))
    assert [r["Model"] for r in _table(per_source, "current")[1]].count(name) == 2
    assert _last_y(per_source, "history", name) == pytest.approx(1.175)


def _cheapest(html: str) -> tuple[str, str]:
    found = re.search(r'Cheapest 70B-class open model.*?<p class="stat-value">([^<]+)</p>\s*'
                      r'<p class="stat-note">(.*?)</p>', html, re.S)
    assert found
    return found.group(1).strip(), found.group(2)


def test_the_overview_cheapest_per_class_is_a_market_price(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    # A stale copy: a second source, last seen before LiteLLM's newest file, prices DeepInfra's Llama 3 70B
    # at 0.01. The market takes LiteLLM's newer word; only the per-source view still shows the copy.
    load_disagreement({"deepinfra/meta-llama/Meta-Llama-3-70B-Instruct": {
        "litellm_provider": "deepinfra", "mode": "chat", "input_cost_per_token": 1e-08,
        "output_cost_per_token": 1e-08}}, observed="2024-09-01T00:00:00+00:00")
    value, note = _cheapest(_html(client.get("/?per_source=1")))
    assert float(value) == 0.01 and "mirror" in note
    html = _html(client.get("/"))
    value, note = _cheapest(html)
    assert float(value) > 0.01 and "mirror" not in note
    # Series are named by the class's readable label ("70B" for 70b-class).
    assert _last_y(html, "class-trend", size_class_label("70b-class")) == pytest.approx(float(value))
    assert "per_source=1" in html  # the toggle


def test_the_market_timeline_ends_on_the_stored_market_price(subset):
    """The charts' market line and the tables' market rows are one answer: where the timeline reaches now,
    it names the source price MarketPrice chose, for every offering that has a plain price to draw."""
    from django.utils import timezone

    from apps.dashboard import selectors as sel
    from apps.pricing.models import MarketPrice

    load_disagreement({"deepinfra/meta-llama/Meta-Llama-3-70B-Instruct": {
        "litellm_provider": "deepinfra", "mode": "chat", "input_cost_per_token": 1e-08,
        "output_cost_per_token": 1e-08}}, observed="2024-09-01T00:00:00+00:00")  # an older, disagreeing word
    frame = sel.market_chart_frame(sel.base_chat_prices(), "blended", (3, 1), until=timezone.now(),
                                   since=sel.history_start())
    now = frame[frame["effective_to"].isna()]
    assert now["price_id"].is_unique
    stored = MarketPrice.objects.filter(service_tier="standard", min_prompt_tokens=0, price_label="",
                                        input_usd_per_mtok__isnull=False, output_usd_per_mtok__isnull=False)
    drawn = {price for price, i, o in stored.values_list("price_id", "input_usd_per_mtok", "output_usd_per_mtok")
             if 3 * i + o > 0}  # what a blended chart draws: a plain positive price
    assert set(now["price_id"]) == drawn
    # The older copy is the market only while it is the sole word (LiteLLM lists DeepInfra from its 2024-09-23
    # file on); from then on LiteLLM's newer word, with the mark.
    deepinfra = frame[(frame["provider_slug"] == "deepinfra") & (frame["model_slug"] == "llama-3-70b-instruct")]
    stretches = [(source, str(start)[:10], str(end)[:10] if end is not None else None, value, note)
                 for source, start, end, value, note in deepinfra[["source", "effective_from", "effective_to",
                                                                   "usd_per_mtok", "market_note"]].itertuples(
                                                                       index=False)]
    assert stretches == [("mirror", "2024-09-01", "2024-09-22", 0.01, ""),
                         ("litellm", "2024-09-22", None, 0.64, "⚠ sources differ (+7800 %)")]
