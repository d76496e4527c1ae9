"""PostgreSQL: an observation's offering and snapshot, a price's snapshot and a market price's price are checked
once per statement, a set at a time (apps/common/statementkeys.py), in place of their foreign keys' one deferred
check per row at COMMIT: ~12,600 checks for the newest LiteLLM file into an empty database (bench/README.md,
"ingest, seventh pass").

The same rows are refused: an observation naming an offering or snapshot that does not exist, a price naming a
snapshot that does not exist, a market price naming a price that does not exist; and deleting, or changing the
id of, an offering, snapshot or price that one of them names. The refusal comes at the end of the statement
instead of at COMMIT. A price's composite key to its offering and provider stayed a foreign key here (for its ON
UPDATE CASCADE); 0012 checks it per statement too, with a trigger for the cascade. SQLite keeps its keys.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore
from apps.common.statementkeys import StatementKey, keys_to_statements, statements_drop

KEYS = [
    StatementKey("pricing_observation_offering", "pricing_priceobservation", ("offering_id",), "catalog_offering",
                 ("id",), "an offering"),
    StatementKey("pricing_observation_snapshot", "pricing_priceobservation", ("snapshot_id",), "sources_snapshot",
                 ("id",), "a snapshot"),
    StatementKey("pricing_price_snapshot", "pricing_price", ("snapshot_id",), "sources_snapshot", ("id",),
                 "a snapshot"),
    StatementKey("pricing_market_price", "pricing_marketprice", ("price_id",), "pricing_price", ("id",), "a price"),
]


def forwards(apps, schema_editor):
    keys_to_statements(schema_editor, KEYS)


def backwards(apps, schema_editor):
    if not statements_drop(schema_editor, KEYS):
        return
    foreign_keys_restore(apps, schema_editor, "pricing.PriceObservation", ["offering", "snapshot"])
    foreign_keys_restore(apps, schema_editor, "pricing.Price", ["snapshot"])
    foreign_keys_restore(apps, schema_editor, "pricing.MarketPrice", ["price"])


class Migration(migrations.Migration):

    dependencies = [
        ("pricing", "0010_price_fillfactor_for_heap_only_confirmations"),
        ("catalog", "0007_keys_per_statement"),
        ("sources", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
