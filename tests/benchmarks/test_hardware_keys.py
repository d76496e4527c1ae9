"""benchmarks 0008: on PostgreSQL the hardware price tables' keys (an offering's source, provider and hardware; an
observation's and a price's offering and snapshot) are checked once per statement, a set at a time
(apps/common/statementkeys.py), instead of by foreign keys checked row by row at COMMIT. The database still refuses
what each key refused: a row inserted, copied or updated to name a missing parent, and deleting or re-keying a
parent that a row names; Django's own on_delete (an offering's prices go with it) is unchanged."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import transaction
from django.db.models import ProtectedError

from apps.benchmarks.models import Hardware, HardwareOffering, HardwarePrice, HardwarePriceObservation
from apps.catalog.models import Provider
from apps.common.statementkeys import StatementKey
from apps.sources.models import Snapshot, Source
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests import statementkeys
from tests.conftest import direct_connection_params, waits_then_refused

pytestmark = pytest.mark.django_db

KEYS: list[StatementKey] = importlib.import_module("apps.benchmarks.migrations.0008_hardware_keys_per_statement").KEYS
BY_NAME = {key.name: key for key in KEYS}
MODELS = {"benchmarks_hardwareoffering": HardwareOffering, "benchmarks_hardwareprice": HardwarePrice,
          "benchmarks_hardwarepriceobservation": HardwarePriceObservation}
# What makes a copied row unique again apart from its key (so that only the key can refuse it).
UNIQUE_AGAIN = {
    "benchmarks_hardwareoffering": "instance_type = instance_type || '-copy'",
    "benchmarks_hardwareprice": "effective_from = effective_from - interval '1000 years'",
    "benchmarks_hardwarepriceobservation": "observed_at = observed_at - interval '1000 years'",
}

CSV = (b"provider,instance_type,accelerator,accelerator_count,usd_per_hour,region,observed_on\n"
       b"Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,23.92,us-east-1,2025-01-01\n"
       b"Lambda,gpu_8x_h100_sxm5,H100 SXM5,8,21.52,us-east-1,2025-03-01\n"
       b"CoreWeave,a100-80gb-x8,A100-80GB,8,17.60,,2025-02-01\n")


@pytest.fixture
def sheet(postgres) -> Source:
    source = Source.objects.create(key="hardware-keys", name="keys", format="hardware-csv", enabled=False,
                                   schedule="")
    run = source_ingest_bytes(source=source, content=CSV, trigger="command", meta=FetchMeta(filename="hw.csv"),
                              observed_at=datetime(2025, 3, 2, tzinfo=UTC))
    assert run.status == "ok", run.message
    assert HardwareOffering.objects.filter(source=source).count() == 2
    assert HardwarePriceObservation.objects.filter(offering__source=source).count() == 3
    assert HardwarePrice.objects.filter(offering__source=source).count() == 3
    return source


def test_postgres_checks_the_hardware_price_tables_keys_per_statement_not_by_foreign_keys(sheet) -> None:
    assert {key.child for key in KEYS} == set(MODELS)
    statementkeys.checked_per_statement(KEYS)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_a_row_inserted_with_a_missing_parent_and_takes_it_with_its_own(sheet, name) -> None:
    key = BY_NAME[name]
    statementkeys.inserted_with_a_missing_parent_is_refused(MODELS[key.child], key, UNIQUE_AGAIN[key.child])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_a_row_copied_in_with_a_missing_parent(sheet, name) -> None:
    key = BY_NAME[name]
    statementkeys.copied_in_with_a_missing_parent_is_refused(MODELS[key.child], key, UNIQUE_AGAIN[key.child])


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_a_row_updated_to_a_missing_parent(sheet, name) -> None:
    key = BY_NAME[name]
    statementkeys.updated_to_a_missing_parent_is_refused(MODELS[key.child], key)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_postgres_refuses_deleting_or_re_keying_a_parent_a_row_names(sheet, name) -> None:
    key = BY_NAME[name]
    statementkeys.deleting_or_re_keying_a_named_parent_is_refused(MODELS[key.child], key)


def test_django_s_on_delete_is_unchanged(sheet) -> None:
    """Protected parents stay protected by Django; an offering's observations and prices go with it (CASCADE), and
    unused parents come and go."""
    offering = HardwareOffering.objects.filter(source=sheet).order_by("pk").first()
    with pytest.raises(ProtectedError):
        offering.hardware.delete()
    with pytest.raises(ProtectedError):
        offering.provider.delete()
    with transaction.atomic():
        offering.delete()
        assert not HardwarePrice.objects.filter(offering_id=offering.pk).exists()
        assert not HardwarePriceObservation.objects.filter(offering_id=offering.pk).exists()
        transaction.set_rollback(True)
    spare = Hardware.objects.create(slug="spare-hardware", accelerator="Spare", accelerator_count=1)
    Hardware.objects.filter(pk=spare.pk).update(accelerator="Spare, renamed")
    spare.delete()
    Provider.objects.filter(pk=offering.provider_id).update(name="Lambda, renamed")
    Snapshot.objects.filter(source=sheet).update(record_count=7)


@pytest.mark.django_db(transaction=True)
def test_postgres_a_concurrent_delete_and_a_price_naming_the_row_wait_for_each_other_then_one_is_refused(sheet):
    """The parents are locked FOR KEY SHARE, as a key's check locks them (READ COMMITTED, two connections)."""
    price = HardwarePrice.objects.filter(offering__source=sheet).order_by("pk").first()
    spare = Snapshot.objects.create(source=sheet, sha256="0" * 64, content=b"x", size_bytes=1,
                                    observed_at=datetime(2025, 4, 1, tzinfo=UTC))
    params = direct_connection_params()
    update = "UPDATE benchmarks_hardwareprice SET snapshot_id = %s WHERE id = %s"
    with psycopg.connect(**params) as first, psycopg.connect(**params) as second:
        # The price names the snapshot first (its statement has ended, uncommitted): the DELETE waits, then is refused.
        first.execute(update, [spare.pk, price.pk])
        waits_then_refused(first, second, "DELETE FROM sources_snapshot WHERE id = %s", [spare.pk])
        # The DELETE comes first (uncommitted, the row no longer named): the price's UPDATE waits, then is refused.
        first.execute(update, [price.snapshot_id, price.pk])
        first.commit()
        second.execute("DELETE FROM sources_snapshot WHERE id = %s", [spare.pk])
        waits_then_refused(second, first, update, [spare.pk, price.pk])
