"""Writes for sources: store a snapshot, ingest it all-or-nothing, record the run.

Flow: bytes -> Snapshot (kept even when it cannot be parsed, invariant 1) ->
parse (pure, scrapers/) -> one transaction that applies the records and marks
the snapshot ok (invariant 2). The same bytes twice are one snapshot and the
second ingest changes nothing (invariant 3).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NoReturn

from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from scrapers.gcpause import collections_paused
from scrapers.records import ParseError, ParseResult

from .models import HELD_MARK, IngestRun, Rejection, Sighting, Snapshot, Source, held_reason
from .registry import ApplyCounts, FormatSpec, ListingCount, get_format
from .screen import result_screen, storable
from .selectors import previous_accepted_snapshot_id

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class IngestError(Exception):
    """An ingest that could not happen; the message is one plain sentence for the user."""


@dataclass(frozen=True)
class FetchMeta:
    url: str = ""
    fetched_at: datetime | None = None
    http_status: int | None = None
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    filename: str = ""


def _finish(run: IngestRun, status: str, message: str = "", counts: ApplyCounts | None = None,
            rejected: int = 0) -> IngestRun:
    run.status = status
    run.message = message[:5000]
    run.finished_at = timezone.now()
    if counts is not None:
        run.created_count, run.changed_count, run.unchanged_count = counts.created, counts.changed, counts.unchanged
    run.rejected_count = rejected
    run.save()
    return run


def snapshot_store(*, source: Source, content: bytes, observed_at: datetime, meta: FetchMeta,
                   stated_at: datetime | None = None) -> tuple[Snapshot, bool]:
    """Keep the raw bytes, once per sha256 per source. Returns (snapshot, created)."""
    sha256 = hashlib.sha256(content).hexdigest()
    defaults = {
        "content": content,
        "size_bytes": len(content),
        "observed_at": observed_at,
        "stated_at": stated_at,
        "fetched_at": meta.fetched_at,
        "url": meta.url,
        "filename": meta.filename[:500],
        "http_status": meta.http_status,
        "etag": meta.etag[:500],
        "last_modified": meta.last_modified[:100],
        "content_type": meta.content_type[:200],
    }
    binary_write = connection.vendor == "postgresql"
    if binary_write:
        defaults["content"] = b""
    try:
        # The unique constraint, not a prior SELECT, settles races between workers.
        with transaction.atomic():
            snapshot, created = Snapshot.objects.get_or_create(source=source, sha256=sha256, defaults=defaults)
            if created:
                # The first look at these bytes; later looks add sightings of their own.
                Sighting.objects.create(snapshot=snapshot, source=source, observed_at=observed_at,
                                        fetched_at=meta.fetched_at)
                if binary_write:
                    _write_content_binary(snapshot.pk, content)
                    snapshot.content = content
            return snapshot, created
    except IntegrityError:
        return Snapshot.objects.get(source=source, sha256=sha256), False


def _write_content_binary(snapshot_id: int, content: bytes) -> None:
    """Send the raw bytes to PostgreSQL as a binary parameter.

    Django's psycopg cursors bind client-side, which quotes bytea into the SQL
    text: peak memory measured at about 8.5x the file. A server-side-binding
    cursor on the same connection (same transaction) sends the bytes as they are.
    """
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute("UPDATE sources_snapshot SET content = %b WHERE id = %s", [content, snapshot_id])


@collections_paused()
def source_ingest_bytes(
    *,
    source: Source,
    content: bytes,
    trigger: str,
    observed_at: datetime | None = None,
    meta: FetchMeta | None = None,
) -> IngestRun:
    """Store and ingest one document. Never raises for bad input: the run says what happened."""
    meta = meta or FetchMeta()
    run = IngestRun.objects.create(source=source, trigger=trigger, started_at=timezone.now())
    label = meta.filename or meta.url or source.key
    try:
        spec = get_format(source.format)
    except LookupError as exc:
        return _finish(run, IngestRun.Status.FAILED, f"{label}: {exc}")

    if len(content) > MAX_UPLOAD_BYTES:
        return _finish(run, IngestRun.Status.FAILED,
                       f"{label}: the file is {len(content):,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit")

    sha256 = hashlib.sha256(content).hexdigest()
    existing = Snapshot.objects.filter(source=source, sha256=sha256).defer("content").first()
    if existing is not None and existing.parse_status in SETTLED:
        return _seen_again(run, existing, label=label, when=observed_at or meta.fetched_at, meta=meta)

    result: ParseResult | None = None
    parse_error = ""
    try:
        result = spec.parse(content)
    except ParseError as exc:
        parse_error = str(exc)
    except Exception as exc:  # a parser bug: still one line for the user (and the log)
        why = _unexpected(exc, f"the parser {spec.parser} failed on {label}")
        parse_error = f"the parser failed unexpectedly ({why}); nothing was changed"

    stated = result.observed_at if result is not None else None
    when = observed_at or stated or meta.fetched_at
    if when is None:
        if not spec.needs_observed_at or result is None:
            # A broken file still gets stored (nothing is lost); its time is when we saw it.
            when = timezone.now()
        else:
            return _finish(run, IngestRun.Status.FAILED,
                           f"{label}: this {source.format} file carries no date of its own; "
                           "say when it was observed with --observed-at YYYY-MM-DD[THH:MM]")
    if timezone.is_naive(when):
        when = timezone.make_aware(when, UTC)

    snapshot, _ = snapshot_store(source=source, content=content, observed_at=when, meta=meta, stated_at=stated)
    run.snapshot = snapshot
    if result is None:
        return _fail_snapshot(run, snapshot, f"{label}: {parse_error}")
    return snapshot_apply(snapshot=snapshot, result=result, run=run, label=label)


def one_line(text: str, limit: int = 300) -> str:
    """An error text as one short, storable line (database errors span lines; a value may hold a NUL)."""
    return storable(" ".join(text.split()), limit)


def _unexpected(exc: BaseException, what: str) -> str:
    """One line for an error nobody foresaw: logged as one line, the traceback only at debug level."""
    why = one_line(f"{type(exc).__name__}: {exc}")
    logger.error("%s: %s", what, why)
    logger.debug("%s", what, exc_info=exc)
    return why


CONNECTION_LOST = "the database connection was lost mid-ingest"


def _retry_later(run: IngestRun, exc: Exception, why: str, *, what: str, message: str) -> NoReturn:
    """Raise a transient database error (``why``: see _worth_retrying) as Django's OperationalError, which the
    tasks retry on, after saying in the run why it stopped, if the database already lets us say so."""
    logger.warning("%s will be retried: %s (%s)", what, why, one_line(str(exc)))
    with contextlib.suppress(DatabaseError):
        _finish(run, IngestRun.Status.FAILED, f"{message} ({one_line(str(exc))})")
    if isinstance(exc, OperationalError | InterfaceError):
        raise exc
    raise OperationalError(str(exc)) from exc


def _worth_retrying(exc: BaseException) -> str:
    """Why a retry can succeed where this attempt failed ("" when it cannot: the file or the code is at fault).

    PostgreSQL says so by SQLSTATE:
    - class 08 (connection exception) and 57P01-57P03 (the server is shutting down, crashed, or is starting),
      and psycopg gives none for a connection that broke on the client side. Django has already reconnected
      by the time we look, so the connection itself cannot tell us;
    - class 40 (transaction rollback): a deadlock (40P01) or serialization failure (40001) with a concurrent
      transaction, e.g. two sources' ingests writing the same market rows. PostgreSQL rolled this one back so
      the other could go on; the same work run again succeeds.
    The error comes wrapped by Django, or raw from psycopg where a service uses psycopg's own cursor (COPY).
    """
    import psycopg

    if isinstance(exc, InterfaceError):
        return CONNECTION_LOST
    if isinstance(exc, OperationalError):
        exc = exc.__cause__  # type: ignore[assignment]
    if not isinstance(exc, psycopg.OperationalError):
        return ""  # SQLite: "database is locked" and the like fail the snapshot, as before
    state = exc.sqlstate
    if state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}:
        return CONNECTION_LOST
    if state.startswith("40"):
        return "the database rolled the ingest back to resolve a conflict with a concurrent transaction"
    return ""


def _fail_snapshot(run: IngestRun, snapshot: Snapshot, message: str) -> IngestRun:
    snapshot.parse_status, snapshot.error, snapshot.parsed_at = Snapshot.Status.FAILED, message[:5000], timezone.now()
    snapshot.save(update_fields=["parse_status", "error", "parsed_at"])
    return _finish(run, IngestRun.Status.FAILED, message)


# Ending a handful of offerings is ordinary churn however small the listing (one of two is 50 %):
# the share test applies from this many ended offerings up.
SHRINK_GUARD_MIN_ENDED = 10


class _Held(Exception):
    """Raised inside the apply transaction to roll it back: the snapshot waits for a curator."""


def snapshot_apply(*, snapshot: Snapshot, result: ParseResult, run: IngestRun, label: str = "") -> IngestRun:
    """Apply parsed records in one transaction; on any error nothing but the snapshot's status changes.

    The shrink guard (invariant 7) runs inside the same transaction, after the records
    are applied, so it sees exactly what the snapshot would do; a snapshot that would
    end too much of the market is rolled back whole and marked held.
    """
    spec = get_format(snapshot.source.format)
    label = label or snapshot.filename or snapshot.url or snapshot.source.key
    # Records the columns cannot hold (a 501-character key, 1e12 tokens, a NUL) are quarantined here.
    result = result_screen(result)
    try:
        with transaction.atomic():
            # One ingest per source at a time: history rebuilds read the whole
            # source, so two workers on the same source must not interleave.
            source = Source.objects.select_for_update().get(pk=snapshot.source_id)
            Snapshot.objects.filter(pk=snapshot.pk).update(parse_status=Snapshot.Status.OK, error="")
            snapshot.parse_status = Snapshot.Status.OK
            counts = spec.apply(snapshot=snapshot, result=result)
            if snapshot.review != Snapshot.Review.ACCEPTED:
                reason = shrink_check(source=source, snapshot=snapshot, spec=spec)
                if reason:
                    raise _Held(reason)
            rejects = [*result.rejects, *counts.rejects]
            Rejection.objects.filter(snapshot=snapshot).delete()
            Rejection.objects.bulk_create(
                [Rejection(snapshot=snapshot, locator=storable(r.locator, 500), reason=storable(r.reason, 1000),
                           raw_excerpt=storable(r.raw_excerpt, 2000)) for r in rejects],
                batch_size=2000,
            )
            Snapshot.objects.filter(pk=snapshot.pk).update(
                record_count=len(result.records),
                reject_count=len(rejects),
                created_count=counts.created,
                changed_count=counts.changed,
                unchanged_count=counts.unchanged,
                parsed_at=timezone.now(),
            )
    except _Held as held:
        return _hold_snapshot(run, snapshot, result, f"{label}: {HELD_MARK}{held}")
    except Exception as exc:
        why = _worth_retrying(exc)
        if not why:
            return _fail_snapshot(run, snapshot, f"{label}: ingest failed and nothing was changed ("
                                  + _unexpected(exc, f"ingest of snapshot {snapshot.pk}") + ")")
        # The database went away mid-ingest (a restart, a terminated connection) or picked this transaction as
        # a deadlock's victim: not the file's fault, and marking the snapshot failed would lose it for good
        # (the fault drills, tests/faults). The transaction rolled back, so the snapshot stays pending; the
        # task retries on this error and the sweep re-queues what is still pending.
        _retry_later(run, exc, why, what=f"ingest of snapshot {snapshot.pk}",
                     message=f"{label}: {why}; nothing was changed and the snapshot will be ingested again")
    status = IngestRun.Status.OK
    message = (f"{label}: {counts.created} created, {counts.changed} changed, "
               f"{counts.unchanged} unchanged, {len(rejects)} rejected")
    return _finish(run, status, message, counts, rejected=len(rejects))


def _hold_snapshot(run: IngestRun, snapshot: Snapshot, result: ParseResult, message: str) -> IngestRun:
    """Keep a held snapshot parsed and counted (nothing is lost), with the guard's numbers as its reason."""
    snapshot.parse_status, snapshot.error = Snapshot.Status.HELD, message[:5000]
    snapshot.record_count, snapshot.reject_count = len(result.records), len(result.rejects)
    snapshot.created_count = snapshot.changed_count = snapshot.unchanged_count = 0
    snapshot.parsed_at = timezone.now()
    snapshot.save(update_fields=["parse_status", "error", "record_count", "reject_count", "created_count",
                                 "changed_count", "unchanged_count", "parsed_at"])
    # Not logged here: each caller reports the run's line once (a command on stdout, a task in the worker's log).
    return _finish(run, IngestRun.Status.HELD, message, rejected=len(result.rejects))


