"""manage.py snapshot_review ID (--accept | --reject) [--by NAME]

A curator's decision on a snapshot the shrink guard held: accepting applies it,
rejecting keeps its bytes and leaves history as if it had never arrived.
Without --accept or --reject, shows why it is held.
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.sources.models import IngestRun, Snapshot
from apps.sources.services import ReviewError, snapshot_review


class Command(BaseCommand):
    help = "Accept or reject a snapshot held by the shrink guard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("snapshot_id", type=int)
        decision = parser.add_mutually_exclusive_group()
        decision.add_argument("--accept", action="store_true", help="Apply the held snapshot.")
        decision.add_argument("--reject", action="store_true", help="Refuse it; history stays as it is.")
        parser.add_argument("--by", default="", help="Who decides (default: the shell user).")

    def handle(self, *args: object, **options: object) -> None:
        snapshot = Snapshot.objects.select_related("source").defer("content").filter(
            pk=options["snapshot_id"]).first()
        if snapshot is None:
            raise CommandError(f"no snapshot with id {options['snapshot_id']}")
        if not options["accept"] and not options["reject"]:
            self.stdout.write(f"snapshot {snapshot.pk} ({snapshot}): {snapshot.parse_status}"
                              + (f": {snapshot.error}" if snapshot.error else ""))
            if snapshot.parse_status == Snapshot.Status.HELD:
                self.stdout.write(f"decide with: manage.py snapshot_review {snapshot.pk} --accept|--reject")
            return
        by = str(options["by"] or _user())
        try:
            run = snapshot_review(snapshot=snapshot, accept=bool(options["accept"]), by=by)
        except ReviewError as exc:
            raise CommandError(str(exc)) from None
        if run.status in (IngestRun.Status.FAILED, IngestRun.Status.HELD):
            raise CommandError(run.message)
        self.stdout.write(run.message)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "command line"
