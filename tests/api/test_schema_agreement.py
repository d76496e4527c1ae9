"""The API reads its query parameters exactly as the OpenAPI schema states them (issue 12, finding 6).

Each case below was a disagreement schemathesis found: a request valid by the schema answered
400 (or 500), or one invalid by it answered 200. test_schemathesis.py keeps the whole API to it.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import csv_rows

pytestmark = pytest.mark.django_db
PRICES = "/api/v1/prices/"


def schema_parameters(client, path: str) -> dict[str, dict]:
    schema = client.get("/api/schema/?format=json").json()
    return {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}


@pytest.mark.parametrize("query", [
    # An optional parameter given empty means "not given" (allowEmptyValue), repeatable filters included.
    "provider=", "provider_kind=", "model=&source=", "as_of=", "snapshot=", "basis=", "ordering=", "page_size=",
    "format=", "cursor=",
    # A field named twice in ordering: the first mention decides (the schema's array allows repeats).
    "ordering=id,id", "ordering=id,-id", "ordering=-effective_from,provider,-effective_from",
    # RFC 3339 date-times the schema's format admits, at the edges Python's datetime cannot hold.
    "as_of=9999-12-31T23:00:00-05:00", "as_of=0000-01-01T00:00:00Z", "effective_from_after=0001-01-01T00:00:00%2B01:00",
    "as_of=2025-06-30T23:59:60Z", "as_of=2025-01-01t00:00:00.123456789z", "as_of=0000-02-29",
    # Counts at 0 (the schema's minimum).
    "snapshot=0", "min_prompt_tokens=0",
])
def test_it_accepts_what_the_schema_calls_valid(client_user, prices, query):
    response = client_user.get(f"{PRICES}?{query}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("query", "parameter"), [
    # Dates the schema's formats refuse: naive, no seconds, a space, not a calendar day.
    ("as_of=2025-01-01T00:00", "as_of"),
    ("as_of=2025-01-01T00:00:00", "as_of"),
    ("as_of=2025-01-01 00:00:00Z", "as_of"),
    ("effective_from_after=2025-02-29", "effective_from_after"),
    ("as_of=2025-01-01T00:00:00%2B24:00", "as_of"),
    ("as_of=٢٠٢٥-٠١-٠١", "as_of"),
    # Whole numbers in plain ASCII digits only (int() takes all of these).
    ("snapshot=1_0", "snapshot"),
    ("snapshot=%205", "snapshot"),
    ("snapshot=٥", "snapshot"),
    ("snapshot=-1", "snapshot"),
    ("page_size=1_0", "page_size"),
    ("page_size=%205", "page_size"),
    # Decimals as their pattern says (Decimal() takes exponents and padding).
    ("min_input_usd_per_mtok=1e5", "min_input_usd_per_mtok"),
    ("min_input_usd_per_mtok=-", "min_input_usd_per_mtok"),
    ("max_input_usd_per_mtok=%201", "max_input_usd_per_mtok"),
    # An ordering of nothing but commas.
    ("ordering=,,,", "ordering"),
    ("ordering=id,", "ordering"),
])
def test_it_refuses_what_the_schema_calls_invalid(client_user, prices, query, parameter):
    response = client_user.get(f"{PRICES}?{query}")
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_it_checks_page_size_on_csv_too(client_user, prices):
    # A CSV is unpaged, but a page_size the schema refuses is still refused (it was ignored: 200).
    assert client_user.get(f"{PRICES}?format=csv&page_size=false").status_code == 400
    assert csv_rows(client_user.get(f"{PRICES}?format=csv&page_size=5"))


@pytest.mark.parametrize("query", ["page_size=true", "page_size=0", "ordering=price"])
def test_it_reads_paging_parameters_of_a_computed_market(client_user, prices, query):
    # ?as_of= computes the market then (unpaged); a bad page_size was ignored there (200).
    response = client_user.get(f"/api/v1/market-prices/?as_of=2025-03-01&{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


@pytest.mark.parametrize("query", ["year_from=2100&year_to=2200", "year_from=1900&year_to=2200",
                                   "year_from=2030&year_to=2020"])
def test_it_projects_any_years_the_schema_allows(client_user, economics, query):
    # 2100-2200 at the seed's implied CAGR is a 30-digit number (it was a 500); spans over 100 years
    # and a year_to before year_from were a 400 the schema could not state.
    response = client_user.get(f"/api/v1/market-projections/?{query}")
    assert response.status_code == 200, response.content
    years = {row["year"] for row in response.json()["results"]}
    start, end = (int(part.split("=")[1]) for part in query.split("&"))
    assert years == set(range(start, end + 1))


@pytest.mark.parametrize(("query", "parameter"), [
    ("cached_share=-", "cached_share"), ("cached_share=1.5", "cached_share"), ("cached_share=1e-1", "cached_share"),
])
def test_it_reads_query_decimals_by_their_pattern(client_user, prices, query, parameter):
    response = client_user.get(f"/api/v1/compare/?model=gpt-4o&input_tokens=1000&output_tokens=100&{query}")
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_the_schema_says_how_query_parameters_are_read(anon):
    parameters = schema_parameters(anon, PRICES)
    assert all(p.get("allowEmptyValue") for p in parameters.values() if not p.get("required"))
    assert parameters["snapshot"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    assert parameters["family"]["schema"]["pattern"] == "^[^\\x00]*$"
    assert parameters["provider"]["schema"]["items"]["pattern"] == "^[^\\x00]*$"
    as_of = parameters["as_of"]["schema"]["anyOf"]
    assert [branch["format"] for branch in as_of] == ["date", "date-time"]
    compare = schema_parameters(anon, "/api/v1/compare/")
    assert compare["cached_share"]["schema"]["pattern"] == r"^(?:0(?:\.[0-9]{0,4})?|\.[0-9]{1,4}|1(?:\.0{0,4})?)$"
    assert not compare["model"].get("allowEmptyValue")
