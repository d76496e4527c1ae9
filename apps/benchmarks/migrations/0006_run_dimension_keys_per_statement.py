"""PostgreSQL: a benchmark run's provider and hardware are checked once per statement, a set at a time, in place
of their foreign keys' one deferred check per run at COMMIT.

Measured (bench/README.md, "Third round"): the hardware key cost ~0.37 s of the backend's CPU at the COMMIT of a
100,000-row benchmarks CSV (every run names hardware), the provider key as much again for a file whose runs name
providers; a check of the statement's distinct ids costs ~0.02 s. The database refuses what the keys refused:

* a run naming a provider or hardware that does not exist, when the INSERT, COPY or UPDATE statement ends
  (a foreign key waited for COMMIT: nothing here writes a run before its provider or hardware);
* deleting a provider or hardware that a run names, or changing its id.

Each referenced row is locked FOR KEY SHARE, as the key's own check locks it, so a concurrent transaction cannot
delete it until this one ends; one deleted meanwhile is not returned, and the counts differ. The parent side
reads the runs with a fresh snapshot per statement (READ COMMITTED, Django's default). Not covered, unlike a
foreign key: TRUNCATE of the provider or hardware table alone, and a parent deleted under REPEATABLE READ
while a run naming it commits (a key's check would cross-check; nothing here deletes those rows so).

The alias (with the source) and snapshot keys stay foreign keys: provenance, checked by PostgreSQL itself.
SQLite keeps every key. Django's on_delete (PROTECT) is applied by Django's collector and is unchanged; the
fields stay ForeignKeys in the model.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore, single_column_keys_drop

DIMENSIONS = [("provider_id", "catalog_provider", "a provider"), ("hardware_id", "benchmarks_hardware", "hardware")]


def _runs_check() -> str:
    checks = "\n".join(f"""
    IF (SELECT count(DISTINCT {column}) FROM benchmarks_run_rows)
       <> (SELECT count(*) FROM (SELECT 1 FROM {parent} p WHERE p.id IN (SELECT {column} FROM benchmarks_run_rows)
                                 FOR KEY SHARE OF p) AS locked) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a benchmark run names {what} that does not exist ({parent})';
    END IF;""" for column, parent, what in DIMENSIONS)
    return f"""
CREATE FUNCTION benchmarks_run_dimensions_exist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{checks}
    RETURN NULL;
END
$$;
CREATE TRIGGER benchmarks_run_dimensions_insert AFTER INSERT ON benchmarks_benchmarkrun
    REFERENCING NEW TABLE AS benchmarks_run_rows FOR EACH STATEMENT EXECUTE FUNCTION benchmarks_run_dimensions_exist();
CREATE TRIGGER benchmarks_run_dimensions_update AFTER UPDATE ON benchmarks_benchmarkrun
    REFERENCING NEW TABLE AS benchmarks_run_rows FOR EACH STATEMENT EXECUTE FUNCTION benchmarks_run_dimensions_exist();
"""


def _parent_check(column: str, parent: str, what: str) -> str:
    function = f"benchmarks_run_{column}_unused"
    message = f"{what} that a benchmark run names cannot be deleted or renumbered ({parent})"
    return f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM benchmarks_benchmarkrun r WHERE r.{column} IN (SELECT id FROM gone_rows)) THEN
            RAISE foreign_key_violation USING MESSAGE = '{message}';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM benchmarks_benchmarkrun r
                  WHERE r.{column} IN (SELECT id FROM gone_rows EXCEPT SELECT id FROM kept_rows)) THEN
        RAISE foreign_key_violation USING MESSAGE = '{message}';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {function}_delete AFTER DELETE ON {parent}
    REFERENCING OLD TABLE AS gone_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_update AFTER UPDATE ON {parent}
    REFERENCING OLD TABLE AS gone_rows NEW TABLE AS kept_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred checks
    schema_editor.execute(_runs_check())
    for column, parent, what in DIMENSIONS:
        schema_editor.execute(_parent_check(column, parent, what))
    single_column_keys_drop(schema_editor, "benchmarks_benchmarkrun", [column for column, _, _ in DIMENSIONS])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    foreign_keys_restore(apps, schema_editor, "benchmarks.BenchmarkRun", ["provider", "hardware"])
    for column, parent, _ in DIMENSIONS:
        function = f"benchmarks_run_{column}_unused"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function}_delete ON {parent}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function}_update ON {parent}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    schema_editor.execute("DROP TRIGGER IF EXISTS benchmarks_run_dimensions_insert ON benchmarks_benchmarkrun")
    schema_editor.execute("DROP TRIGGER IF EXISTS benchmarks_run_dimensions_update ON benchmarks_benchmarkrun")
    schema_editor.execute("DROP FUNCTION IF EXISTS benchmarks_run_dimensions_exist()")


class Migration(migrations.Migration):

    dependencies = [
        ("benchmarks", "0005_run_alias_source_key"),
        ("catalog", "0006_offering_alias_source_key"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
