"""manage.py ingest KEY [--file PATH ...] [--observed-at ISO8601]

Without --file, fetches the source's URL. Ends with one summary line per
document; exits non-zero (with one plain line, no traceback) when any failed.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, InterfaceError
from django.utils.dateparse import parse_date, parse_datetime

from apps.sources.models import IngestRun, Source
from apps.sources.services import MAX_UPLOAD_BYTES, FetchMeta, one_line, source_fetch, source_ingest_bytes


def parse_observed_at(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is not None:
            parsed = datetime(day.year, day.month, day.day)
    if parsed is None:
        raise CommandError(f"--observed-at {value!r} is not an ISO 8601 date or date-time (e.g. 2025-02-06T10:56Z)")
    return parsed


class Command(BaseCommand):
    help = "Fetch a source, or ingest files for it, through the snapshot pipeline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="Source key, e.g. litellm (see the admin's Sources list).")
        parser.add_argument("--file", action="append", dest="files", default=[], metavar="PATH",
                            help="Ingest this file instead of fetching (repeatable).")
        parser.add_argument("--observed-at", dest="observed_at", default=None,
                            help="When the file describes the market (ISO 8601); needed by formats without a date.")

    def handle(self, *args: object, **options: object) -> None:
        key = str(options["key"])
        try:
            source = Source.objects.get(key=key)
        except Source.DoesNotExist:
            known = ", ".join(Source.objects.values_list("key", flat=True)) or "none"
            raise CommandError(f"no source {key!r} (known: {known})") from None
        observed_at = parse_observed_at(str(options["observed_at"])) if options["observed_at"] else None
        files: list[str] = list(options["files"])  # type: ignore[arg-type]

        runs: list[IngestRun] = []
        if not files:
            runs.append(source_fetch(source=source, trigger=IngestRun.Trigger.COMMAND))
        else:
            show_bar = len(files) > 1 and sys.stderr.isatty()
            iterator = files
            if show_bar:
                from tqdm import tqdm

                iterator = tqdm(files, desc=f"ingest {key}", unit="file", file=sys.stderr)
            for name in iterator:
                path = Path(name)
                try:
                    if path.stat().st_size > MAX_UPLOAD_BYTES:  # refuse before reading it all into memory
                        raise CommandError(f"{path}: the file is {path.stat().st_size:,} bytes, over the "
                                           f"{MAX_UPLOAD_BYTES:,}-byte limit")
                    content = path.read_bytes()
                except OSError as exc:
                    raise CommandError(f"{path}: cannot read the file ({exc.strerror})") from None
                try:
                    runs.append(source_ingest_bytes(
                        source=source, content=content, trigger=IngestRun.Trigger.COMMAND, observed_at=observed_at,
                        meta=FetchMeta(filename=path.name),
                    ))
                except (DatabaseError, InterfaceError) as exc:
                    # What a task would retry (the server went away, a deadlock's victim): this file's
                    # transaction rolled back; the files before it are in. One line, not a traceback.
                    done = "; ".join(run.message for run in runs)
                    raise CommandError(
                        f"{path.name}: the database failed mid-ingest ({one_line(str(exc), 200)}); nothing was "
                        f"changed for this file, run the command again" + (f". Done before it: {done}" if done else "")
                    ) from None
        failed = [r for r in runs if r.status == IngestRun.Status.FAILED]
        for run in runs:
            if run.status != IngestRun.Status.FAILED:
                self.stdout.write(run.message)
        if failed:
            raise CommandError("; ".join(r.message for r in failed))
