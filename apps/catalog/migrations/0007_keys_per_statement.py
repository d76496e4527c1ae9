"""PostgreSQL: an offering's provider and alias, and an alias's source and model, are checked once per statement,
a set at a time (apps/common/statementkeys.py), in place of their foreign keys' one deferred check per row at
COMMIT: ~12,000 checks for the newest LiteLLM file into an empty database (bench/README.md, "ingest, seventh
pass").

The same rows are refused: an offering naming a provider that does not exist, or an alias that does not exist or
is another source's (the composite rule of 0006); an alias naming a source or model that does not exist; and
deleting, or changing the key of, a provider, alias, source or model that one of them names. The refusal comes
at the end of the statement instead of at COMMIT. The unique (id, source_id) of aliases that 0006 added stays:
the composite check reads it. SQLite keeps its keys.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore
from apps.common.statementkeys import StatementKey, keys_to_statements, statements_drop

KEYS = [
    StatementKey("catalog_offering_provider", "catalog_offering", ("provider_id",), "catalog_provider", ("id",),
                 "a provider"),
    StatementKey("catalog_offering_alias", "catalog_offering", ("alias_id", "source_id"), "catalog_modelalias",
                 ("id", "source_id"), "an alias of its own source"),
    StatementKey("catalog_alias_source", "catalog_modelalias", ("source_id",), "sources_source", ("id",), "a source"),
    StatementKey("catalog_alias_model", "catalog_modelalias", ("model_id",), "catalog_model", ("id",), "a model"),
]


def forwards(apps, schema_editor):
    keys_to_statements(schema_editor, KEYS)


def backwards(apps, schema_editor):
    if not statements_drop(schema_editor, KEYS):
        return
    foreign_keys_restore(apps, schema_editor, "catalog.Offering", ["provider"])
    foreign_keys_restore(apps, schema_editor, "catalog.ModelAlias", ["source", "model"])
    schema_editor.execute(
        "ALTER TABLE catalog_offering ADD CONSTRAINT offering_alias_source_match FOREIGN KEY (alias_id, source_id) "
        "REFERENCES catalog_modelalias (id, source_id) DEFERRABLE INITIALLY DEFERRED")


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0006_offering_alias_source_key"),
        ("sources", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
