"""The database keys an ingest pays for at COMMIT, and what each still refuses (catalog 0006, pricing 0009,
benchmarks 0005, then 0007; catalog 0007 and pricing 0011/0012 check the price tables' keys per statement).

An offering's alias must be an alias of the offering's own source: one composite key says so on PostgreSQL,
in place of the two single-column keys (alias, source), which let an alias of another source through. A
market price keeps its key to the price it chose; its provider, model and source are derived copies.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from apps.catalog.models import Model, ModelAlias, Offering
from apps.pricing.market import market_prices_refresh
from apps.pricing.models import MarketPrice
from apps.sources.models import Source
from apps.sources.services import FetchMeta, source_ingest_bytes

pytestmark = pytest.mark.django_db


def foreign_keys(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                       "AND contype = 'f'", [table])
        return sorted(row[0].split(" DEFERRABLE")[0] for row in cursor.fetchall())


def refused(statement: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_postgres_checks_an_offering_s_alias_of_its_own_source_and_the_market_s_price(postgres):
    """Foreign keys until catalog 0007 and pricing 0011, checked per statement since (the refusals below hold
    either way; tests/pricing/test_keys_per_statement.py has the rest)."""
    assert foreign_keys("catalog_offering") == []
    assert foreign_keys("pricing_marketprice") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[])",
                       [["catalog_offering", "pricing_marketprice"]])
        triggers = {row[0] for row in cursor.fetchall()}
    assert {"catalog_offering_keys_exist", "catalog_offering_alias_moved", "pricing_marketprice_keys_exist",
            "pricing_market_price_moved"} <= triggers


def test_postgres_refuses_an_offering_whose_alias_is_another_source_s(postgres, two_sources_ingested):
    litellm, mirror = two_sources_ingested
    offering = Offering.objects.get(source=litellm)
    theirs = ModelAlias.objects.get(source=mirror, raw_id="gpt-4o")
    # Both single-column keys would let this through: the alias exists, and so does the source.
    refused("UPDATE catalog_offering SET alias_id = %s WHERE id = %s", [theirs.pk, offering.pk])


@pytest.mark.parametrize("column", ["alias_id", "source_id"])
def test_postgres_refuses_an_offering_of_a_missing_alias_or_source(postgres, two_sources_ingested, column):
    offering = Offering.objects.first()
    missing = max(ModelAlias.objects.order_by("-pk").values_list("pk", flat=True)[0],
                  Source.objects.order_by("-pk").values_list("pk", flat=True)[0]) + 1000
    refused(f"UPDATE catalog_offering SET {column} = %s WHERE id = %s", [missing, offering.pk])  # noqa: S608


def test_postgres_refuses_a_market_price_of_a_missing_price(postgres, two_sources_ingested):
    row = MarketPrice.objects.first()
    refused("UPDATE pricing_marketprice SET price_id = price_id + 100000 WHERE id = %s", [row.pk])


def test_deleting_a_model_still_deletes_its_market_prices_and_a_refresh_rebuilds_them(two_sources_ingested):
    """on_delete is Django's (its collector), not the database's: unchanged by dropping the copied keys."""
    assert MarketPrice.objects.filter(model__slug="gpt-4o").count() == 1
    before = list(MarketPrice.objects.values_list("provider", "price", "source_count", "sources_agree"))
    gpt = Model.objects.get(slug="gpt-4o")
    with transaction.atomic():
        gpt.delete()  # aliases let go of it (SET_NULL); its market price goes with it (CASCADE)
        assert not MarketPrice.objects.exists()
        transaction.set_rollback(True)
    MarketPrice.objects.all().delete()
    market_prices_refresh()
    assert list(MarketPrice.objects.values_list("provider", "price", "source_count", "sources_agree")) == before


def test_postgres_keys_a_benchmark_run_to_an_alias_of_its_own_source(postgres):
    """benchmarks 0005: one composite key per run in place of the alias and source keys (a 100,000-row CSV's
    COMMIT checked each key of each row); since benchmarks 0007 the same rule is checked once per statement
    (tests/benchmarks/test_run_dimension_keys.py), and the refusals below hold either way."""
    from apps.benchmarks.models import BenchmarkRun

    assert not [key for key in foreign_keys("benchmarks_benchmarkrun") if "alias_id" in key or "source_id" in key]
    csv = (b"model,solution,hardware,accelerators,throughput_tokens_per_s,published_on\n"
           b"Llama 3 70B,vLLM,A100-80GB,8,1234.5,2024-05-01\n")
    runs = {}
    for key in ("bench-a", "bench-b"):
        source = Source.objects.create(key=key, name=key, format="benchmarks-csv", enabled=False, schedule="")
        result = source_ingest_bytes(source=source, content=csv, trigger="command", meta=FetchMeta(filename="b.csv"),
                                     observed_at=datetime(2025, 1, 1, tzinfo=UTC))
        assert result.status == "ok", result.message
        runs[key] = BenchmarkRun.objects.get(source=source)
    # The other source's alias of the same raw id: both single-column keys would let it through.
    refused("UPDATE benchmarks_benchmarkrun SET alias_id = %s WHERE id = %s",
            [runs["bench-b"].alias_id, runs["bench-a"].pk])
    refused("UPDATE benchmarks_benchmarkrun SET source_id = source_id + 1000 WHERE id = %s", [runs["bench-a"].pk])
