"""Fill the default sources' blank homepages (apps/sources/defaults.py HOMEPAGES): an export's About sheet
names a source's URL, and llm-prices and LLMPerf have no fetch URL to name (issue 13)."""

from django.db import migrations

from apps.sources.defaults import sources_fill_homepages


def fill(apps, schema_editor):
    sources_fill_homepages(apps.get_model("sources", "Source"))


class Migration(migrations.Migration):
    dependencies = [("sources", "0006_sweep_work_schedule")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
