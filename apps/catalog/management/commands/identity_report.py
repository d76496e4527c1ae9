"""manage.py identity_report [--by-provider] [--resolve] [--mode MODE] [--every-offering] [--tail N]

How many offerings of each source resolve to a canonical model, on each source's newest
accepted snapshot (the offerings that snapshot states), all modes and chat separately; then
the unresolved tail: the raw ids left unresolved, ranked by how many offerings they cover.
``--every-offering`` counts every offering ever seen instead (the old report);
``--resolve`` first re-runs the rules over unresolved aliases. The numbers come from
``apps.quality.selectors`` (identity_coverage, unresolved_tail), which the data-quality page shows too.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from apps.catalog.services import aliases_reresolve
from apps.quality.selectors import CHAT, identity_coverage, unresolved_tail


class Command(BaseCommand):
    help = "Share of offerings resolved to a canonical model on each source's newest snapshot, and the unresolved tail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by-provider", action="store_true")
        parser.add_argument("--resolve", action="store_true", help="Re-run rules on unresolved aliases first.")
        parser.add_argument("--mode", default="", help="Only offerings of this mode, e.g. chat.")
        parser.add_argument("--every-offering", action="store_true",
                            help="Count every offering ever seen, not the newest snapshot's.")
        parser.add_argument("--tail", type=int, default=20, help="Unresolved raw ids to list per source (0: none).")

    def handle(self, *args: object, **options: object) -> None:
        if options["resolve"]:
            self.stdout.write(f"newly resolved aliases: {aliases_reresolve()}")
        every = bool(options["every_offering"])
        modes = (str(options["mode"]),) if options["mode"] else ("", CHAT)
        rows = identity_coverage(modes=modes, by_provider=bool(options["by_provider"]), every_offering=every)

        self.stdout.write(f"{'source':14s} {'provider':28s} {'mode':6s} {'resolved':>9s} {'total':>7s} {'share':>6s}"
                          f"  snapshot")
        for row in rows:
            stamp = f"#{row.snapshot_id} {row.observed_at:%Y-%m-%d}" if row.snapshot_id else "every offering"
            share = row.resolved / row.total * 100 if row.total else 0
            self.stdout.write(f"{row.source:14s} {row.provider:28s} {row.mode or 'all':6s} {row.resolved:9d} "
                              f"{row.total:7d} {share:5.1f}%  {stamp}")

        tail = int(options["tail"])
        if tail <= 0:
            return
        tail_mode = str(options["mode"]) or CHAT
        for source_key in sorted({row.source for row in rows}):
            total, ranked = unresolved_tail(source_key=source_key, mode=tail_mode, limit=tail, every_offering=every)
            self.stdout.write(f"\nunresolved {tail_mode} tail of {source_key}: {total} offerings")
            for raw_id, offerings in ranked:
                self.stdout.write(f"  {offerings:5d}  {raw_id}")
