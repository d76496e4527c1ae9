"""PostgreSQL: drop the two single-column foreign keys of a price that its composite key already implies.

``price_offering_provider_match`` (migration 0002) references ``catalog_offering (id, provider_id)``: a
price whose offering does not exist, or whose provider is not its offering's, is refused by it alone, and the
offering's own foreign key to its provider covers the provider. The single-column keys checked the same
rows again: two of the ~46,000 deferred checks an ingest of the newest LiteLLM file paid at COMMIT, about a
seventh of them (bench/ingest.py). SQLite has no composite key, so it keeps both.

Django's on_delete (CASCADE from the offering, PROTECT from the provider) is applied by Django's collector,
not by these constraints, and is unchanged; the fields stay ForeignKeys in the models.
"""

from django.db import migrations

from apps.common.pgkeys import foreign_keys_restore, single_column_keys_drop


def drop(apps, schema_editor):
    single_column_keys_drop(schema_editor, "pricing_price", ["offering_id", "provider_id"])


def restore(apps, schema_editor):
    foreign_keys_restore(apps, schema_editor, "pricing.Price", ["offering", "provider"])


class Migration(migrations.Migration):

    dependencies = [("pricing", "0007_drop_redundant_indexes")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
