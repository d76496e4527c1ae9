from django.db import migrations


def schedule(apps, schema_editor):
    """Beat runs the work sweep every 5 minutes (schedules live in the database, editable in the admin)."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(name="sweep-work", defaults={
        "task": "apps.sources.tasks.sweep_work", "interval": every, "enabled": True,
        "description": "Marks dead ingest runs failed and queues snapshots whose message was lost (invariant 8).",
    })


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="sweep-work").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("sources", "0005_market_prices"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
