"""Keep "~40 chips" approximate: a flag on the run, set for runs already stored whose notes say so (the
curated-CSV parser wrote "accelerator count is approximate" into the notes and kept only the number)."""

from django.db import migrations, models


def mark_approximate(apps, schema_editor):
    BenchmarkRun = apps.get_model("benchmarks", "BenchmarkRun")
    BenchmarkRun.objects.filter(hardware__isnull=False, notes__icontains="accelerator count is approximate").update(
        accelerator_count_approximate=True)


class Migration(migrations.Migration):

    dependencies = [
        ("benchmarks", "0002_exact_money"),
    ]

    operations = [
        migrations.AddField(
            model_name="benchmarkrun",
            name="accelerator_count_approximate",
            field=models.BooleanField(default=False,
                                      help_text="The source gives the accelerator count as approximate (~40)."),
        ),
        migrations.RunPython(mark_approximate, migrations.RunPython.noop),
    ]
