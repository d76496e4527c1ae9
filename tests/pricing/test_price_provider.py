"""Each price carries its offering's provider (Price.provider), for the provider filter's index."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from apps.catalog.models import Offering, Provider
from apps.pricing.models import Price
from apps.sources.models import IngestRun

pytestmark = pytest.mark.django_db


def test_ingest_copies_the_offering_provider_onto_every_price(ingest_file):
    for path in ("litellm/model_prices_2025-09-30_rocry-72e074a.json",
                 "litellm/model_prices_2026-07-24_rocry-8442b93.json"):
        run = ingest_file("litellm", path)
        assert run.status == IngestRun.Status.OK, run.message
    assert Price.objects.count() > 2000
    assert Price.objects.values("provider_id").distinct().count() > 20
    assert not Price.objects.exclude(provider_id=F("offering__provider_id")).exists()


def test_a_price_saved_without_a_provider_takes_its_offering_s(ingest_file):
    ingest_file("litellm", "litellm/model_prices_2026-07-24_rocry-8442b93.json")
    price = Price.objects.select_related("offering").first()
    offering = price.offering
    price.delete()
    price.pk = None
    price.provider_id = None
    price.save()
    assert price.provider_id == offering.provider_id


def test_the_api_provider_filter_reads_the_copy(ingest_file, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    ingest_file("litellm", "litellm/model_prices_2026-07-24_rocry-8442b93.json")
    groq = Provider.objects.get(slug="groq")
    response = client.get("/api/v1/prices/", {"provider": "groq", "page_size": 1000})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert rows and {row["provider"] for row in rows} == {"groq"}
    assert len(rows) == Price.objects.filter(offering__provider=groq).count()


def test_postgres_refuses_a_copy_that_disagrees_with_the_offering(postgres, ingest_file):
    ingest_file("litellm", "litellm/model_prices_2026-07-24_rocry-8442b93.json")
    price = Price.objects.select_related("offering").first()
    other = Provider.objects.exclude(pk=price.offering.provider_id).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.filter(pk=price.pk).update(provider=other)
        with transaction.get_connection().cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_postgres_carries_a_corrected_offering_provider_to_its_prices(postgres, ingest_file):
    ingest_file("litellm", "litellm/model_prices_2026-07-24_rocry-8442b93.json")
    offering = Offering.objects.filter(prices__isnull=False).first()
    new = Provider.objects.create(slug="corrected", name="Corrected", kind=offering.provider.kind)
    Offering.objects.filter(pk=offering.pk).update(provider=new)
    prices = Price.objects.filter(offering=offering)
    assert prices.exists()
    assert set(prices.values_list("provider_id", flat=True)) == {new.pk}


@pytest.mark.parametrize("column", ["offering_id", "provider_id"])
def test_postgres_refuses_a_price_of_a_missing_offering_or_provider(postgres, ingest_file, column):
    """The single-column keys of a price are gone on PostgreSQL (migration 0008): the composite key alone must
    still refuse a price whose offering, or provider, does not exist."""
    ingest_file("litellm", "litellm/model_prices_2026-07-24_rocry-8442b93.json")
    price = Price.objects.first()
    missing = max(Offering.objects.order_by("-pk").values_list("pk", flat=True)[0],
                  Provider.objects.order_by("-pk").values_list("pk", flat=True)[0]) + 1000
    statement = {"offering_id": "UPDATE pricing_price SET offering_id = %s WHERE id = %s",
                 "provider_id": "UPDATE pricing_price SET provider_id = %s WHERE id = %s"}[column]
    with pytest.raises(IntegrityError), transaction.atomic(), transaction.get_connection().cursor() as cursor:
        cursor.execute(statement, [missing, price.pk])
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_postgres_has_no_foreign_key_the_composite_one_implies(postgres):
    with transaction.get_connection().cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'pricing_price'::regclass "
                       "AND contype = 'f'")
        keys = sorted(row[0].split(" REFERENCES ")[0] for row in cursor.fetchall())
    # The snapshot and the composite (offering, provider) are checked per statement since pricing 0011 and 0012
    # (tests/pricing/test_keys_per_statement.py); the refusals above hold either way.
    assert keys == []
