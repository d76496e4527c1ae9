"""Cron schedules kept in the database for Celery beat (django-celery-beat), one periodic task per object."""

from __future__ import annotations


def periodic_task_sync(*, name: str, schedule: str, enabled: bool, task: str, args: str) -> None:
    """Create, update or disable the beat task ``name`` so it runs ``task(args)`` on a five-field cron
    ``schedule`` (UTC); a blank or malformed schedule, or ``enabled=False``, disables it."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    parts = schedule.split()
    if not (enabled and len(parts) == 5):
        PeriodicTask.objects.filter(name=name).update(enabled=False)
        return
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week,
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=name, defaults={"task": task, "crontab": crontab, "args": args, "enabled": True})
