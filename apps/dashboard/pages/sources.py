"""Sources (/sources/): every source's health (fresh or stale by the date of its newest data, its last fetch and
outcome, held snapshots), the snapshots held for a curator's review, every snapshot, and every quarantined row
with its locator and reason. Staff get links to a snapshot's raw bytes and to its admin page. Downloads:
``sources``, ``held``, ``snapshots``, ``rejections``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from apps.sources.filtersets import RejectionFilterSet, SnapshotFilterSet, SourceFilterSet
from apps.sources.models import Rejection, Snapshot, Source

from .. import selectors as sel
from ..access import analyst_view
from ..forms import error_messages
from ..tables import Column, Table
from .common import Page, download_response, paginate, render_page, selected_filters

if TYPE_CHECKING:
    from django.db.models import QuerySet

SOURCE_TABLE_COLUMNS = [
    Column("name", "Source"),
    Column("key", "Key"),
    Column("format", "Format"),
    Column("freshness", "Freshness", badge=True,
           title="By the date of the newest data against the source's limit, not by when it was last fetched"),
    # The data's date and the last look side by side: a file fetched a minute ago can be months old.
    Column("data_as_of", "Newest data", unit="UTC", kind="date",
           title="The document's own date where its format states one, else when it was last seen"),
    Column("last_fetched_at", "Last fetched", unit="UTC", kind="datetime",
           title="When tokenwatch last got a document from the source (a fetch or a file; the same bytes count)"),
    Column("held", "Held for review", kind="int", title="Snapshots waiting for a curator to accept or reject"),
    Column("freshness_note", "Why", wrap=True),
    Column("last_run_at", "Last attempt", unit="UTC", kind="datetime",
           title="The last fetch or file ingest, whatever its outcome"),
    Column("last_run_status", "Outcome", badge=True),
    Column("schedule", "Schedule", unit="cron, UTC"),
    Column("snapshots", "Snapshots", kind="int"),
    Column("failed_snapshots", "Failed", kind="int"),
    Column("offerings", "Offerings", kind="int"),
    Column("rejections", "Rejected rows", kind="int"),
    Column("latest_snapshot_id", "Latest snapshot", kind="int", link="raw_url"),
    Column("licence", "Licence"),
]
HELD_COLUMNS = [
    Column("source", "Source"),
    Column("observed_at", "Observed", unit="UTC", kind="datetime"),
    Column("id", "Snapshot", kind="int", link="review_url"),
    Column("filename", "File"),
    Column("record_count", "Records", kind="int"),
    Column("error", "Reason", wrap=True),
]
SNAPSHOT_COLUMNS = [
    Column("source", "Source"),
    Column("observed_at", "Observed", unit="UTC", kind="date"),
    Column("id", "Snapshot", kind="int", link="raw_url"),
    Column("filename", "File"),
    Column("parse_status", "Status", badge=True),
    Column("record_count", "Records", kind="int"),
    Column("reject_count", "Rejected", kind="int"),
    Column("created_count", "Created", kind="int"),
    Column("changed_count", "Changed", kind="int"),
    Column("unchanged_count", "Unchanged", kind="int"),
    Column("error", "Error", wrap=True),
    Column("sha256", "SHA-256"),
]
REJECTION_COLUMNS = [
    Column("source", "Source"),
    Column("snapshot_id", "Snapshot", kind="int", link="raw_url"),
    Column("observed_at", "Observed", kind="date"),
    Column("filename", "File"),
    Column("locator", "Locator"),
    Column("reason", "Reason", wrap=True),
    Column("raw_excerpt", "Excerpt", wrap=True),
]
SNAPSHOT_FIELDS = ["id", "source__key", "observed_at", "filename", "parse_status", "record_count", "reject_count",
                   "created_count", "changed_count", "unchanged_count", "error", "sha256"]
# What needs a person first: no data, a failed fetch, old data; then the healthy and the unloaded.
SEVERITY = {"never": 0, "stale": 2, "fresh": 3, "manual": 4}


def raw_urls(ids: pd.Series, *, staff: bool) -> list[str | None]:
    """Links to each snapshot's raw bytes, for staff only (the bytes are not for every analyst)."""
    return [reverse("snapshot-raw", args=[int(i)]) if staff and i == i and i is not None else None for i in ids]