def shrink_check(*, source: Source, snapshot: Snapshot, spec: FormatSpec) -> str:
    """Why this (applied, not yet committed) snapshot must be held, or "" when it may stand.

    Compares what the snapshot lists with what the previous accepted snapshot by
    observation time lists. Only formats that are complete listings take part: in
    them an offering that is left out ends, so a truncated file would end the
    market. Partial documents (one vendor's llm-prices file) end nothing by omission.
    """
    if spec.listing is None:
        return ""
    previous = previous_accepted_snapshot_id(snapshot)
    if previous is None:
        return ""
    counts: list[ListingCount] = import_string(spec.listing)(previous, snapshot.pk)
    listed = sum(c.before for c in counts)
    if not listed:
        return ""
    ended = sum(c.ended for c in counts)
    reasons = []
    share = Decimal(ended * 100) / listed
    if share > source.shrink_guard_max_ended_pct and ended >= SHRINK_GUARD_MIN_ENDED:
        reasons.append(f"would end {ended:,} of {listed:,} current prices ({share:.0f} %) listed by "
                       f"snapshot {previous}; threshold {source.shrink_guard_max_ended_pct.normalize():f} %")
    if source.shrink_guard_provider_min:
        dropped = {c.provider_id: c.before for c in counts
                   if not c.after and c.before >= source.shrink_guard_provider_min}
        if dropped:
            from apps.catalog.models import Provider

            names = dict(Provider.objects.filter(pk__in=dropped).values_list("pk", "slug"))
            ranked = sorted(dropped.items(), key=lambda i: (-i[1], str(names.get(i[0], i[0]))))
            shown = ", ".join(f"{names.get(p, p)} ({n})" for p, n in ranked[:8])
            if len(ranked) > 8:
                shown += f" and {len(ranked) - 8} more"
            reasons.append(f"would drop every offering of {len(dropped)} provider(s): {shown}; providers with at "
                           f"least {source.shrink_guard_provider_min} offerings are guarded")
    return "; ".join(reasons)


