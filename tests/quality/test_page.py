"""The data-quality page (/quality/): signed-in or demo only, every table on screen with the hand-made
market's figures, and every download exactly the table shown (CSV and XLSX)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from tests.dashboard.html_tables import as_exported, as_shown, read_table

pytestmark = pytest.mark.django_db

TABLES = ["agreement", "disagreements", "markups", "outliers", "unresolved", "stale", "held"]


@pytest.fixture
def web(quality_data, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_anonymous_visitors_sign_in_first_and_so_do_downloads(client, settings):
    settings.TOKENWATCH_PUBLIC_API = False
    for url in ("/quality/", "/quality/?download=csv&table=agreement"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=/quality/")
    settings.TOKENWATCH_PUBLIC_API = True
    assert client.get("/quality/").status_code == 200


def test_a_signed_in_analyst_sees_it_from_the_nav_and_the_sources_page(client, settings, django_user_model):
    settings.TOKENWATCH_PUBLIC_API = False
    client.force_login(django_user_model.objects.create_user("ana", password="pw-ana-123"))
    html = _html(client.get("/quality/"))
    assert '<a href="/quality/" aria-current="page">Quality</a>' in html
    assert 'href="/quality/" data-quality-link' in _html(client.get("/sources/"))


def test_every_table_shows_the_hand_computed_figures(web):
    html = _html(web.get("/quality/"))
    headers, rows = read_table(html, "agreement")
    assert headers == ["Source A", "Source B", "Pairs compared", "Disagreeing", "Share disagreeing (%)",
                       "Median gap (% of the lower price)"]
    assert rows == [["litellm", "mirror", "4", "2", "50", "75"]]

    headers, rows = read_table(html, "disagreements")
    column = {h: i for i, h in enumerate(headers)}
    assert [(r[column["Model"]], r[column["Source"]], r[column["Market price"]],
             r[column["Input (USD / 1M tokens)"]], r[column["Largest gap (% of the lower price)"]]) for r in rows] == [
        ("GPT-4o", "mirror", "yes", "5", "100"), ("GPT-4o", "litellm", "no", "2.5", "100"),
        ("Llama 3 70B Instruct", "mirror", "yes", "0.9", "50"), ("Llama 3 70B Instruct", "litellm", "no", "0.9", "50")]
    assert "Reasoning (USD / 1M tokens)" not in headers  # no source gives one: the column would say nothing

    headers, rows = read_table(html, "markups")
    column = {h: i for i, h in enumerate(headers)}
    assert [(r[column["Model"]], r[column["Creator's own API"]], r[column["Input markup (%)"]],
             r[column["Output markup (%)"]]) for r in rows] == [
        ("GPT-4o", "OpenAI", "-40", "0"), ("Qwen Max", "Alibaba Cloud (Qwen)", "25", "0"), ("o3", "OpenAI", "10", "10")]

    headers, rows = read_table(html, "outliers")
    column = {h: i for i, h in enumerate(headers)}
    assert [(r[column["Provider"]], r[column["Away (times)"]], r[column["Direction"]]) for r in rows] == [
        ("Novita AI", "19.1", "below"), ("DeepInfra", "15.6", "above")]

    _, rows = read_table(html, "unresolved")
    assert [r[:3] for r in rows] == [["foo", "12", "12"], ["kimi", "4", "3"], ["glm", "1", "1"]]

    headers, rows = read_table(html, "stale")
    litellm = next(r for r in rows if r[1] == "litellm")
    assert litellm[2] == "stale" and litellm[3] == "2026-11-01"
    assert {r[1] for r in rows}.isdisjoint({"mirror", "tiny", "llm-prices"})

    headers, rows = read_table(html, "held")
    [held] = rows
    assert held[0] == "tiny" and held[3] == "tiny-4.json" and held[-1].startswith("would end 11 of 12 current prices")


def test_staff_open_an_unresolved_family_in_the_admin(admin_client, web):
    html = _html(admin_client.get("/quality/"))
    assert '<a href="/admin/catalog/modelalias/?status__exact=unresolved&amp;q=kimi">kimi</a>' in html
    assert "/admin/catalog/modelalias/" not in _html(web.get("/quality/"))


def _xlsx_text(value: object, csv_text: str) -> bool:
    """Does an XLSX cell hold what the CSV cell says (typed: numbers as numbers, dates as dates)?"""
    if value is None:
        return csv_text == ""
    if isinstance(value, datetime):
        if csv_text.endswith("Z"):  # a point in time: the same instant, to the millisecond XLSX keeps
            exact = datetime.fromisoformat(csv_text.replace("Z", "+00:00")).replace(tzinfo=None)
            return abs((exact - value.replace(tzinfo=None)).total_seconds()) < 0.001
        return csv_text in (value.strftime("%Y-%m-%d"), value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, date):
        return csv_text == value.isoformat()
    if isinstance(value, (int, float)):
        return float(csv_text) == pytest.approx(value)
    return str(value) == csv_text


@pytest.mark.parametrize("name", TABLES)
def test_each_download_is_exactly_the_table_on_screen(web, name):
    headers, rows = read_table(_html(web.get("/quality/")), name)
    assert rows, f"the fixture leaves {name} empty"
    response = web.get(f"/quality/?download=csv&table={name}")
    assert response["Content-Disposition"].startswith(f'attachment; filename="tokenwatch-quality-{name}-')
    exported = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert exported[0] == [*headers, "As of (UTC date)"]
    assert [[as_shown(c) for c in row[:-1]] for row in exported[1:]] == [[as_exported(c) for c in row] for row in rows]
    assert {row[-1] for row in exported[1:]} == {datetime.now(UTC).date().isoformat()}

    response = web.get(f"/quality/?download=xlsx&table={name}")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert list(sheet[0]) == exported[0]
    assert len(sheet) == len(exported)
    for xlsx_row, csv_row in zip(sheet[1:], exported[1:], strict=True):
        assert all(_xlsx_text(v, c) for v, c in zip(xlsx_row, csv_row, strict=True)), (xlsx_row, csv_row)


def test_text_that_would_run_as_a_formula_is_escaped_in_both_downloads(web):
    from apps.catalog.models import ModelAlias
    from apps.sources.models import Source

    ModelAlias.objects.create(source=Source.objects.get(key="tiny"), raw_id="=HYPERLINK(1)")
    exported = web.get("/quality/?download=csv&table=unresolved").content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in exported
    sheet = load_workbook(io.BytesIO(web.get("/quality/?download=xlsx&table=unresolved").content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)


def test_a_download_of_a_table_not_on_the_page_is_not_found(web):
    assert web.get("/quality/?download=csv&table=nope").status_code == 404
    assert web.get("/quality/?download=pdf&table=agreement").status_code == 404