def health_frame(keys: set[str], chosen: set[str], *, staff: bool) -> pd.DataFrame:
    """The chosen sources' health, the ones needing a person first."""
    health = sel.source_health()
    health = health[health["key"].isin(keys & chosen if chosen else keys)]
    order = [1 if failed and fresh != "never" else SEVERITY[fresh]
             for failed, fresh in zip(health["last_run_failed"], health["freshness"], strict=True)]
    health = health.assign(_order=order).sort_values(["_order", "key"], kind="stable")
    health = health.drop(columns=["_order"]).reset_index(drop=True)
    health["raw_url"] = raw_urls(health["latest_snapshot_id"], staff=staff)
    return health


def snapshots_frame(snapshots: QuerySet[Snapshot], *, staff: bool) -> pd.DataFrame:
    """The filtered snapshots, newest first, with links to their raw bytes for staff."""
    snaps = pd.DataFrame(list(snapshots.order_by("-observed_at", "-id").values(*SNAPSHOT_FIELDS)),
                         columns=SNAPSHOT_FIELDS).rename(columns={"source__key": "source"})
    snaps["raw_url"] = raw_urls(snaps["id"], staff=staff)
    return snaps


def source_tables(request: HttpRequest, *, health: pd.DataFrame, held: pd.DataFrame, snaps: pd.DataFrame,
                  rejections: pd.DataFrame, staff: bool) -> list[Table]:
    as_of = sel.today()
    return [
        Table("sources", "Sources", SOURCE_TABLE_COLUMNS, health, stem="sources", as_of=as_of,
              caption="Fresh or stale by the date of each source's newest data; last fetched is when tokenwatch "
                      "last looked."),
        Table("held", "Held for review", HELD_COLUMNS, held, stem="sources-held", as_of=as_of,
              caption="Snapshots that would end too much of a source's current prices are held, not applied, "
                      "until a curator accepts or rejects them." + (
                          " A snapshot's number opens it in the admin." if staff else ""),
              empty_message="No snapshot is held for review."),
        paginate(request, Table("snapshots", "Snapshots", SNAPSHOT_COLUMNS, snaps, stem="sources-snapshots",
                                as_of=as_of, empty_message="No snapshots match these filters."),
                 param="snapshots_page"),
        paginate(request, Table("rejections", "Rejected rows (quarantine)", REJECTION_COLUMNS, rejections,
                                stem="sources-rejections", as_of=as_of,
                                empty_message="No rejected rows match these filters: every row parsed."),
                 param="rejections_page"),
    ]


@analyst_view
def sources(request: HttpRequest) -> HttpResponse:
    """Every source's health, its snapshots, and every quarantined row with its locator and reason."""
    page = Page()
    source_filter = SourceFilterSet(request.GET, queryset=Source.objects.all())
    snapshot_filter = SnapshotFilterSet(request.GET, queryset=Snapshot.objects.all())
    rejection_filter = RejectionFilterSet(request.GET, queryset=Rejection.objects.all())
    page.errors += error_messages(source_filter.form, snapshot_filter.form, rejection_filter.form)
    staff = request.user.is_staff
    health = health_frame(set(source_filter.qs.values_list("key", flat=True)), set(request.GET.getlist("source")),
                          staff=staff)
    snaps = snapshots_frame(snapshot_filter.qs, staff=staff)
    rejections = sel.rejection_frame(rejection_filter.qs)
    rejections["raw_url"] = raw_urls(rejections["snapshot_id"], staff=staff)
    held = sel.held_frame(snapshot_filter.qs)
    # Staff open the snapshot's admin page (its sightings, rejections, bytes); the Accept and Reject actions
    # run from the admin's list of held snapshots, linked in the page's held-for-review notice.
    held["review_url"] = [reverse("admin:sources_snapshot_change", args=[int(i)]) if staff else None
                          for i in held["id"]]
    page.tables += source_tables(request, health=health, held=held, snaps=snaps, rejections=rejections, staff=staff)
    if (response := download_response(request, page.tables)) is not None:
        return response
    return render_page(request, "dashboard/sources.html", page, staff=staff, source_choices=sel.source_choices(),
                       selected=selected_filters(request.GET), rejection_filter=rejection_filter,
                       held_count=len(held))