@collections_paused()
def snapshot_reparse(*, snapshot: Snapshot, trigger: str = IngestRun.Trigger.REPARSE) -> IngestRun:
    """Parse stored bytes again (after a parser fix) and re-apply them, without fetching.

    A rejected snapshot stays out of history; a held one goes through the guard again.
    """
    run = IngestRun.objects.create(source=snapshot.source, snapshot=snapshot, trigger=trigger,
                                   started_at=timezone.now())
    if snapshot.parse_status == Snapshot.Status.REJECTED:
        return _finish(run, IngestRun.Status.REJECTED,
                       f"snapshot {snapshot.pk}: rejected by {snapshot.reviewed_by or 'a curator'}, not applied")
    spec = get_format(snapshot.source.format)
    # Name the file as the user knows it, and the snapshot it is stored as.
    label = f"{snapshot.filename or snapshot.url or snapshot.source.key} (snapshot {snapshot.pk})"
    try:
        result = spec.parse(bytes(snapshot.content))
    except ParseError as exc:
        return _fail_snapshot(run, snapshot, f"{label}: {exc}")
    except Exception as exc:  # a parser bug: still one line for the user (and the log)
        why = _unexpected(exc, f"the parser {spec.parser} failed on snapshot {snapshot.pk}")
        return _fail_snapshot(run, snapshot, f"{label}: the parser failed unexpectedly ({why}); nothing was changed")
    if snapshot.stated_at is None and result.observed_at is not None:
        # Stored before it was parsed (an upload queued for a worker): the document's own date is known only
        # now, and freshness reads it, so the snapshot must say what the command path says for the same file.
        snapshot.stated_at = result.observed_at
        Snapshot.objects.filter(pk=snapshot.pk).update(stated_at=result.observed_at)
    return snapshot_apply(snapshot=snapshot, result=result, run=run, label=label)


