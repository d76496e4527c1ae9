"""Reads for sources: a source's timeline of accepted sightings, and how fresh its data is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, Q

from .models import Sighting, Snapshot, Source


@dataclass
class Look:
    """Consecutive sightings of one document in a source's timeline, collapsed into one stretch."""

    snapshot_id: int
    first_at: datetime  # the first sighting in the stretch
    last_at: datetime  # the last sighting in the stretch: when the document was last confirmed


def source_timeline(source_id: int) -> list[Look]:
    """Sightings of the source's accepted snapshots in time order, consecutive looks at one document merged.

    Ties in observation time are broken by content hash, never by arrival order
    (invariant 4). A document seen, replaced, and seen again gives two stretches.
    """
    rows = (Sighting.objects.filter(source_id=source_id, snapshot__parse_status=Snapshot.Status.OK)
            .order_by("observed_at", "snapshot__sha256").values_list("snapshot_id", "observed_at"))
    looks: list[Look] = []
    for snapshot_id, at in rows.iterator(chunk_size=5000):
        if looks and looks[-1].snapshot_id == snapshot_id:
            looks[-1].last_at = at
        else:
            looks.append(Look(snapshot_id, at, at))
    return looks


def previous_accepted_snapshot_id(snapshot: Snapshot) -> int | None:
    """The id of the accepted snapshot the source showed last before this one was first seen (by observation
    time). Its id only: the row holds the whole document (1.5 MB for a LiteLLM file), which the shrink guard,
    run on every ingest, does not read."""
    return (Sighting.objects.filter(source_id=snapshot.source_id, snapshot__parse_status=Snapshot.Status.OK,
                                    observed_at__lt=snapshot.observed_at)
            .exclude(snapshot_id=snapshot.pk)
            .order_by("-observed_at", "-snapshot__sha256").values_list("snapshot_id", flat=True).first())


@dataclass(frozen=True)
class Freshness:
    data_as_of: datetime | None  # the newest data: a document's own date, else its newest observation
    last_fetched_at: datetime | None  # the last time tokenwatch looked (fetch or file), whatever it found
    held: int  # snapshots waiting for a curator


def sources_freshness() -> dict[int, Freshness]:
    """Per source: the date of its newest accepted data, when it was last looked at, and held snapshots."""
    newest: dict[int, datetime] = {}
    per_snapshot = (Sighting.objects.filter(snapshot__parse_status=Snapshot.Status.OK)
                    .values("snapshot_id").annotate(at=Max("observed_at"))
                    .values_list("source_id", "snapshot__stated_at", "at"))
    for source_id, stated_at, seen_at in per_snapshot:
        # A document that dates itself is as old as it says, however recently it was fetched.
        at = stated_at or seen_at
        if source_id not in newest or at > newest[source_id]:
            newest[source_id] = at
    looked = dict(Sighting.objects.values("source_id")
                  .annotate(at=Max("created_at")).values_list("source_id", "at"))
    held = dict(Snapshot.objects.filter(parse_status=Snapshot.Status.HELD).values("source_id")
                .annotate(n=Count("id")).values_list("source_id", "n"))
    ids = set(Source.objects.filter(Q(pk__in=newest) | Q(pk__in=looked) | Q(pk__in=held)).values_list("pk",
                                                                                                    flat=True))
    return {pk: Freshness(newest.get(pk), looked.get(pk), held.get(pk, 0)) for pk in ids}


def sources_fetched_ids() -> set[int]:
    """Sources tokenwatch has fetched over the network at least once (a file or an upload is not a fetch)."""
    return set(Sighting.objects.filter(fetched_at__isnull=False).values_list("source_id", flat=True).distinct())


@dataclass(frozen=True)
class LoadedFiles:
    """A source's accepted snapshots that came from files: how many, and the dates they describe."""

    key: str
    name: str
    snapshots: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class DemoData:
    """What a database that was never fetched into shows: files only (``load_demo``'s bundled snapshots)."""

    sources: list[LoadedFiles]
    not_fetched: list[str]  # names of sources scheduled to fetch that have not fetched yet


def demo_data() -> DemoData | None:
    """The loaded files and their dates while nothing has been fetched over the network, else None.

    On such a machine (the offline demo, a fresh ``make run``) old data and never-fetched sources are
    the expected state, not a failure: the overview says what the data is instead of warning.
    """
    if Sighting.objects.filter(fetched_at__isnull=False).exists():
        return None
    rows = (Snapshot.objects.filter(parse_status=Snapshot.Status.OK)
            .values("source__key", "source__name")
            .annotate(n=Count("id"), first_at=Min("observed_at"), last_at=Max("observed_at"))
            .order_by("source__name"))
    loaded = [LoadedFiles(r["source__key"], r["source__name"], r["n"], r["first_at"], r["last_at"]) for r in rows]
    if not loaded:
        return None
    keys = {f.key for f in loaded}
    waiting = [s.name for s in Source.objects.filter(enabled=True).exclude(url="").exclude(schedule="")
               .order_by("name") if s.key not in keys]
    return DemoData(loaded, waiting)
