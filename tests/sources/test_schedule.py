"""Beat schedules live in the database and follow each source's cron expression."""

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import PeriodicTask

from apps.sources.services import source_schedule_sync
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def test_it_mirrors_an_enabled_source_into_a_periodic_task():
    source = get_source("litellm")
    source_schedule_sync(source=source)
    task = PeriodicTask.objects.get(name="fetch-source:litellm")
    assert task.enabled and task.task == "apps.sources.tasks.fetch_source" and task.args == f"[{source.pk}]"
    assert (task.crontab.minute, task.crontab.hour) == ("0", "*/6")

    source.enabled = False
    source_schedule_sync(source=source)
    task.refresh_from_db()
    assert not task.enabled


def test_a_bad_cron_expression_is_refused():
    source = get_source("litellm")
    source.schedule = "every day"
    with pytest.raises(ValidationError):
        source.full_clean()