class ReviewError(Exception):
    """A review that cannot happen (the snapshot is not held); one plain sentence."""


@collections_paused()
def snapshot_review(*, snapshot: Snapshot, accept: bool, by: str = "") -> IngestRun:
    """A curator's decision on a held snapshot.

    Accepting applies it as if the guard had let it through (the decision is kept, so a
    later reparse does not hold it again). Rejecting keeps the bytes (nothing is lost) and
    leaves history exactly as if the snapshot had never arrived.
    """
    snapshot = Snapshot.objects.select_related("source").get(pk=snapshot.pk)
    if snapshot.parse_status != Snapshot.Status.HELD:
        raise ReviewError(f"snapshot {snapshot.pk} is {snapshot.parse_status}, not held: nothing to review")
    snapshot.review = Snapshot.Review.ACCEPTED if accept else Snapshot.Review.REJECTED
    snapshot.reviewed_by, snapshot.reviewed_at = by[:150], timezone.now()
    if accept:
        snapshot.save(update_fields=["review", "reviewed_by", "reviewed_at"])
        return snapshot_reparse(snapshot=snapshot, trigger=IngestRun.Trigger.REVIEW)
    snapshot.parse_status = Snapshot.Status.REJECTED
    snapshot.save(update_fields=["parse_status", "review", "reviewed_by", "reviewed_at"])
    run = IngestRun.objects.create(source=snapshot.source, snapshot=snapshot, trigger=IngestRun.Trigger.REVIEW,
                                   started_at=timezone.now())
    return _finish(run, IngestRun.Status.REJECTED,
                   f"snapshot {snapshot.pk}: rejected by {by or 'a curator'}; history is unchanged")


