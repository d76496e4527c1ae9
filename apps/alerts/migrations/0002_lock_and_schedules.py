from django.db import migrations


def forwards(apps, schema_editor):
    """The derivation's lock row, and beat schedules: the sweep every 5 minutes, the digest daily at 06:00 UTC."""
    apps.get_model("alerts", "DeriveLock").objects.get_or_create(pk=1)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(name="alerts-sweep", defaults={
        "task": "apps.alerts.tasks.alerts_sweep", "interval": every, "enabled": True,
        "description": "Derives market events a lost message left, checks them against the watches and sends "
                       "the deliveries that are due (invariant 8).",
    })
    daily, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="6", day_of_month="*", month_of_year="*",
                                                     day_of_week="*", timezone="UTC")
    PeriodicTask.objects.get_or_create(name="alerts-daily-digest", defaults={
        "task": "apps.alerts.tasks.digests_send", "crontab": daily, "enabled": True,
        "description": "One email per digest watch with the previous UTC day's alerts.",
    })


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=["alerts-sweep", "alerts-daily-digest"]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("alerts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
