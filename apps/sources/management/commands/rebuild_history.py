"""manage.py rebuild_history [--source KEY ...]

Recompute price and hardware-price histories (intervals, first seen, last confirmed,
offering attributes) from the stored sightings, without parsing anything: after an
upgrade that adds derived columns, or to check that history is what the snapshots say
(a second run changes nothing).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.module_loading import import_string

from apps.sources.models import Source
from apps.sources.registry import get_format


class Command(BaseCommand):
    help = "Rebuild the histories of sources (all by default) from their accepted sightings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", action="append", default=[], help="Only this source key (repeatable).")

    def handle(self, *args: object, **options: object) -> None:
        keys: list[str] = list(options["source"])  # type: ignore[arg-type]
        sources = Source.objects.filter(key__in=keys) if keys else Source.objects.all()
        missing = set(keys) - set(sources.values_list("key", flat=True))
        if missing:
            raise CommandError(f"no source {', '.join(sorted(missing))}")
        for source in sources:
            rebuilt = source_history_rebuild(source)
            if rebuilt is not None:
                self.stdout.write(f"{source.key}: {rebuilt} offerings rebuilt")


def source_history_rebuild(source: Source) -> int | None:
    """Rebuild one source's history under its ingest lock; None when its format keeps no history."""
    spec = get_format(source.format)
    if spec.rebuild is None:
        return None
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        status = import_string(spec.rebuild)(source_id=source.pk)
    return sum(1 for state in status.values() if state != "unchanged")
