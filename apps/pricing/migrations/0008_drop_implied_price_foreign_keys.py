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

FIND = """
SELECT c.conname FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.conrelid = 'pricing_price'::regclass AND c.contype = 'f' AND array_length(c.conkey, 1) = 1
  AND a.attname IN ('offering_id', 'provider_id')
"""


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FIND)
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        schema_editor.execute(f"ALTER TABLE pricing_price DROP CONSTRAINT {schema_editor.quote_name(name)}")


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    price = apps.get_model("pricing", "Price")
    for name in ("offering", "provider"):
        field = price._meta.get_field(name)
        schema_editor.execute(schema_editor._create_fk_sql(price, field, "_fk_%(to_table)s_%(to_column)s"))


class Migration(migrations.Migration):

    dependencies = [("pricing", "0007_drop_redundant_indexes")]

    operations = [migrations.RunPython(drop, restore, elidable=False)]