# Snapshots whose bytes were dealt with: seeing them again records a sighting, it does not re-apply them.
SETTLED = (Snapshot.Status.OK, Snapshot.Status.HELD, Snapshot.Status.REJECTED)


def _seen_again(run: IngestRun, snapshot: Snapshot, *, label: str, when: datetime | None,
                meta: FetchMeta) -> IngestRun:
    """The same bytes again: record the sighting (not the bytes) and confirm what they state.

    A sighting needs a time we know: a fetch's, or a file's --observed-at. A file given
    again with no time says nothing new.
    """
    run.snapshot = snapshot
    same = f"{label}: same bytes as snapshot {snapshot.pk} ({snapshot.sha256[:12]})"
    if when is None:
        return _finish(run, IngestRun.Status.UNCHANGED, f"{same}, nothing to do (no observation time to record)",
                       ApplyCounts(unchanged=snapshot.record_count))
    if timezone.is_naive(when):
        when = timezone.make_aware(when, UTC)
    try:
        # A sighting can rebuild the source's history, in one transaction: it fails as an ingest does.
        created, confirmed = sighting_record(snapshot=snapshot, observed_at=when, fetched_at=meta.fetched_at)
    except Exception as exc:
        why = _worth_retrying(exc)
        if not why:
            return _finish(run, IngestRun.Status.FAILED, f"{same}; recording this sighting failed and nothing was "
                           "changed (" + _unexpected(exc, f"sighting of snapshot {snapshot.pk}") + ")")
        _retry_later(run, exc, why, what=f"sighting of snapshot {snapshot.pk}",
                     message=f"{same}; {why}; nothing was changed")
    if snapshot.parse_status == Snapshot.Status.HELD:
        return _finish(run, IngestRun.Status.HELD, f"{same}, still {HELD_MARK}{held_reason(snapshot.error)}")
    if snapshot.parse_status == Snapshot.Status.REJECTED:
        return _finish(run, IngestRun.Status.REJECTED, f"{same}, rejected by a curator, not applied")
    if not created:
        return _finish(run, IngestRun.Status.UNCHANGED, f"{same}, already seen at {when:%Y-%m-%d %H:%M}, "
                       "nothing to do", ApplyCounts(unchanged=snapshot.record_count))
    return _finish(run, IngestRun.Status.UNCHANGED,
                   f"{same}, seen again at {when:%Y-%m-%d %H:%M}: {confirmed:,} prices confirmed",
                   ApplyCounts(unchanged=snapshot.record_count))


