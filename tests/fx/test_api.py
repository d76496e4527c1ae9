"""?currency= on /api/v1/prices/, current prices, market prices, compare and advice, in JSON and CSV.

Rates (hand-made, ECB history layout): 2024-12-31 1.04 USD per EUR, 2025-06-27 (a Friday) 1.10, 2025-06-30
1.00, and 1.25 on every weekday of the last two weeks (so "today" has a rate whenever the suite runs):
EUR per USD = 0.9615384615, 0.9090909091, 1 and 0.8.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.pricing.api.views import PriceViewSet
from tests.api.conftest import all_pages, csv_rows
from tests.fx.conftest import ingest

pytestmark = pytest.mark.django_db
URL = "/api/v1/prices/"
GPT4O = "provider=openai&source_model_id=gpt-4o&service_tier=standard"
ADDED = {"currency", "fx_rate_date", "fx_eur_per_usd", "input_eur_per_mtok", "output_eur_per_mtok",
         "cached_input_eur_per_mtok", "cache_write_eur_per_mtok", "reasoning_eur_per_mtok"}


def recent_weekdays() -> list:
    today = timezone.now().date()
    return [today - timedelta(days=n) for n in range(14) if (today - timedelta(days=n)).weekday() < 5]


@pytest.fixture
def rates(db):
    lines = [f"{day.isoformat()},1.25,140.00,\n" for day in recent_weekdays()]
    lines += ["2025-06-30,1.0000,160.00,\n", "2025-06-27,1.1000,160.00,\n", "2024-12-31,1.0400,160.00,\n"]
    run = ingest(("Date,USD,JPY,\n" + "".join(lines)).encode())
    assert run.status == "ok", run.message
    ingest(b"Date,USD,RUB,\n2022-03-01,1.1000,120.00,\n")


def gpt4o(client, extra: str = "") -> list[dict]:
    return sorted(all_pages(client, f"{URL}?{GPT4O}{extra}"), key=lambda r: r["effective_from"])


def test_each_price_row_converts_at_the_rate_of_its_last_day_in_force(client_user, prices, rates):
    usd = gpt4o(client_user)
    old, current = gpt4o(client_user, "&currency=eur")
    # The USD columns are untouched; the added ones come after them.
    assert {k: v for k, v in old.items() if k not in ADDED} == usd[0]
    assert list(old)[-len(ADDED):] == ["currency", "fx_rate_date", "fx_eur_per_usd", "input_eur_per_mtok",
                                       "output_eur_per_mtok", "cached_input_eur_per_mtok",
                                       "cache_write_eur_per_mtok", "reasoning_eur_per_mtok"]
    # In force until 2025-07-01 (exclusive): its last day is Monday 2025-06-30, 1.00 USD per EUR.
    assert (old["currency"], old["fx_rate_date"], old["fx_eur_per_usd"]) == ("EUR", "2025-06-30", "1")
    assert (old["input_eur_per_mtok"], old["output_eur_per_mtok"], old["cached_input_eur_per_mtok"]) == (
        "5", "15", "2.5")
    assert old["cache_write_eur_per_mtok"] is None
    # Current: today's rate (or Friday's on a weekend), 0.8 EUR per USD: 2.5 -> 2, 10 -> 8.
    assert current["fx_rate_date"] == max(recent_weekdays()).isoformat()
    assert (current["input_eur_per_mtok"], current["output_eur_per_mtok"]) == ("2", "8")


def test_as_of_a_sunday_converts_at_fridays_rate(client_user, prices, rates):
    (row,) = all_pages(client_user, f"{URL}?{GPT4O}&as_of=2025-06-29&currency=EUR")
    # 1 / 1.1 = 0.90909090909... -> 0.9090909091; 5 x that = 4.5454545455, 15 x that = 13.6363636365.
    assert (row["fx_rate_date"], row["fx_eur_per_usd"]) == ("2025-06-27", "0.9090909091")
    assert (row["input_eur_per_mtok"], row["output_eur_per_mtok"]) == ("4.5454545455", "13.6363636365")


def test_an_as_of_without_a_rate_is_a_400_that_says_why(client_user, prices, rates):
    response = client_user.get(f"{URL}?as_of=2024-06-01&currency=EUR")
    assert response.status_code == 400
    assert "start on 2022-03-01" in response.json()["currency"][0] or "2024-06-01" in response.json()["currency"][0]


def test_an_unknown_currency_is_a_400_listing_the_valid_codes(client_user, prices, rates):
    response = client_user.get(f"{URL}?currency=XYZ")
    assert response.status_code == 400
    assert response.json() == {"currency": ["Unknown currency 'XYZ'; valid codes: EUR, JPY, RUB, USD."]}
    response = client_user.get(f"{URL}?currency=XYZ&format=csv")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")


def test_usd_or_no_currency_writes_the_same_bytes(client_user, prices, rates):
    plain = client_user.get(f"{URL}?{GPT4O}").content
    assert client_user.get(f"{URL}?{GPT4O}&currency=USD").content == plain
    assert client_user.get(f"{URL}?{GPT4O}&currency=").content == plain


def test_the_next_link_keeps_the_currency(client_user, prices, rates):
    body = client_user.get(f"{URL}?page_size=2&currency=JPY").json()
    assert "currency=JPY" in body["next"]
    second = client_user.get(body["next"]).json()
    assert {"input_jpy_per_mtok", "fx_jpy_per_usd"} <= set(second["results"][0])


def test_the_csv_has_the_same_converted_figures_and_says_the_unit(client_user, prices, rates):
    json_rows = {r["id"]: r for r in gpt4o(client_user, "&currency=EUR")}
    response = client_user.get(f"{URL}?{GPT4O}&currency=EUR&format=csv")
    assert response.status_code == 200
    rows = csv_rows(response)
    assert list(rows[0])[-len(ADDED):] == list(json_rows[int(rows[0]["id"])])[-len(ADDED):]
    for row in rows:
        expected = json_rows[int(row["id"])]
        for name in ADDED:
            assert row[name] == (expected[name] or ""), name
    usd_csv = csv_rows(client_user.get(f"{URL}?{GPT4O}&format=csv"))
    assert [{k: v for k, v in r.items() if k not in ADDED} for r in rows] == usd_csv


def test_a_currency_the_ecb_stopped_publishing_gives_null_rows_or_a_400(client_user, prices, rates):
    rows = all_pages(client_user, f"{URL}?{GPT4O}&currency=RUB")
    assert all(r["fx_rate_date"] is None and r["input_rub_per_mtok"] is None for r in rows)
    response = client_user.get("/api/v1/market-prices/?currency=RUB")
    assert response.status_code == 400
    assert "the ECB last published RUB on 2022-03-01" in response.json()["currency"][0]


def test_market_prices_convert_at_todays_rate_in_json_and_csv(client_user, prices, rates):
    rows = all_pages(client_user, "/api/v1/market-prices/?provider=openai&currency=EUR")
    gpt = next(r for r in rows if r["model"] == "gpt-4o" and r["service_tier"] == "standard")
    assert (gpt["input_usd_per_mtok"], gpt["input_eur_per_mtok"], gpt["fx_rate_date"]) == (
        "2.5", "2", max(recent_weekdays()).isoformat())
    csv = csv_rows(client_user.get("/api/v1/market-prices/?provider=openai&currency=EUR&format=csv"))
    assert {r["id"]: r["input_eur_per_mtok"] for r in csv} == {str(r["id"]): r["input_eur_per_mtok"] or ""
                                                              for r in rows}
    as_of = all_pages(client_user, "/api/v1/market-prices/?provider=openai&as_of=2025-06-29&currency=EUR")
    gpt = next(r for r in as_of if r["model"] == "gpt-4o" and r["service_tier"] == "standard")
    assert (gpt["input_usd_per_mtok"], gpt["input_eur_per_mtok"], gpt["fx_rate_date"]) == (
        "5", "4.5454545455", "2025-06-27")


def test_compare_converts_every_money_column_and_names_the_rate(client_user, prices, rates):
    params = "model=gpt-4o&input_tokens=1000000&output_tokens=1000000&as_of=2025-06-29"
    usd = client_user.get(f"/api/v1/compare/?{params}").json()
    eur = client_user.get(f"/api/v1/compare/?{params}&currency=EUR").json()
    assert (eur["currency"], eur["fx_rate_date"], eur["fx_eur_per_usd"]) == ("EUR", "2025-06-27", "0.9090909091")
    row, usd_row = eur["results"][0], usd["results"][0]
    assert usd_row["usd_per_request"] == "20"  # 5 + 15 for 1M in and 1M out
    assert row["eur_per_request"] == "18.181818182"  # 20 x 0.9090909091, exact
    csv = csv_rows(client_user.get(f"/api/v1/compare/?{params}&currency=EUR&format=csv"))
    assert csv[0]["eur_per_request"] == row["eur_per_request"] and csv[0]["fx_rate_date"] == "2025-06-27"
    assert client_user.get(f"/api/v1/compare/?{params}&currency=ABC").status_code == 400


def test_the_schema_documents_the_parameter(client_user):
    schema = client_user.get("/api/schema/?format=json").json()
    for path in ("/api/v1/prices/", "/api/v1/current-prices/", "/api/v1/market-prices/", "/api/v1/compare/",
                 "/api/v1/advice/"):
        names = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
        assert "currency" in names, path


def test_advice_converts_the_monthly_cost_and_keeps_router_exports_in_usd(client_user, prices, rates):
    from tests.routing.conftest import MODEL, make_run

    now = timezone.now()
    make_run("groq", ttft_ms="420", tokens_per_s="250", error_rate="0", measured_at=now)
    params = {"model": MODEL, "input_mtok_per_month": "10", "output_mtok_per_month": "2"}
    usd = client_user.get("/api/v1/advice/", params).json()
    eur = client_user.get("/api/v1/advice/", {**params, "currency": "EUR"}).json()
    first_usd, first = usd["results"][0], eur["results"][0]
    assert first_usd["monthly_usd"] == "7.48"
    # Today's rate, 0.8 EUR per USD: 7.48 x 0.8 = 5.984.
    assert (first["monthly_eur"], first["input_eur_per_mtok"], first["fx_rate_date"]) == (
        "5.984", "0.472", max(recent_weekdays()).isoformat())
    csv = csv_rows(client_user.get("/api/v1/advice/", {**params, "currency": "EUR", "format": "csv"}))
    assert csv[0]["monthly_eur"] == "5.984" and csv[0]["currency"] == "EUR"
    config = client_user.get("/api/v1/advice/", {**params, "currency": "EUR", "format": "litellm-yaml"})
    assert config.status_code == 200 and b"eur" not in config.content.lower()


def test_a_feed_weeks_behind_still_converts_current_prices_and_says_how_old_the_rate_is(client_user, prices):
    # No fetch for 30 days: the newest rate held (1.25 USD per EUR) is used for today and named with its age.
    newest = timezone.now().date() - timedelta(days=30)
    assert ingest(f"Date,USD,\n{newest.isoformat()},1.25,\n".encode()).status == "ok"
    page = client_user.get("/api/v1/market-prices/?provider=openai&currency=EUR").json()
    gpt = next(r for r in page["results"] if r["model"] == "gpt-4o" and r["service_tier"] == "standard")
    assert (gpt["input_eur_per_mtok"], gpt["fx_rate_date"]) == ("2", newest.isoformat())
    assert f"30 days old: the newest ECB publication held is of {newest.isoformat()}" in page["fx_note"]
    compare = client_user.get("/api/v1/compare/?model=gpt-4o&input_tokens=1000000&output_tokens=0&currency=EUR")
    assert compare.status_code == 200 and "30 days old" in compare.json()["fx_note"]
    fresh = client_user.get(f"/api/v1/market-prices/?provider=openai&currency=EUR&as_of={newest.isoformat()}")
    assert "fx_note" not in fresh.json()


def test_a_converted_page_leaves_the_kept_offering_context_as_it_was(client_user, prices, rates, monkeypatch):
    # A page row is a copy of its offering's part kept per data version (apps/api_common/context.py): the
    # currency columns written into one page's rows must reach neither the next page nor the kept part.
    path = f"{URL}?provider=openai"
    converted = client_user.get(f"{path}&currency=EUR").json()["results"]
    assert converted and set(converted[0]) >= ADDED
    plain = client_user.get(path)
    rows = plain.json()["results"]
    assert rows and not ADDED & set(rows[0]), rows[0]
    with monkeypatch.context() as patched:
        patched.setattr(PriceViewSet, "row_context", None)
        assert client_user.get(path).content == plain.content
