"""benchmarks 0006 and 0007: on PostgreSQL a run's provider, hardware, alias and snapshot are checked once per
statement, a set at a time, instead of by foreign keys checked run by run at COMMIT. The database still refuses
each bad parent: a run naming a missing provider, hardware, alias or snapshot, or another source's alias or
snapshot (INSERT, COPY, UPDATE), and deleting, renumbering or moving to another source one that a run names."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from apps.benchmarks.models import BenchmarkRun, Hardware
from apps.catalog.models import ModelAlias, Provider
from apps.sources.models import Snapshot, Source
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import direct_connection_params, waits_then_refused

pytestmark = pytest.mark.django_db

CSV = (b"model,solution,provider,hardware,accelerators,throughput_tokens_per_s,published_on\n"
       b"Llama 3 70B,vLLM,together_ai,A100-80GB,8,1234.5,2024-05-01\n"
       b"Llama 3 8B,vLLM,,H100,1,2000,2024-05-02\n")


@pytest.fixture
def runs(postgres) -> list[BenchmarkRun]:
    source = Source.objects.create(key="bench-keys", name="keys", format="benchmarks-csv", enabled=False, schedule="")
    result = source_ingest_bytes(source=source, content=CSV, trigger="command", meta=FetchMeta(filename="b.csv"),
                                 observed_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.status == "ok", result.message
    stored = list(BenchmarkRun.objects.filter(source=source).order_by("source_model_id"))
    assert [run.provider_id is not None for run in stored] == [True, False]
    assert all(run.hardware_id for run in stored)
    return stored


def refused(statement: str, params: list) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def missing(model: type) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000


def test_postgres_checks_a_run_s_parents_per_statement_not_by_foreign_keys(runs) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = 'benchmarks_benchmarkrun'::regclass "
                       "AND contype = 'f'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'benchmarks_benchmarkrun'::regclass "
                       "AND NOT tgisinternal ORDER BY tgname")
        assert [row[0] for row in cursor.fetchall()] == [
            "benchmarks_run_dimensions_insert", "benchmarks_run_dimensions_update",
            "benchmarks_run_provenance_insert", "benchmarks_run_provenance_update"]


@pytest.mark.parametrize(("column", "model"), [("provider_id", Provider), ("hardware_id", Hardware)])
def test_postgres_refuses_a_run_updated_to_a_missing_provider_or_hardware(runs, column, model) -> None:
    refused(f"UPDATE benchmarks_benchmarkrun SET {column} = %s WHERE id = %s",  # noqa: S608
            [missing(model), runs[1].pk])
    # The same statement touching several runs, one of them bad: refused as a whole.
    refused(f"UPDATE benchmarks_benchmarkrun SET {column} = CASE WHEN id = %s THEN %s ELSE {column} END",  # noqa: S608
            [runs[0].pk, missing(model)])


@pytest.mark.parametrize(("column", "model"), [("provider_id", Provider), ("hardware_id", Hardware)])
def test_postgres_refuses_a_run_inserted_or_copied_with_a_missing_provider_or_hardware(runs, column, model) -> None:
    run = runs[0]
    copied = "source_id, snapshot_id, alias_id, source_model_id, provider_id, hardware_id"
    refused(f"INSERT INTO benchmarks_benchmarkrun (run_key, {copied}, serving_stack, stack_version, precision, "  # noqa: S608
            "accelerator_count_approximate, error_counts, mostly_failed, cost_is_estimate, source_label, notes) "
            f"SELECT gen_random_uuid(), {copied.replace(column, '%s')}, '', '', '', false, '{{}}', false, false, "
            "'', '' FROM benchmarks_benchmarkrun WHERE id = %s", [missing(model), run.pk])
    # psycopg's own cursor (COPY is not wrapped by Django): its IntegrityError.
    with pytest.raises(psycopg.IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        values = [str(v) for v in (run.source_id, run.snapshot_id, run.alias_id)]
        ids = {"provider_id": run.provider_id, "hardware_id": run.hardware_id, column: missing(model)}
        row = "\t".join(["00000000-0000-0000-0000-000000000001", *values, "copied", str(ids["provider_id"]),
                         str(ids["hardware_id"]), "", "", "", "f", "{}", "f", "f", "", ""])
        with cursor.cursor.copy(f"COPY benchmarks_benchmarkrun (run_key, {copied}, serving_stack, stack_version, "
                                "precision, accelerator_count_approximate, error_counts, mostly_failed, "
                                "cost_is_estimate, source_label, notes) FROM STDIN") as copy:
            copy.write(row + "\n")


@pytest.mark.parametrize(("table", "attribute"), [("catalog_provider", "provider_id"),
                                                   ("benchmarks_hardware", "hardware_id")])
def test_postgres_refuses_deleting_or_renumbering_a_provider_or_hardware_a_run_names(runs, table, attribute) -> None:
    used = getattr(runs[0], attribute)
    refused(f"DELETE FROM {table} WHERE id = %s", [used])  # noqa: S608
    refused(f"UPDATE {table} SET id = id + 100000 WHERE id = %s", [used])  # noqa: S608


def test_an_unused_provider_or_hardware_may_be_changed_and_deleted_and_django_still_protects_used_ones(runs) -> None:
    for spare in (Hardware.objects.create(slug="1x-spare", accelerator="spare", accelerator_count=1),
                  Provider.objects.create(slug="spare", name="Spare")):
        type(spare).objects.filter(pk=spare.pk).update(slug=f"{spare.slug}-2")  # an update that keeps the id
        type(spare).objects.filter(pk=spare.pk).delete()
        assert not type(spare).objects.filter(pk=spare.pk).exists()
    Provider.objects.filter(pk=runs[0].provider_id).update(name="Renamed")  # a used one's other columns may change
    with pytest.raises(ProtectedError):
        Hardware.objects.get(pk=runs[0].hardware_id).delete()


@pytest.fixture
def other_source_runs(runs) -> list[BenchmarkRun]:
    source = Source.objects.create(key="bench-keys-b", name="keys b", format="benchmarks-csv", enabled=False,
                                   schedule="")
    result = source_ingest_bytes(source=source, content=CSV, trigger="command", meta=FetchMeta(filename="b.csv"),
                                 observed_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.status == "ok", result.message
    return list(BenchmarkRun.objects.filter(source=source).order_by("source_model_id"))


@pytest.mark.parametrize("column", ["alias_id", "snapshot_id"])
def test_postgres_refuses_a_run_naming_a_missing_alias_or_snapshot_or_another_source_s(runs, other_source_runs,
                                                                                       column) -> None:
    model = ModelAlias if column == "alias_id" else Snapshot
    refused(f"UPDATE benchmarks_benchmarkrun SET {column} = %s WHERE id = %s",  # noqa: S608
            [missing(model), runs[0].pk])
    # The other source's alias or snapshot exists: a single-column key would let it through.
    refused(f"UPDATE benchmarks_benchmarkrun SET {column} = %s WHERE id = %s",  # noqa: S608
            [getattr(other_source_runs[0], column), runs[0].pk])
    refused("UPDATE benchmarks_benchmarkrun SET source_id = %s WHERE id = %s", [other_source_runs[0].source_id,
                                                                                 runs[0].pk])
    run = runs[0]
    with pytest.raises(psycopg.IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        ids = {"alias_id": run.alias_id, "snapshot_id": run.snapshot_id, column: missing(model)}
        row = "\t".join(["00000000-0000-0000-0000-000000000002", str(run.source_id), str(ids["snapshot_id"]),
                         str(ids["alias_id"]), "copied", "", "", "", "f", "{}", "f", "f", "", ""])
        with cursor.cursor.copy("COPY benchmarks_benchmarkrun (run_key, source_id, snapshot_id, alias_id, "
                                "source_model_id, serving_stack, stack_version, precision, "
                                "accelerator_count_approximate, error_counts, mostly_failed, cost_is_estimate, "
                                "source_label, notes) FROM STDIN") as copy:
            copy.write(row + "\n")


@pytest.mark.parametrize(("table", "attribute"), [("catalog_modelalias", "alias_id"),
                                                   ("sources_snapshot", "snapshot_id")])
def test_postgres_refuses_deleting_renumbering_or_moving_an_alias_or_snapshot_a_run_names(
        runs, other_source_runs, table, attribute) -> None:
    used = getattr(runs[0], attribute)
    refused(f"DELETE FROM {table} WHERE id = %s", [used])  # noqa: S608
    refused(f"UPDATE {table} SET id = id + 100000 WHERE id = %s", [used])  # noqa: S608
    refused(f"UPDATE {table} SET source_id = %s WHERE id = %s", [other_source_runs[0].source_id, used])  # noqa: S608


def test_an_ingest_s_ordinary_updates_of_a_used_alias_or_snapshot_pass(runs) -> None:
    Snapshot.objects.filter(pk=runs[0].snapshot_id).update(record_count=7)
    ModelAlias.objects.filter(pk=runs[0].alias_id).update(name_hint="Renamed")
    assert Snapshot.objects.get(pk=runs[0].snapshot_id).record_count == 7


@pytest.mark.django_db(transaction=True)
def test_postgres_a_concurrent_delete_and_a_run_naming_the_row_wait_for_each_other_then_one_is_refused(postgres):
    """The parents are locked FOR KEY SHARE as a key's check locks them (READ COMMITTED, two connections)."""
    source = Source.objects.create(key="bench-keys-c", name="c", format="benchmarks-csv", enabled=False, schedule="")
    assert source_ingest_bytes(source=source, content=CSV, trigger="command", meta=FetchMeta(filename="c.csv"),
                               observed_at=datetime(2025, 1, 1, tzinfo=UTC)).status == "ok"
    run = BenchmarkRun.objects.filter(source=source).first()
    spare = Hardware.objects.create(slug="1x-concurrent", accelerator="concurrent", accelerator_count=1)
    params = direct_connection_params()

    with psycopg.connect(**params) as first, psycopg.connect(**params) as second:
        # The run names the row first (its statement has ended, uncommitted): the DELETE waits, then is refused.
        first.execute("UPDATE benchmarks_benchmarkrun SET hardware_id = %s WHERE id = %s", [spare.pk, run.pk])
        waits_then_refused(first, second, "DELETE FROM benchmarks_hardware WHERE id = %s", [spare.pk])
        # The DELETE comes first (uncommitted, the row no longer named): the run's UPDATE waits, then is refused.
        first.execute("UPDATE benchmarks_benchmarkrun SET hardware_id = NULL WHERE id = %s", [run.pk])
        first.commit()
        second.execute("DELETE FROM benchmarks_hardware WHERE id = %s", [spare.pk])
        waits_then_refused(second, first, "UPDATE benchmarks_benchmarkrun SET hardware_id = %s WHERE id = %s",
                           [spare.pk, run.pk])
