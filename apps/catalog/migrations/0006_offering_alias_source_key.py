"""PostgreSQL: one composite foreign key from an offering to its alias *of the same source*, in place of two.

An offering names the raw id a source lists (its alias) and the source itself. The composite key
``offering_alias_source_match`` (alias_id, source_id) -> catalog_modelalias (id, source_id) refuses an
offering whose alias does not exist, or belongs to another source; the alias's own key to its source then
covers the source. So it says more than the two single-column keys it replaces (an alias of another source
passed both), and PostgreSQL checks one key per offering instead of two: ~3,400 fewer deferred checks at
the COMMIT of the newest LiteLLM file into an empty database, where those checks were a fifth of the ingest
(bench/ingest.py). The unique (id, source_id) it needs costs one small index entry per alias.

SQLite keeps the two single-column keys (no composite key there). Django's on_delete (PROTECT from alias and
source) is applied by Django's collector, not by these constraints, and is unchanged; the fields stay
ForeignKeys in the models.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore, single_column_keys_drop

COMPOSITE = """
ALTER TABLE catalog_modelalias ADD CONSTRAINT alias_id_source UNIQUE (id, source_id);
ALTER TABLE catalog_offering ADD CONSTRAINT offering_alias_source_match
    FOREIGN KEY (alias_id, source_id) REFERENCES catalog_modelalias (id, source_id) DEFERRABLE INITIALLY DEFERRED;
"""

COMPOSITE_DROP = """
ALTER TABLE catalog_offering DROP CONSTRAINT IF EXISTS offering_alias_source_match;
ALTER TABLE catalog_modelalias DROP CONSTRAINT IF EXISTS alias_id_source;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # ALTER TABLE refuses to run with deferred checks of the table pending (a caller's transaction).
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute(COMPOSITE)
    single_column_keys_drop(schema_editor, "catalog_offering", ["alias_id", "source_id"])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    foreign_keys_restore(apps, schema_editor, "catalog.Offering", ["alias", "source"])
    schema_editor.execute(COMPOSITE_DROP)


class Migration(migrations.Migration):

    dependencies = [("catalog", "0005_drop_redundant_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
