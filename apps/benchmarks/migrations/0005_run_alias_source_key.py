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

SINGLE_KEYS = """
SELECT c.conname FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.conrelid = 'benchmarks_benchmarkrun'::regclass AND c.contype = 'f' AND array_length(c.conkey, 1) = 1
  AND a.attname IN ('alias_id', 'source_id')
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred checks
    schema_editor.execute(
        "ALTER TABLE benchmarks_benchmarkrun ADD CONSTRAINT run_alias_source_match FOREIGN KEY (alias_id, source_id) "
        "REFERENCES catalog_modelalias (id, source_id) DEFERRABLE INITIALLY DEFERRED")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SINGLE_KEYS)
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"ALTER TABLE benchmarks_benchmarkrun DROP CONSTRAINT {schema_editor.quote_name(name)}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = apps.get_model("benchmarks", "BenchmarkRun")
    for name in ("alias", "source"):
        field = run._meta.get_field(name)
        schema_editor.execute(schema_editor._create_fk_sql(run, field, "_fk_%(to_table)s_%(to_column)s"))
    schema_editor.execute("ALTER TABLE benchmarks_benchmarkrun DROP CONSTRAINT IF EXISTS run_alias_source_match")


class Migration(migrations.Migration):

    dependencies = [
        ("benchmarks", "0004_run_probe_latencies"),
        ("catalog", "0006_offering_alias_source_key"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
