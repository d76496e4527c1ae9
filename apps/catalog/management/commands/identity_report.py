"""manage.py identity_report [--by-provider] [--resolve] [--mode MODE] [--every-offering] [--tail N]

How many offerings of each source resolve to a canonical model, on each source's newest
accepted snapshot (the offerings that snapshot states), all modes and chat separately; then
the unresolved tail: the raw ids left unresolved, ranked by how many offerings they cover.
``--every-offering`` counts every offering ever seen instead (the old report);
``--resolve`` first re-runs the rules over unresolved aliases.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Q, QuerySet

from apps.catalog.models import Offering
from apps.catalog.services import aliases_reresolve
from apps.sources.models import Snapshot, Source

CHAT = "chat"


def newest_snapshots() -> dict[str, Snapshot]:
    """Each source's newest accepted snapshot (by observation time), by source key."""
    newest: dict[str, Snapshot] = {}
    for source in Source.objects.order_by("key"):
        snapshot = (Snapshot.objects.filter(source=source, parse_status=Snapshot.Status.OK)
                    .order_by("-observed_at", "-id").only("id", "observed_at", "source_id").first())
        if snapshot is not None:
            newest[source.key] = snapshot
    return newest


def offerings_of(snapshot: Snapshot | None, source_key: str) -> QuerySet[Offering]:
    """The offerings a snapshot states (or, without one, every offering of the source)."""
    queryset = Offering.objects.filter(source__key=source_key)
    if snapshot is not None:
        queryset = queryset.filter(observations__snapshot=snapshot).distinct()
    return queryset


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
        newest = {} if every else newest_snapshots()
        source_keys = sorted(set(Offering.objects.values_list("source__key", flat=True).distinct()))
        if not every:
            source_keys = [key for key in source_keys if key in newest]
        modes = [str(options["mode"])] if options["mode"] else ["", CHAT]
        keys = ["source__key", "provider__slug"] if options["by_provider"] else ["source__key"]

        self.stdout.write(f"{'source':14s} {'provider':28s} {'mode':6s} {'resolved':>9s} {'total':>7s} {'share':>6s}"
                          f"  snapshot")
        for source_key in source_keys:
            snapshot = newest.get(source_key)
            stamp = f"#{snapshot.pk} {snapshot.observed_at:%Y-%m-%d}" if snapshot else "every offering"
            for mode in modes:
                queryset = offerings_of(snapshot, source_key)
                if mode:
                    queryset = queryset.filter(mode=mode)
                rows = (Offering.objects.filter(pk__in=queryset.values("pk")).values(*keys)
                        .annotate(total=Count("id"), resolved=Count("id", filter=Q(alias__model__isnull=False)))
                        .order_by(*keys))
                for row in rows:
                    share = row["resolved"] / row["total"] * 100 if row["total"] else 0
                    self.stdout.write(f"{row['source__key']:14s} {row.get('provider__slug', ''):28s} "
                                      f"{mode or 'all':6s} {row['resolved']:9d} {row['total']:7d} {share:5.1f}%"
                                      f"  {stamp}")

        tail = int(options["tail"])
        if tail <= 0:
            return
        tail_mode = str(options["mode"]) or CHAT
        for source_key in source_keys:
            queryset = offerings_of(newest.get(source_key), source_key).filter(alias__model__isnull=True)
            queryset = queryset.filter(mode=tail_mode)
            ranked = (Offering.objects.filter(pk__in=queryset.values("pk"))
                      .values("alias__raw_id").annotate(offerings=Count("id"))
                      .order_by("-offerings", "alias__raw_id"))
            total = queryset.count()
            self.stdout.write(f"\nunresolved {tail_mode} tail of {source_key}: {total} offerings")
            for row in ranked[:tail]:
                self.stdout.write(f"  {row['offerings']:5d}  {row['alias__raw_id']}")
