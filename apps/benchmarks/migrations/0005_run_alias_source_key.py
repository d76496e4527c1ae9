"""PostgreSQL: a benchmark run's alias must be an alias of the run's own source: one composite foreign key
(alias_id, source_id) -> catalog_modelalias (id, source_id) in place of the run's alias and source keys.

It refuses what the two refused (a missing alias; a missing source, which the alias's own key to its source
covers) and what they let through (an alias of another source), with one deferred check per run instead of
two: 100,000 fewer checks at the COMMIT of a 100,000-row benchmarks CSV, where PostgreSQL checks each key of
each row one by one (bench/csv_import.py). The unique (id, source_id) it references is catalog 0006's.

SQLite keeps the single-column keys. Django's on_delete (PROTECT) is applied by Django's collector and is
unchanged; the fields stay ForeignKeys in the model.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore, single_column_keys_drop


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred checks
    schema_editor.execute(
        "ALTER TABLE benchmarks_benchmarkrun ADD CONSTRAINT run_alias_source_match FOREIGN KEY (alias_id, source_id) "
        "REFERENCES catalog_modelalias (id, source_id) DEFERRABLE INITIALLY DEFERRED")
    single_column_keys_drop(schema_editor, "benchmarks_benchmarkrun", ["alias_id", "source_id"])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    foreign_keys_restore(apps, schema_editor, "benchmarks.BenchmarkRun", ["alias", "source"])
    schema_editor.execute("ALTER TABLE benchmarks_benchmarkrun DROP CONSTRAINT IF EXISTS run_alias_source_match")


class Migration(migrations.Migration):

    dependencies = [
        ("benchmarks", "0004_run_probe_latencies"),
        ("catalog", "0006_offering_alias_source_key"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
