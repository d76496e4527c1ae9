"""PostgreSQL: a price's (offering, provider) is checked once per statement too (apps/common/statementkeys.py), in
place of the last foreign key of the price tables, ``price_offering_provider_match`` (migration 0002): one deferred
check per price at COMMIT, 3,383 for the newest LiteLLM file into an empty database (bench/README.md, "ingest,
seventh pass").

The same is refused: a price whose offering does not exist or has another provider (INSERT, COPY, UPDATE), and
deleting an offering that a price names. Its ON UPDATE CASCADE is kept by a trigger: an offering given another
provider (a curator's correction) or id carries it to its prices. The price's snapshot (0011) is checked by the
same statement trigger, so 0011's function for prices is replaced by one that checks both keys. SQLite keeps its
keys.
"""

from django.db import migrations

from apps.common.statementkeys import StatementKey, create_sql, drop_sql, keys_to_statements

PRICE_SNAPSHOT = StatementKey("pricing_price_snapshot", "pricing_price", ("snapshot_id",), "sources_snapshot", ("id",),
                              "a snapshot")
PRICE_OFFERING = StatementKey("pricing_price_offering", "pricing_price", ("offering_id", "provider_id"),
                              "catalog_offering", ("id", "provider_id"), "an offering of its provider",
                              cascade_update=True)
KEYS = [PRICE_OFFERING]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in drop_sql([PRICE_SNAPSHOT]):
        schema_editor.execute(sql)
    keys_to_statements(schema_editor, [PRICE_SNAPSHOT, PRICE_OFFERING])


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in drop_sql([PRICE_SNAPSHOT, PRICE_OFFERING]):
        schema_editor.execute(sql)
    for sql in create_sql([PRICE_SNAPSHOT]):
        schema_editor.execute(sql)
    schema_editor.execute(
        "ALTER TABLE pricing_price ADD CONSTRAINT price_offering_provider_match FOREIGN KEY (offering_id, provider_id) "
        "REFERENCES catalog_offering (id, provider_id) ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED")


class Migration(migrations.Migration):

    dependencies = [("pricing", "0011_keys_per_statement")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
