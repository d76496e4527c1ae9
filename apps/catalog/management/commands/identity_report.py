"""manage.py identity_report [--by-provider] [--resolve]

How many offerings of each source resolve to a canonical model; with
--resolve, first re-run the rules over unresolved aliases.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count, Q

from apps.catalog.models import Offering
from apps.catalog.services import aliases_reresolve


class Command(BaseCommand):
    help = "Share of offerings resolved to a canonical model, per source (and provider)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by-provider", action="store_true")
        parser.add_argument("--resolve", action="store_true", help="Re-run rules on unresolved aliases first.")
        parser.add_argument("--mode", default="", help="Only offerings of this mode, e.g. chat.")

    def handle(self, *args: object, **options: object) -> None:
        if options["resolve"]:
            self.stdout.write(f"newly resolved aliases: {aliases_reresolve()}")
        queryset = Offering.objects.all()
        if options["mode"]:
            queryset = queryset.filter(mode=options["mode"])
        keys = ["source__key", "provider__slug"] if options["by_provider"] else ["source__key"]
        rows = (queryset.values(*keys)
                .annotate(total=Count("id"), resolved=Count("id", filter=Q(alias__model__isnull=False)))
                .order_by(*keys))
        self.stdout.write(f"{'source':14s} {'provider':28s} {'resolved':>9s} {'total':>7s} {'share':>6s}")
        for row in rows:
            share = row["resolved"] / row["total"] * 100 if row["total"] else 0
            self.stdout.write(f"{row['source__key']:14s} {row.get('provider__slug', ''):28s} "
                              f"{row['resolved']:9d} {row['total']:7d} {share:5.1f}%")