def sighting_record(*, snapshot: Snapshot, observed_at: datetime, fetched_at: datetime | None) -> tuple[bool, int]:
    """Record a look at stored bytes; for an accepted snapshot, bring history up to it.

    The common case, the newest look at the document the source already showed last,
    only moves last_confirmed_at forward (one UPDATE). Any other look (an older time,
    or a document seen again after another: an upstream revert) rebuilds the source's
    history from its sightings. Returns (created, prices confirmed or rebuilt).
    """
    spec = get_format(snapshot.source.format)
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=snapshot.source_id).first()
        latest = (Sighting.objects.filter(source_id=snapshot.source_id, snapshot__parse_status=Snapshot.Status.OK)
                  .order_by("-observed_at", "-snapshot__sha256").values_list("snapshot_id", "observed_at").first())
        _, created = Sighting.objects.get_or_create(
            snapshot=snapshot, observed_at=observed_at, defaults={"source_id": snapshot.source_id,
                                                                  "fetched_at": fetched_at})
        if not created or snapshot.parse_status != Snapshot.Status.OK:
            return created, 0
        if latest is not None and latest[0] == snapshot.pk and latest[1] < observed_at and spec.confirm:
            return True, import_string(spec.confirm)(source_id=snapshot.source_id, previous_at=latest[1],
                                                     at=observed_at)
        if spec.rebuild:
            return True, len(import_string(spec.rebuild)(source_id=snapshot.source_id))
        return True, 0


class TransientFetchError(Exception):
    """A fetch failed in a way a retry may fix; tasks retry on this only."""


def source_fetch(*, source: Source, trigger: str, raise_transient: bool = False) -> IngestRun:
    """Fetch the source's URL (conditional GET) and ingest what came back.

    With raise_transient, a transient failure is recorded and then raised as
    TransientFetchError so the Celery task can retry with backoff.
    """
    from django.conf import settings

    from scrapers import http

    if not source.url:
        run = IngestRun.objects.create(source=source, trigger=trigger, started_at=timezone.now())
        return _finish(run, IngestRun.Status.FAILED,
                       f"{source.key}: has no URL to fetch; ingest a file with --file PATH")
    # The validators only: the row also holds the whole document.
    last = (Snapshot.objects.filter(source=source, parse_status=Snapshot.Status.OK)
            .exclude(etag="", last_modified="").order_by("-fetched_at").only("etag", "last_modified").first())
    try:
        fetched = http.fetch(
            source.url,
            etag=last.etag if last else "",
            last_modified=last.last_modified if last else "",
            max_bytes=settings.TOKENWATCH_FETCH_MAX_BYTES,
            allow_private=settings.TOKENWATCH_FETCH_ALLOW_PRIVATE,
        )
    except http.FetchError as exc:
        run = IngestRun.objects.create(source=source, trigger=trigger, started_at=timezone.now())
        _finish(run, IngestRun.Status.FAILED, str(exc))
        if raise_transient and not exc.permanent:
            raise TransientFetchError(str(exc)) from exc
        return run
    if fetched.content is None:
        run = IngestRun.objects.create(source=source, trigger=trigger, started_at=timezone.now(), snapshot=last)
        return _finish(run, IngestRun.Status.NOT_MODIFIED, f"{source.url}: not modified since the last fetch")
    meta = FetchMeta(url=fetched.url, fetched_at=fetched.fetched_at, http_status=fetched.status, etag=fetched.etag,
                     last_modified=fetched.last_modified, content_type=fetched.content_type)
    return source_ingest_bytes(source=source, content=fetched.content, trigger=trigger, meta=meta)


