"""Issue 13: exports that explain themselves.

Every XLSX has an "About" sheet (what the table is, the query that produced it, as-of and export time, the
tokenwatch version, the page URL, each source's name, URL and licence, the unit of every column); sheet
names are short and never cut mid-word; the workload calculator's CSV and XLSX carry the model and the
workload on every row, so two downloads stacked with pandas can still be told apart.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook

from apps.common.timestamps import TIMESTAMP_RE
from apps.dashboard.exports import SHEET_NAME_MAX, sheet_name, source_keys, xlsx_bytes
from apps.dashboard.tables import Column, Table

from .html_tables import as_exported, read_table

LLAMA = "/compare/?model=llama-3-70b-instruct"


# --- sheet names (pure) ----------------------------------------------------------------------------------


@pytest.mark.parametrize("label, expected", [
    ("Offerings", "Offerings"),
    ("Workload", "Workload"),
    ("Not ranked", "Not ranked"),
    # The reported one: 31 characters of this title end in "I" (of "Instruct").
    ("Every offering of Llama 3 70B Instruct", "Every offering of Llama 3 70B"),
    ("Prices: input/output [USD]?*", "Prices input output USD"),
    ("'quoted'", "quoted"),  # Excel refuses a name that starts or ends with an apostrophe
    ("History", "History table"),  # Excel keeps "History" for itself
    ("", "Data"),
    ("   ", "Data"),
    ("x" * 40, "Data"),  # one word longer than a sheet name: never cut, a plain name instead
])
def test_it_makes_a_short_sheet_name_never_cut_mid_word(label, expected):
    name = sheet_name(label)
    assert name == expected
    assert len(name) <= SHEET_NAME_MAX
    assert not re.search(r"[\[\]:*?/\\]", name)


def test_it_keeps_sheet_names_unique_ignoring_case_and_within_31_characters():
    assert sheet_name("About", taken=["about"]) == "About 2"
    assert sheet_name("About", taken=["About", "About 2"]) == "About 3"
    long = "Every offering of Llama 3 70B Instruct"
    taken = [sheet_name(long)]
    second = sheet_name(long, taken=taken)
    assert second.lower() not in {t.lower() for t in taken}
    assert len(second) <= SHEET_NAME_MAX and second.endswith(" 2")
    assert second == "Every offering of Llama 3 70B 2"  # whole words, then the number
    # When the number does not fit after the words, a word goes, never half of one.
    assert sheet_name(long, taken=[sheet_name(long), "Every offering of Llama 3 70B 2"]) == (
        "Every offering of Llama 3 70B 3")
    assert sheet_name("Every offering of Llama 3.1 70B", taken=["Every offering of Llama 3.1 70B"]) == (
        "Every offering of Llama 3.1 2")


# --- the About sheet -------------------------------------------------------------------------------------


def _table() -> Table:
    columns = [Column("provider", "Provider"), Column("usd", "Input", unit="USD / 1M tokens", kind="money"),
               Column("source", "Source")]
    frame = pd.DataFrame({"provider": ["Groq", "DeepInfra"], "usd": [Decimal("0.59"), Decimal("0.35")],
                          "source": ["litellm", "openrouter"]})
    return Table("offerings", "Every offering of Llama 3 70B Instruct", columns, frame,
                 stem="compare-llama-3-70b", as_of=date(2026, 11, 26), caption="One row per offering.")


def _about(workbook) -> dict[str, object]:
    """The About sheet's key/value rows (first cell -> second cell) above its list of columns."""
    rows = list(workbook["About"].iter_rows(values_only=True))
    end = next(i for i, row in enumerate(rows) if row[0] == "Column")
    return {row[0]: row[1] for row in rows[:end] if row and row[0]}


def test_the_xlsx_data_sheet_has_a_short_name_and_an_about_sheet_follows():
    workbook = load_workbook(io.BytesIO(xlsx_bytes(_table())))
    assert workbook.sheetnames == ["Offerings", "About"]
    assert workbook.active.title == "Offerings"  # the data stays the first sheet


