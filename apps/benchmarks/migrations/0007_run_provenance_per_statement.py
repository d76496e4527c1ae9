"""PostgreSQL: a benchmark run's alias and snapshot must be its own source's, checked once per statement, a set at
a time, in place of the two foreign keys left after 0006 ((alias_id, source_id) -> catalog_modelalias, and
snapshot_id -> sources_snapshot), whose checks were ~0.72 s of the backend's CPU at the COMMIT of a 100,000-row
benchmarks CSV (bench/README.md, CSV import "Third round").

The guarantee is kept and grows: each run's alias exists and is an alias of the run's source (as the composite
key said), and each run's snapshot exists and is a snapshot of the run's source (the key said only that it
exists). Refused, as by 0006's checks: a statement writing a run that breaks either (at the end of the INSERT,
COPY or UPDATE, where a key waited for COMMIT); deleting an alias or snapshot that a run names, or changing its id
or source. Referenced rows are locked FOR KEY SHARE, as a key's check locks them. Not covered, unlike a key:
TRUNCATE of the alias or snapshot table (TRUNCATE ... CASCADE no longer reaches the runs: name the runs' table
too), and a parent deleted under REPEATABLE READ while a run naming it commits.

The parents' UPDATE check is a row trigger with a WHEN on the key columns: an ordinary update of an alias or a
snapshot (every ingest makes some) queues nothing. SQLite keeps its foreign keys; Django's on_delete (PROTECT)
is its collector's and is unchanged.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore

PARENTS = [("alias_id", "catalog_modelalias", "an alias"), ("snapshot_id", "sources_snapshot", "a snapshot")]

RUNS_CHECK = """
CREATE FUNCTION benchmarks_run_provenance_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM (SELECT DISTINCT alias_id, source_id FROM benchmarks_run_rows) AS wanted)
       <> (SELECT count(*) FROM (SELECT 1 FROM catalog_modelalias p
                                 WHERE (p.id, p.source_id) IN (SELECT alias_id, source_id FROM benchmarks_run_rows)
                                 FOR KEY SHARE OF p) AS locked) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a benchmark run names an alias that does not exist or is '
                                                    'another source''s (catalog_modelalias)';
    END IF;
    IF (SELECT count(*) FROM (SELECT DISTINCT snapshot_id, source_id FROM benchmarks_run_rows) AS wanted)
       <> (SELECT count(*) FROM (SELECT 1 FROM sources_snapshot p
                                 WHERE (p.id, p.source_id) IN (SELECT snapshot_id, source_id FROM benchmarks_run_rows)
                                 FOR KEY SHARE OF p) AS locked) THEN
        RAISE foreign_key_violation USING MESSAGE = 'a benchmark run names a snapshot that does not exist or is '
                                                    'another source''s (sources_snapshot)';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER benchmarks_run_provenance_insert AFTER INSERT ON benchmarks_benchmarkrun
    REFERENCING NEW TABLE AS benchmarks_run_rows FOR EACH STATEMENT EXECUTE FUNCTION benchmarks_run_provenance_exists();
CREATE TRIGGER benchmarks_run_provenance_update AFTER UPDATE ON benchmarks_benchmarkrun
    REFERENCING NEW TABLE AS benchmarks_run_rows FOR EACH STATEMENT EXECUTE FUNCTION benchmarks_run_provenance_exists();
"""


def _parent_check(column: str, parent: str, what: str) -> str:
    function = f"benchmarks_run_{column}_unused"
    message = f"{what} that a benchmark run names cannot be deleted or given another id or source ({parent})"
    return f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM benchmarks_benchmarkrun r WHERE r.{column} IN (SELECT id FROM gone_rows)) THEN
            RAISE foreign_key_violation USING MESSAGE = '{message}';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM benchmarks_benchmarkrun r WHERE r.{column} = OLD.id) THEN
        RAISE foreign_key_violation USING MESSAGE = '{message}';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {function}_delete AFTER DELETE ON {parent}
    REFERENCING OLD TABLE AS gone_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {function}_update AFTER UPDATE OF id, source_id ON {parent} FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.source_id IS DISTINCT FROM NEW.source_id)
    EXECUTE FUNCTION {function}();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred checks
    schema_editor.execute(RUNS_CHECK)
    for column, parent, what in PARENTS:
        schema_editor.execute(_parent_check(column, parent, what))
    schema_editor.execute("ALTER TABLE benchmarks_benchmarkrun DROP CONSTRAINT run_alias_source_match")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'benchmarks_benchmarkrun'::regclass "
                       "AND contype = 'f' AND confrelid = 'sources_snapshot'::regclass")
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"ALTER TABLE benchmarks_benchmarkrun DROP CONSTRAINT {schema_editor.quote_name(name)}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    foreign_keys_restore(apps, schema_editor, "benchmarks.BenchmarkRun", ["snapshot"])
    schema_editor.execute(
        "ALTER TABLE benchmarks_benchmarkrun ADD CONSTRAINT run_alias_source_match FOREIGN KEY (alias_id, source_id) "
        "REFERENCES catalog_modelalias (id, source_id) DEFERRABLE INITIALLY DEFERRED")
    for column, parent, _ in PARENTS:
        function = f"benchmarks_run_{column}_unused"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function}_delete ON {parent}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function}_update ON {parent}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
    schema_editor.execute("DROP TRIGGER IF EXISTS benchmarks_run_provenance_insert ON benchmarks_benchmarkrun")
    schema_editor.execute("DROP TRIGGER IF EXISTS benchmarks_run_provenance_update ON benchmarks_benchmarkrun")
    schema_editor.execute("DROP FUNCTION IF EXISTS benchmarks_run_provenance_exists()")


class Migration(migrations.Migration):

    dependencies = [
        ("benchmarks", "0006_run_dimension_keys_per_statement"),
        ("sources", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