def snapshot_submit(*, source: Source, content: bytes, observed_at: datetime, meta: FetchMeta) -> Snapshot:
    """Store bytes now and ingest them on a worker (uploads). The task is queued
    only after the snapshot row is committed, so the worker always finds it."""
    snapshot, created = snapshot_store(source=source, content=content, observed_at=observed_at, meta=meta)
    if not created and snapshot.parse_status in SETTLED:
        # Known bytes: this upload is one more look at them, not new work.
        sighting_record(snapshot=snapshot, observed_at=observed_at, fetched_at=meta.fetched_at)
    elif snapshot.parse_status not in SETTLED:
        transaction.on_commit(lambda: ingest_enqueue(snapshot_id=snapshot.pk))
    return snapshot


def ingest_enqueue(*, snapshot_id: int) -> None:
    """Queue the ingest of a stored snapshot; when the queue cannot be reached, ingest it here and now.

    An upload must neither fail with a 500 nor leave its snapshot pending because the
    broker is down: the bytes are stored, so this process can do the work itself.
    """
    from kombu.exceptions import OperationalError as BrokerUnreachable

    from .tasks import ingest_snapshot

    try:
        ingest_snapshot.delay(snapshot_id)
    except BrokerUnreachable as exc:
        logger.warning("snapshot %s: the queue cannot be reached (%s); ingesting it in this process",
                       snapshot_id, one_line(str(exc), 200))
        ingest_snapshot.apply(args=[snapshot_id])


def source_schedule_sync(*, source: Source) -> None:
    """Mirror a source's cron schedule into django-celery-beat (schedules live in the database)."""
    from apps.common.schedules import periodic_task_sync

    periodic_task_sync(name=f"fetch-source:{source.key}", schedule=source.schedule,
                       enabled=source.enabled and bool(source.url), task="apps.sources.tasks.fetch_source",
                       args=f"[{source.pk}]")


# A run still "running" after this long died with its worker: the tasks' hard time limit is 6 minutes.
RUN_DEADLINE = timedelta(minutes=10)
# A stored snapshot still "pending" after this long lost its queue message (a broker restart, a crash).
PENDING_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class SweepCounts:
    runs_failed: int
    snapshots_requeued: int


def work_sweep(*, now: datetime | None = None, run_deadline: timedelta = RUN_DEADLINE,
               pending_grace: timedelta = PENDING_GRACE) -> SweepCounts:
    """The database is the source of truth for work; queue messages are hints (invariant 8).

    Runs left "running" past the time limit are marked failed with a reason (their worker died);
    snapshots left "pending" past a grace period are queued again. Ingest is idempotent, so a
    snapshot queued twice, or one whose first message was only late, changes nothing the second time.
    The thresholds are the production ones by default; the fault drills (tests/faults) pass seconds.
    """
    from .tasks import ingest_snapshot

    now = now or timezone.now()
    dead = IngestRun.objects.filter(status=IngestRun.Status.RUNNING, started_at__lt=now - run_deadline)
    failed = dead.update(status=IngestRun.Status.FAILED, finished_at=now,
                         message="the worker running this ingest stopped before it finished (found by the sweep); "
                                 "its snapshot, if any, is queued again")
    stuck = list(Snapshot.objects.filter(parse_status=Snapshot.Status.PENDING, created_at__lt=now - pending_grace)
                 .values_list("pk", flat=True))
    for snapshot_id in stuck:
        transaction.on_commit(lambda pk=snapshot_id: ingest_snapshot.delay(pk))
    if failed or stuck:
        logger.warning("sweep: %s dead run(s) marked failed, %s pending snapshot(s) queued again", failed, len(stuck))
    return SweepCounts(failed, len(stuck))