def test_it_finds_the_source_keys_in_a_table():
    assert source_keys(_table()) == ["litellm", "openrouter"]


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.django_db
def test_the_about_sheet_says_what_where_when_and_from_whom(web):
    url = LLAMA + "&provider_kind=inference-cloud&sort=-blended_usd_per_mtok"
    response = web.get(url + "&download=xlsx&table=offerings")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Offerings", "About"]
    about = _about(workbook)
    assert about["Table"] == "Every offering of Llama 3 70B Instruct"
    assert about["Page"] == "Compare"
    assert about["Page URL"].startswith("http://testserver/compare/?model=llama-3-70b-instruct")
    assert "download=" not in about["Page URL"] and "provider_kind=inference-cloud" in about["Page URL"]
    assert isinstance(about["Prices as of (UTC date)"], datetime)  # a real date cell
    assert workbook["About"]["B6"].number_format == "yyyy-mm-dd"
    assert TIMESTAMP_RE.match(about["Exported at (UTC)"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", about["tokenwatch version"])
    assert about["Rows"] == len(list(workbook["Offerings"].iter_rows())) - 1
    rows = _rows(workbook["About"])
    # The query, one key/value row each.
    assert ("model", "llama-3-70b-instruct") in [r[:2] for r in rows]
    assert ("provider_kind", "inference-cloud") in [r[:2] for r in rows]
    # Text a spreadsheet could run as a formula is escaped here as on the data sheet (one rule for every export).
    assert ("sort", "'-blended_usd_per_mtok") in [r[:2] for r in rows]
    # One row per source in the table: key, name, URL, licence.
    start = next(i for i, r in enumerate(rows) if r[0] == "Source key")
    assert rows[start][:4] == ("Source key", "Name", "URL", "Licence")
    litellm = next(r for r in rows[start + 1:] if r[0] == "litellm")
    assert litellm[1:4] == ("LiteLLM model cost map",
                            "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json",
                            "MIT")
    # The unit of every column on the data sheet.
    start = next(i for i, r in enumerate(rows) if r[0] == "Column")
    units = {r[0]: r[1] for r in rows[start + 1:] if r[0]}
    headers = next(workbook["Offerings"].iter_rows(values_only=True))
    assert set(headers) <= set(units)
    assert units["Input (USD / 1M tokens)"] == "USD / 1M tokens"
    assert units["As of (UTC date)"] == "UTC date"


@pytest.mark.django_db
def test_a_source_without_a_fetch_url_names_its_homepage(web):
    from apps.sources.models import Source

    for key in ("llm-prices", "llmperf"):
        source = Source.objects.get(key=key)
        assert source.homepage.startswith("https://github.com/"), key
        assert source.licence, key


@pytest.mark.django_db
def test_every_dashboard_xlsx_has_an_about_sheet(web):
    for url, table in [("/sources/", "sources"), ("/benchmarks/", "llmperf"), ("/market/", "sizes"),
                       ("/models/llama-3-70b-instruct/", "history")]:
        response = web.get(f"{url}?download=xlsx&table={table}")
        assert response.status_code == 200, url
        workbook = load_workbook(io.BytesIO(response.content))
        assert workbook.sheetnames[-1] == "About", url
        assert all(len(n) <= SHEET_NAME_MAX for n in workbook.sheetnames)
        assert "History" not in workbook.sheetnames  # Excel refuses it
        assert _about(workbook)["Page URL"].startswith(f"http://testserver{url}")


# --- the workload calculator's downloads ---------------------------------------------------------------

WORKLOAD_CONTEXT = ["Model", "Model id", "Input tokens per month (millions)", "Output tokens per month (millions)",
                    "Cached share of input (%)", "Batch", "Prices", "Filters", "Sources"]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_the_workload_csv_names_the_model_and_workload_on_every_row(web):
    url = LLAMA + "&input_mtok=1000&output_mtok=100&cached_pct=25&batch=on"
    headers, rows = read_table(web.get(url).content.decode(), "workload")
    exported = _csv(web.get(url + "&download=csv&table=workload"))
    assert exported[0] == [*headers, "As of (UTC date)", *WORKLOAD_CONTEXT]
    # The screen's columns are still exactly the screen.
    assert [row[:len(headers)] for row in exported[1:]] == [[as_exported(c) for c in row] for row in rows]
    context = {tuple(row[len(headers) + 1:]) for row in exported[1:]}
    assert len(context) == 1
    [(model, slug, input_mtok, output_mtok, cached, batch, prices, filters, sources)] = context
    assert (model, slug, input_mtok, output_mtok, cached, batch) == (
        "Llama 3 70B Instruct", "llama-3-70b-instruct", "1000", "100", "25", "yes")
    assert prices == "market price per offering" and filters == ""
    assert "litellm" in sources.split(" ")


@pytest.mark.django_db
def test_the_workload_xlsx_has_the_same_columns_typed_and_an_about_sheet(web):
    url = LLAMA + "&input_mtok=1000&output_mtok=100&cached_pct=25"
    exported = _csv(web.get(url + "&download=csv&table=workload"))
    workbook = load_workbook(io.BytesIO(web.get(url + "&download=xlsx&table=workload").content))
    assert workbook.sheetnames == ["Workload", "About"]
    values = list(workbook["Workload"].iter_rows(values_only=True))
    assert list(values[0]) == exported[0]
    row = dict(zip(values[0], values[1], strict=True))
    assert row["Input tokens per month (millions)"] == 1000 and row["Cached share of input (%)"] == 25
    assert row["Batch"] == "no" and row["Model id"] == "llama-3-70b-instruct"
    about = _about(workbook)
    assert about["Table"] == "Monthly cost of your workload"
    assert about["Input tokens per month (millions)"] == 1000


@pytest.mark.django_db
def test_two_workload_csvs_stacked_with_pandas_stay_apart(web):
    small = web.get(LLAMA + "&input_mtok=10&output_mtok=1&download=csv&table=workload")
    big = web.get("/compare/?model=gpt-4-turbo&input_mtok=1000&output_mtok=500&cached_pct=50&batch=on"
                  "&download=csv&table=workload")
    frames = [pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig") for r in (small, big)]
    assert all(len(f) for f in frames)
    stacked = pd.concat(frames, ignore_index=True)
    assert list(stacked.columns) == list(frames[0].columns)  # same columns: they stack
    groups = stacked.groupby(["Model id", "Input tokens per month (millions)", "Output tokens per month (millions)",
                              "Cached share of input (%)", "Batch"]).size()
    assert groups.to_dict() == {
        ("gpt-4-turbo", 1000, 500, 50, "yes"): len(frames[1]),
        ("llama-3-70b-instruct", 10, 1, 0, "no"): len(frames[0]),
    }


@pytest.mark.django_db
def test_the_not_ranked_download_names_its_workload_too(web):
    exported = _csv(web.get(LLAMA + "&input_mtok=7&download=csv&table=not-ranked"))
    header = exported[0]
    assert header[-len(WORKLOAD_CONTEXT):] == WORKLOAD_CONTEXT
    assert {row[header.index("Input tokens per month (millions)")] for row in exported[1:]} == {"7"}
