"""/api/v1/prices/: price history with provenance, filtered by the pages' FilterSet, exact money, CSV."""

from __future__ import annotations

import pytest

from tests.api.conftest import FORMULA_ID, all_pages, csv_rows

pytestmark = pytest.mark.django_db
URL = "/api/v1/prices/"


def gpt4o_history(client) -> list[dict]:
    rows = all_pages(client, f"{URL}?provider=openai&source_model_id=gpt-4o&service_tier=standard")
    return sorted(rows, key=lambda r: r["effective_from"])


def test_it_names_provider_model_raw_id_interval_source_and_snapshot(client_user, prices):
    first, second = gpt4o_history(client_user)
    assert first == {
        "id": first["id"], "offering": first["offering"], "provider": "openai", "provider_name": "OpenAI",
        "provider_kind": "first-party", "model": "gpt-4o", "family": first["family"],
        "source_model_id": "gpt-4o", "region": None, "service_tier": "standard", "min_prompt_tokens": 0,
        "mode": "chat", "effective_from": "2025-01-01T00:00:00.000000Z", "effective_to": "2025-07-01T00:00:00.000000Z",
        # Exact decimals as strings, no trailing zeros, no float artefacts.
        "input_usd_per_mtok": "5", "output_usd_per_mtok": "15", "cached_input_usd_per_mtok": "2.5",
        "cache_write_usd_per_mtok": None, "reasoning_usd_per_mtok": None, "unit_prices": [],
        "price_label": None, "basis": "observed", "source": "litellm", "snapshot": prices[0].snapshot_id,
        # First stated by the 2025-01-01 document; the 2025-07-01 one no longer states it.
        "first_seen_at": "2025-01-01T00:00:00.000000Z", "last_confirmed_at": "2025-01-01T00:00:00.000000Z",
    }
    assert (second["effective_from"], second["effective_to"]) == ("2025-07-01T00:00:00.000000Z", None)
    assert (second["input_usd_per_mtok"], second["output_usd_per_mtok"]) == ("2.5", "10")
    assert second["snapshot"] == prices[1].snapshot_id


def test_it_filters_by_provider_kind_model_family_and_tier(client_user, prices):
    kinds = all_pages(client_user, f"{URL}?provider_kind=silicon&provider_kind=inference-cloud")
    assert {r["provider"] for r in kinds} == {"groq", "together-ai", "fireworks-ai", "replicate"}
    llama = all_pages(client_user, f"{URL}?model=llama-3-70b-instruct&current=true")
    assert {r["provider"] for r in llama} == {"groq", "together-ai", "fireworks-ai", "replicate", "ollama"}
    assert {r["family"] for r in llama} == {"llama"}
    family = all_pages(client_user, f"{URL}?family=LLAMA&current=true")
    assert sorted(r["id"] for r in family) == sorted(r["id"] for r in llama)
    batch = all_pages(client_user, f"{URL}?service_tier=batch")
    assert [(r["source_model_id"], r["input_usd_per_mtok"]) for r in batch] == [("gpt-4o", "2.5")]
    both = all_pages(client_user, f"{URL}?service_tier=batch,standard&provider=openai&source_model_id=gpt-4o")
    assert len(both) == 3
    assert all_pages(client_user, f"{URL}?source=litellm&region=eu-west-1") == []


def test_it_answers_as_of_a_date(client_user, prices):
    def gpt4o_input(as_of: str) -> list[str]:
        rows = all_pages(client_user, f"{URL}?as_of={as_of}&source_model_id=gpt-4o&service_tier=standard"
                                      f"&provider=openai")
        return [r["input_usd_per_mtok"] for r in rows]

    assert gpt4o_input("2024-12-31") == []
    assert gpt4o_input("2025-03-01") == ["5"]
    # A date means the end of that day: the cut of 2025-07-01 counts on that day.
    assert gpt4o_input("2025-07-01") == ["2.5"]
    assert gpt4o_input("2025-06-30T23:59:59Z") == ["5"]
    assert gpt4o_input("2025-07-01T02:00:00%2B03:00") == ["5"]  # 2025-06-30T23:00Z


