"""Copy each offering's provider onto its prices, for a provider filter that is one index range;
index prices by start date, for ordering by it and pulling recent intervals.

Added nullable, filled from the offering, then made NOT NULL. On PostgreSQL a
composite foreign key (offering_id, provider_id) -> catalog_offering (id,
provider_id) makes a copy that disagrees with its offering impossible, and
cascades should an offering's provider ever be corrected.
"""

import django.db.models.deletion
from django.db import migrations, models

FILL = """
UPDATE pricing_price SET provider_id = (
    SELECT catalog_offering.provider_id FROM catalog_offering WHERE catalog_offering.id = pricing_price.offering_id
)
"""

POSTGRES_CONSTRAINTS = """
ALTER TABLE catalog_offering ADD CONSTRAINT offering_id_provider UNIQUE (id, provider_id);
ALTER TABLE pricing_price ADD CONSTRAINT price_offering_provider_match
    FOREIGN KEY (offering_id, provider_id) REFERENCES catalog_offering (id, provider_id)
    ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED;
"""

POSTGRES_CONSTRAINTS_DROP = """
ALTER TABLE pricing_price DROP CONSTRAINT IF EXISTS price_offering_provider_match;
ALTER TABLE catalog_offering DROP CONSTRAINT IF EXISTS offering_id_provider;
"""


def fill(apps, schema_editor):
    schema_editor.execute(FILL)
    if schema_editor.connection.vendor == "postgresql":
        # Check the new foreign key now: ALTER TABLE refuses to run with deferred checks pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def postgres_constraints(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_CONSTRAINTS)


def postgres_constraints_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_CONSTRAINTS_DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
        ("pricing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="price",
            name="provider",
            field=models.ForeignKey(
                db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="prices",
                to="catalog.provider"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="price",
            name="provider",
            field=models.ForeignKey(
                db_index=False, help_text="The offering's provider (a copy, for filtering).",
                on_delete=django.db.models.deletion.PROTECT, related_name="prices", to="catalog.provider"),
        ),
        migrations.AddIndex(
            model_name="price",
            index=models.Index(fields=["provider", "id", "effective_from", "effective_to"], name="price_provider_id"),
        ),
        migrations.AddIndex(
            model_name="price",
            index=models.Index(fields=["effective_from", "id"], name="price_from_id"),
        ),
        migrations.RunPython(postgres_constraints, postgres_constraints_drop),
    ]
