"""catalog 0007, pricing 0011 and 0012: on PostgreSQL the price tables' keys are checked once per statement, a set at a
time (apps/common/statementkeys.py), instead of by foreign keys checked row by row at COMMIT. For each key the
database still refuses what the key refused: a row inserted, copied or updated to name a missing parent (or, for
an offering, another source's alias), and deleting or re-keying a parent that a row names."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection, transaction

from apps.catalog.models import Model, ModelAlias, Offering, Provider
from apps.common.statementkeys import StatementKey
from apps.pricing.models import MarketPrice, Price, PriceObservation
from apps.sources.models import Snapshot, Source
from tests import statementkeys
from tests.conftest import direct_connection_params, waits_then_refused
from tests.statementkeys import refused

pytestmark = pytest.mark.django_db

KEYS: list[StatementKey] = [*importlib.import_module("apps.catalog.migrations.0007_keys_per_statement").KEYS,
                            *importlib.import_module("apps.pricing.migrations.0011_keys_per_statement").KEYS,
                            *importlib.import_module("apps.pricing.migrations.0012_price_offering_key_per_statement").KEYS]
BY_NAME = {key.name: key for key in KEYS}

# What makes a copied row unique again apart from its key (so that only the key can refuse it).
UNIQUE_AGAIN = {
    "pricing_priceobservation": "stated_from = coalesce(stated_from, now()) - interval '1000 years'",
    "pricing_price": "effective_from = effective_from - interval '1000 years'",
    "pricing_marketprice": "region = region || '-copy'",
    "catalog_offering": "source_model_id = source_model_id || '-copy'",
    "catalog_modelalias": "raw_id = raw_id || '-copy'",
}
MODELS = {"pricing_priceobservation": PriceObservation, "pricing_price": Price, "pricing_marketprice": MarketPrice,
          "catalog_offering": Offering, "catalog_modelalias": ModelAlias}


@pytest.fixture
def ingested(postgres, two_sources_ingested) -> tuple[Source, Source]:
    """gpt-4o listed by two sources of the LiteLLM format: every table and key below has a row."""
    assert ModelAlias.objects.filter(model__slug="gpt-4o").count() == 2
    return two_sources_ingested


def test_postgres_checks_the_price_tables_keys_per_statement_not_by_foreign_keys(ingested) -> None:
    statementkeys.checked_per_statement(KEYS)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_a_row_inserted_with_a_missing_parent_and_takes_it_with_its_own(ingested, name) -> None:
    key = BY_NAME[name]
    statementkeys.inserted_with_a_missing_parent_is_refused(MODELS[key.child], key, UNIQUE_AGAIN[key.child])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_a_row_copied_in_with_a_missing_parent(ingested, name) -> None:
    key = BY_NAME[name]
    statementkeys.copied_in_with_a_missing_parent_is_refused(MODELS[key.child], key, UNIQUE_AGAIN[key.child])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_a_row_updated_to_a_missing_parent(ingested, name) -> None:
    key = BY_NAME[name]
    statementkeys.updated_to_a_missing_parent_is_refused(MODELS[key.child], key)


def test_postgres_refuses_an_offering_whose_alias_is_another_source_s(ingested) -> None:
    litellm, mirror = ingested
    offering = Offering.objects.get(source=litellm)
    theirs = ModelAlias.objects.get(source=mirror, raw_id="gpt-4o")
    refused([("UPDATE catalog_offering SET alias_id = %s WHERE id = %s", [theirs.pk, offering.pk])],
            "catalog_modelalias")
    key = BY_NAME["catalog_offering_alias"]
    refused(statementkeys.copy_statements(key, offering.pk, (theirs.pk, litellm.pk), UNIQUE_AGAIN[key.child]),
            "catalog_modelalias")


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_deleting_or_re_keying_a_parent_a_row_names(ingested, name) -> None:
    key = BY_NAME[name]
    statementkeys.deleting_or_re_keying_a_named_parent_is_refused(MODELS[key.child], key)


def test_postgres_an_offering_s_new_provider_is_carried_to_its_prices_and_checked(ingested) -> None:
    """pricing 0012 keeps the ON UPDATE CASCADE of the key it replaced: a curator's corrected provider reaches every
    price of the offering (tests/pricing/test_price_provider.py has the same through the ORM)."""
    litellm, _ = ingested
    offering = Offering.objects.get(source=litellm)
    corrected = Provider.objects.create(slug="corrected", name="Corrected")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_offering SET provider_id = %s WHERE id = %s", [corrected.pk, offering.pk])
    assert set(Price.objects.filter(offering=offering).values_list("provider_id", flat=True)) == {corrected.pk}
    # A price still may not disagree with its offering's provider.
    price = Price.objects.filter(offering=offering).first()
    refused([("UPDATE pricing_price SET provider_id = %s WHERE id = %s", [offering.provider_id, price.pk])],
            "catalog_offering")


def test_postgres_refuses_moving_a_used_alias_to_another_source(ingested) -> None:
    litellm, mirror = ingested
    alias = ModelAlias.objects.get(source=litellm, raw_id="gpt-4o")
    refused([("UPDATE catalog_modelalias SET source_id = %s, raw_id = 'moved' WHERE id = %s", [mirror.pk, alias.pk])],
            "catalog_modelalias")


def test_unused_parents_change_and_go_and_ordinary_updates_of_used_ones_pass(ingested) -> None:
    litellm, _ = ingested
    spare = Provider.objects.create(slug="spare-provider", name="Spare")
    Provider.objects.filter(pk=spare.pk).update(name="Spare, renamed")
    spare.delete()
    model = Model.objects.create(slug="spare-model", name="Spare model")
    model.delete()
    # A used model and source: their other columns change freely; the alias lets go of a deleted model (SET_NULL).
    gpt = Model.objects.get(slug="gpt-4o")
    Model.objects.filter(pk=gpt.pk).update(name="GPT-4o, renamed")
    Source.objects.filter(pk=litellm.pk).update(name="LiteLLM, renamed")
    Snapshot.objects.filter(source=litellm).update(record_count=7)
    Price.objects.filter(offering__source=litellm).update(last_confirmed_at=datetime(2026, 1, 3, tzinfo=UTC))
    with transaction.atomic():
        gpt.delete()
        assert not ModelAlias.objects.filter(model__isnull=False).exists()
        assert not MarketPrice.objects.exists()
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
def test_postgres_a_concurrent_delete_and_a_price_naming_the_row_wait_for_each_other_then_one_is_refused(
        postgres, two_sources_ingested):
    """The parents are locked FOR KEY SHARE, as a key's check locks them (READ COMMITTED, two connections)."""
    source, _ = two_sources_ingested
    price = Price.objects.get(offering__source=source)
    spare = Snapshot.objects.create(source=source, sha256="0" * 64, content=b"{}", size_bytes=2,
                                    observed_at=datetime(2026, 1, 2, tzinfo=UTC))
    params = direct_connection_params()

    with psycopg.connect(**params) as first, psycopg.connect(**params) as second:
        # The price names the snapshot first (its statement has ended, uncommitted): the DELETE waits, then is refused.
        first.execute("UPDATE pricing_price SET snapshot_id = %s WHERE id = %s", [spare.pk, price.pk])
        waits_then_refused(first, second, "DELETE FROM sources_snapshot WHERE id = %s", [spare.pk])
        # The DELETE comes first (uncommitted, the row no longer named): the price's UPDATE waits, then is refused.
        first.execute("UPDATE pricing_price SET snapshot_id = %s WHERE id = %s", [price.snapshot_id, price.pk])
        first.commit()
        second.execute("DELETE FROM sources_snapshot WHERE id = %s", [spare.pk])
        waits_then_refused(second, first, "UPDATE pricing_price SET snapshot_id = %s WHERE id = %s",
                           [spare.pk, price.pk])
