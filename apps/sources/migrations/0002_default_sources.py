"""Create the default sources (see apps/sources/defaults.py)."""

from django.db import migrations

from apps.sources.defaults import sources_ensure_defaults


def create(apps, schema_editor):
    sources_ensure_defaults(apps.get_model("sources", "Source"))


class Migration(migrations.Migration):
    dependencies = [("sources", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
