"""manage.py reparse (--source KEY | SNAPSHOT_ID ...)

Parse stored snapshots again after a parser fix, without fetching: in
observation order, each in its own transaction, one summary line each.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.sources.models import IngestRun, Snapshot
from apps.sources.services import snapshot_reparse


class Command(BaseCommand):
    help = "Re-parse stored snapshots (by id, or every snapshot of a source) without fetching."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("snapshot_ids", nargs="*", type=int)
        parser.add_argument("--source", default="", help="Every snapshot of this source key.")

    def handle(self, *args: object, **options: object) -> None:
        ids: list[int] = list(options["snapshot_ids"])  # type: ignore[arg-type]
        if not ids and not options["source"]:
            raise CommandError("name snapshot ids or --source KEY")
        queryset = Snapshot.objects.select_related("source").defer("content").order_by("observed_at", "sha256")
        queryset = queryset.filter(source__key=options["source"]) if options["source"] else queryset.filter(
            pk__in=ids)
        snapshots = list(queryset)
        missing = set(ids) - {s.pk for s in snapshots}
        if missing:
            raise CommandError(f"no snapshot with id {', '.join(map(str, sorted(missing)))}")
        failed = []
        for snapshot in snapshots:
            run = snapshot_reparse(snapshot=Snapshot.objects.select_related("source").get(pk=snapshot.pk))
            if run.status == IngestRun.Status.FAILED:
                failed.append(run)
            else:
                self.stdout.write(run.message)
        if failed:
            raise CommandError("; ".join(r.message for r in failed))
