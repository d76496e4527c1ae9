"""A page's rows by id: compiled once per list on PostgreSQL, the same rows as the ORM gives."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from apps.api_common import rows as rows_module
from apps.api_common.columns import plan_for
from apps.api_common.rows import rows_by_id
from apps.pricing.api.serializers import PriceSerializer
from apps.pricing.models import Price
from apps.pricing.selectors import prices_with_context
from tests.api.conftest import all_pages

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_compiled():
    rows_module.compiled_clear()
    yield
    rows_module.compiled_clear()


def select_price_rows(queryset):
    return plan_for(PriceSerializer).bind(None).json_select(queryset, connection.vendor)


def orm_rows(ids):
    by_id = {row[-1]: row for row in select_price_rows(prices_with_context().filter(pk__in=ids))}
    return [tuple(by_id[i]) for i in ids]


def test_rows_come_in_the_order_asked_for_and_match_the_orm(prices):
    ids = list(Price.objects.order_by("-id").values_list("pk", flat=True)[:25])
    shuffled = ids[::2] + ids[1::2]
    got = rows_by_id(prices_with_context(), select_price_rows, shuffled, key="test-prices")
    assert [row[-1] for row in got] == shuffled
    assert [tuple(row) for row in got] == orm_rows(shuffled)


def test_deleted_rows_are_left_out(prices):
    ids = list(Price.objects.values_list("pk", flat=True)[:5])
    Price.objects.filter(pk=ids[2]).delete()
    got = rows_by_id(prices_with_context(), select_price_rows, ids, key="test-prices")
    assert [row[-1] for row in got] == ids[:2] + ids[3:]
    assert rows_by_id(prices_with_context(), select_price_rows, [], key="test-prices") == []


def test_postgres_compiles_once_and_reuses_the_sql(postgres, prices):
    ids = list(Price.objects.values_list("pk", flat=True)[:3])
    rows_by_id(prices_with_context(), select_price_rows, ids, key="test-prices")
    compiled = rows_module._compiled[("test-prices", "default")]
    assert compiled is not None and "ANY(" in compiled.sql
    with CaptureQueriesContext(connection) as queries:
        rows_by_id(prices_with_context(), select_price_rows, ids[:1], key="test-prices")
    assert [q["sql"] for q in queries] and "ANY(" in queries[0]["sql"]


def test_a_select_with_its_own_parameters_is_compiled_per_request(postgres, prices):
    def with_a_value(queryset):
        return select_price_rows(queryset.exclude(price_label=Value("no-such-label")))

    ids = list(Price.objects.values_list("pk", flat=True)[:3])
    got = rows_by_id(prices_with_context(), with_a_value, ids, key="test-value")
    assert rows_module._compiled[("test-value", "default")] is None
    assert [row[-1] for row in got] == ids


def test_the_ids_query_reads_only_the_price_table(client_user, prices):
    with CaptureQueriesContext(connection) as queries:
        response = client_user.get("/api/v1/prices/", {"provider": "openai", "effective_from_after": "2020-01-01"})
    assert response.status_code == 200 and response.json()["results"]
    ids_query = next(q["sql"] for q in queries if "_sort_key_0" in q["sql"])
    assert "JOIN" not in ids_query


def test_pages_are_the_same_with_and_without_the_compiled_sql(client_user, prices):
    first = all_pages(client_user, "/api/v1/prices/?page_size=7&ordering=-effective_from")
    rows_module.compiled_clear()
    second = all_pages(client_user, "/api/v1/prices/?page_size=1000&ordering=-effective_from")
    assert first == second and len(first) > 7


def test_postgres_prepares_the_rows_query_but_plans_the_ids_query_each_time(postgres, client_user, prices):
    if not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        pytest.skip("DB_SERVER_SIDE_BINDING=0: nothing is prepared")
    for _ in range(8):
        assert client_user.get("/api/v1/prices/", {"provider": "openai"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("ANY(" in sql for sql in prepared)
    assert not any("_sort_key_0" in sql for sql in prepared)
    assert connection.connection.prepare_threshold is not None  # restored after the ids query
