"""Every list endpoint answers CSV (?format=csv and Accept: text/csv) with the same rows as its JSON."""

from __future__ import annotations

import pytest

from tests.api.conftest import all_pages, csv_rows, second_opinion
from tokenwatch.api_router import router

pytestmark = pytest.mark.django_db
LISTS = [prefix for prefix, _, _ in router.registry]


@pytest.mark.parametrize("prefix", LISTS)
@pytest.mark.parametrize("how", ["format", "accept"])
def test_it_serves_csv_with_the_json_rows_and_fields(client_user, economics, prefix, how):
    url = f"/api/v1/{prefix}/"
    if prefix == "disagreements":
        second_opinion()  # the shared fixture's sources agree everywhere
    json_rows = all_pages(client_user, url)
    assert json_rows, f"{prefix}: the fixture gives this list no rows"
    response = client_user.get(f"{url}?format=csv") if how == "format" else client_user.get(
        url, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="tokenwatch-{prefix}-' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert len(rows) == len(json_rows)
    assert list(rows[0]) == list(json_rows[0])
    assert [r["id"] for r in rows] == [str(r["id"]) for r in json_rows]


def test_it_covers_every_list_endpoint():
    assert set(LISTS) >= {"providers", "models", "aliases", "offerings", "prices", "current-prices",
                          "price-changes", "sources", "snapshots", "ingest-runs", "rejections", "benchmarks",
                          "hardware-prices", "market-segments", "market-estimates", "market-prices",
                          "disagreements"}


COMPUTED = {
    "compare": {"model": "llama-3-70b-instruct", "input_tokens": 1000, "output_tokens": 100},
    "market-projections": {"year_from": 2024, "year_to": 2026},
    "economics/self-hosting-costs": {},
    "economics/break-even": {"model": "gpt-4o", "usd_per_hour": "31.92", "tokens_per_s": "3800"},
    "economics/price-trend": {"model": "gpt-4o"},
    "economics/market-cagrs": {},
}


@pytest.mark.parametrize("path", list(COMPUTED))
def test_it_serves_computed_tables_as_csv_too(client_user, economics, path):
    url = f"/api/v1/{path}/"
    json_rows = client_user.get(url, COMPUTED[path]).json()["results"]
    response = client_user.get(url, COMPUTED[path], HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment; filename=\"tokenwatch-" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert json_rows and len(rows) == len(json_rows)
    assert list(rows[0]) == list(json_rows[0])


@pytest.mark.postgres
@pytest.mark.parametrize("prefix", LISTS)
def test_it_writes_the_same_cells_from_postgresql_as_from_python(client_user, economics, postgres, prefix):
    """CSV on PostgreSQL comes from COPY with SQL formatting; it must equal the Python converters' cells."""
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from apps.api_common.columns import plan_for, postgres_copy_query, postgres_csv_blocks
    from tokenwatch.api_router import router

    if prefix == "disagreements":
        second_opinion()
    viewset = next(v for p, v, _ in router.registry if p == prefix)
    request = Request(APIRequestFactory().get(f"/api/v1/{prefix}/"))
    view = viewset(request=request, format_kwarg=None, action="list")
    queryset = view.filter_queryset(view.get_queryset()).order_by("pk")
    plan = plan_for(view.get_serializer_class()).bind(request)
    python_csv = "".join(plan.csv_blocks(queryset.values_list(*plan.plan.paths)))
    copy_query = postgres_copy_query(plan, queryset)
    if copy_query is None:
        assert plan.nested, f"{prefix}: only nested lists may skip COPY"
        return
    copy_csv = "".join(b if isinstance(b, str) else b.decode() for b in postgres_csv_blocks(plan, copy_query))
    assert parse(copy_csv) == parse(python_csv)


def parse(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text)))
