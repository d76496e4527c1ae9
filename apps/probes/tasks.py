"""Celery tasks: thin. Load by id, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from apps.sources.models import IngestRun

from .load import LimitError
from .models import ProbeTarget
from .services import ProbeError, probe_target_run

logger = logging.getLogger(__name__)


# The run stops itself at TOKENWATCH_PROBE_MAX_WALL_S (480 s by default); the task's limits leave room to
# store the samples. No autoretry: a retried probe is another paid load, and the next schedule comes anyway.
@shared_task(acks_late=True, soft_time_limit=settings.TOKENWATCH_PROBE_MAX_WALL_S + 60,
             time_limit=settings.TOKENWATCH_PROBE_MAX_WALL_S + 90)
def probe_target(target_id: int, requests: int | None = None, concurrency: int | None = None,
                 input_tokens: int | None = None, output_tokens: int | None = None) -> int | None:
    """Probe one enabled target (beat: 'probe-target:<id>'); returns the BenchmarkRun id, or None."""
    target = ProbeTarget.objects.select_related("provider", "model").filter(pk=target_id, enabled=True).first()
    if target is None:
        return None
    try:
        outcome = probe_target_run(target=target, trigger=IngestRun.Trigger.TASK, requests=requests,
                                   concurrency=concurrency, input_tokens=input_tokens, output_tokens=output_tokens)
    except (ProbeError, LimitError) as exc:
        # A configuration problem: retrying cannot help; the message names no key.
        logger.warning("probe %s refused: %s", target.name, exc)
        return None
    return outcome.probe_run.benchmark_run_id if outcome.probe_run else None