def test_it_filters_by_min_and_max_price_and_by_start_date(client_user, prices):
    cheap = all_pages(client_user, f"{URL}?max_input_usd_per_mtok=0.6&min_input_usd_per_mtok=0.5")
    assert [r["source_model_id"] for r in cheap] == ["groq/llama3-70b-8192"]
    dear = all_pages(client_user, f"{URL}?min_output_usd_per_mtok=15")
    assert {(r["source_model_id"], r["output_usd_per_mtok"]) for r in dear} == {
        ("gpt-4o", "15"), ("azure/gpt-4o", "16.5")}
    later = all_pages(client_user, f"{URL}?effective_from_after=2025-02-01")
    assert [(r["source_model_id"], r["effective_from"]) for r in later] == [("gpt-4o", "2025-07-01T00:00:00.000000Z")]
    earlier = all_pages(client_user, f"{URL}?effective_from_before=2025-02-01")
    assert len(earlier) == len(all_pages(client_user, URL)) - 1


def test_it_labels_free_unknown_and_plain_prices(client_user, prices):
    labelled = all_pages(client_user, f"{URL}?labelled=true")
    assert {(r["provider"], r["price_label"]) for r in labelled} == {("ollama", "free"), ("replicate", "unknown")}
    plain = all_pages(client_user, f"{URL}?labelled=false&current=true&model=llama-3-70b-instruct")
    assert {r["provider"] for r in plain} == {"groq", "together-ai", "fireworks-ai"}


@pytest.mark.parametrize(("query", "parameter"), [
    ("as_of=2025-13-01", "as_of"),
    ("as_of=yesterday", "as_of"),
    ("provider=no-such-provider", "provider"),
    ("model=no-such-model", "model"),
    ("provider_kind=reseller", "provider_kind"),
    ("min_input_usd_per_mtok=cheap", "min_input_usd_per_mtok"),
    ("max_output_usd_per_mtok=1e400", "max_output_usd_per_mtok"),
    ("min_input_usd_per_mtok=NaN", "min_input_usd_per_mtok"),
    ("current=maybe", "current"),
    ("offering=1.5", "offering"),
    ("offering=99999999999999999999", "offering"),
    ("basis=guessed", "basis"),
    ("page_size=0", "page_size"),
    ("page_size=1001", "page_size"),
    ("page_size=ten", "page_size"),
    ("ordering=price", "ordering"),
    ("cursor=not-a-cursor", "cursor"),
    ("format=xml", "format"),
    ("provider=open%00ai", "provider"),
])
def test_it_answers_a_bad_parameter_with_a_400_naming_it(client_user, prices, query, parameter):
    response = client_user.get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert parameter in response.json()


def test_it_serves_one_price(client_user, prices):
    row = all_pages(client_user, f"{URL}?service_tier=batch")[0]
    response = client_user.get(f"{URL}{row['id']}/")
    assert response.status_code == 200
    assert response.json() == row
    assert client_user.get(f"{URL}999999/").status_code == 404


def test_it_exports_the_filtered_rows_as_csv_with_units_and_no_formulas(client_user, prices):
    response = client_user.get(f"{URL}?format=csv&provider=openai&current=true")
    assert response.status_code == 200
    assert response.streaming  # streamed, however many rows
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="tokenwatch-prices-')
    rows = csv_rows(response)
    json_rows = all_pages(client_user, f"{URL}?provider=openai&current=true")
    assert [r["id"] for r in rows] == [str(r["id"]) for r in json_rows]
    assert "input_usd_per_mtok" in rows[0] and "effective_from" in rows[0]
    by_id = {r["source_model_id"]: r for r in rows}
    # The raw id that is a formula is neutralised; numbers stay plain numbers.
    assert f"'{FORMULA_ID}" in by_id
    assert by_id["gpt-4o"]["input_usd_per_mtok"] in {"2.5"}
    assert by_id["text-embedding-3-small"]["input_usd_per_mtok"] == "0.02"
    assert by_id["text-embedding-3-small"]["cache_write_usd_per_mtok"] == ""


def test_it_exports_csv_for_an_accept_header_too(client_user, prices):
    response = client_user.get(f"{URL}?provider=groq", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert [r["provider"] for r in csv_rows(response)] == ["groq"]


def test_it_answers_a_bad_parameter_in_json_even_when_csv_was_asked_for(client_user, prices):
    response = client_user.get(f"{URL}?format=csv&as_of=never")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "as_of" in response.json()
