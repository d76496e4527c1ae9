"""PostgreSQL: a market price keeps its database key to the price it chose, not to that price's source,
provider and model.

A market price is derived: ``apps.pricing.market.market_prices_refresh`` computes every column from the
current source prices, in the transaction that changed them, and a full refresh rebuilds the table from
nothing (tests/pricing/test_market.py: the refresh is a pure function of current prices). Its provider,
model and source are copies of the chosen price's offering's, kept for filters and joins; the key to the
price (kept) ties the row to its evidence. The three copied keys were ~7,500 of the ~39,000 deferred checks
at the COMMIT of the newest LiteLLM file into an empty database, where those checks were a fifth of the
ingest (bench/ingest.py).

Deleting a provider, model or source through Django still deletes its market prices (on_delete=CASCADE is
applied by Django's collector, not by these constraints), and a full refresh drops any row whose price's
offering no longer names it. The fields stay ForeignKeys in the models; SQLite keeps its keys.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore, single_column_keys_drop


def drop(apps, schema_editor):
    single_column_keys_drop(schema_editor, "pricing_marketprice", ["provider_id", "model_id", "source_id"])


def restore(apps, schema_editor):
    foreign_keys_restore(apps, schema_editor, "pricing.MarketPrice", ["provider", "model", "source"])


class Migration(migrations.Migration):

    dependencies = [("pricing", "0008_drop_implied_price_foreign_keys")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
