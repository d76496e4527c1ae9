"""Writes for sources: store a snapshot, ingest it all-or-nothing, record the run.

Flow: bytes -> Snapshot (kept even when it cannot be parsed, invariant 1) ->
parse (pure, scrapers/) -> one transaction that applies the records and marks
the snapshot ok (invariant 2). The same bytes twice are one snapshot and the
second ingest changes nothing (invariant 3).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from scrapers.records import ParseError, ParseResult

from .models import IngestRun, Rejection, Snapshot, Source
from .registry import ApplyCounts, get_format

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


def snapshot_store(*, source: Source, content: bytes, observed_at: datetime, meta: FetchMeta) -> tuple[Snapshot, bool]:
    """Keep the raw bytes, once per sha256 per source. Returns (snapshot, created)."""
    sha256 = hashlib.sha256(content).hexdigest()
    defaults = {
        "content": content,
        "size_bytes": len(content),
        "observed_at": observed_at,
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
            if created and binary_write:
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
    existing = Snapshot.objects.filter(source=source, sha256=sha256).first()
    if existing is not None and existing.parse_status == Snapshot.Status.OK:
        run.snapshot = existing
        return _finish(run, IngestRun.Status.UNCHANGED,
                       f"{label}: same bytes as snapshot {existing.pk} ({sha256[:12]}), nothing to do",
                       ApplyCounts(unchanged=existing.record_count))

    result: ParseResult | None = None
    parse_error = ""
    try:
        result = spec.parse(content)
    except ParseError as exc:
        parse_error = str(exc)

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

    snapshot, _ = snapshot_store(source=source, content=content, observed_at=when, meta=meta)
    run.snapshot = snapshot
    if result is None:
        return _fail_snapshot(run, snapshot, f"{label}: {parse_error}")
    return snapshot_apply(snapshot=snapshot, result=result, run=run, label=label)


def _fail_snapshot(run: IngestRun, snapshot: Snapshot, message: str) -> IngestRun:
    snapshot.parse_status, snapshot.error, snapshot.parsed_at = Snapshot.Status.FAILED, message[:5000], timezone.now()
    snapshot.save(update_fields=["parse_status", "error", "parsed_at"])
    return _finish(run, IngestRun.Status.FAILED, message)


def snapshot_apply(*, snapshot: Snapshot, result: ParseResult, run: IngestRun, label: str = "") -> IngestRun:
    """Apply parsed records in one transaction; on any error nothing but the snapshot's status changes."""
    spec = get_format(snapshot.source.format)
    label = label or snapshot.filename or snapshot.url or snapshot.source.key
    try:
        with transaction.atomic():
            # One ingest per source at a time: history rebuilds read the whole
            # source, so two workers on the same source must not interleave.
            Source.objects.select_for_update().filter(pk=snapshot.source_id).first()
            Snapshot.objects.filter(pk=snapshot.pk).update(parse_status=Snapshot.Status.OK, error="")
            snapshot.parse_status = Snapshot.Status.OK
            counts = spec.apply(snapshot=snapshot, result=result)
            rejects = [*result.rejects, *counts.rejects]
            Rejection.objects.filter(snapshot=snapshot).delete()
            Rejection.objects.bulk_create(
                [Rejection(snapshot=snapshot, locator=r.locator[:500], reason=r.reason,
                           raw_excerpt=r.raw_excerpt[:2000]) for r in rejects],
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
    except Exception as exc:
        logger.exception("ingest of snapshot %s failed", snapshot.pk)
        return _fail_snapshot(run, snapshot, f"{label}: ingest failed and nothing was changed ({exc})")
    status = IngestRun.Status.OK
    message = (f"{label}: {counts.created} created, {counts.changed} changed, "
               f"{counts.unchanged} unchanged, {len(rejects)} rejected")
    return _finish(run, status, message, counts, rejected=len(rejects))


def snapshot_reparse(*, snapshot: Snapshot, trigger: str = IngestRun.Trigger.REPARSE) -> IngestRun:
    """Parse stored bytes again (after a parser fix) and re-apply them, without fetching."""
    run = IngestRun.objects.create(source=snapshot.source, snapshot=snapshot, trigger=trigger,
                                   started_at=timezone.now())
    spec = get_format(snapshot.source.format)
    try:
        result = spec.parse(bytes(snapshot.content))
    except ParseError as exc:
        return _fail_snapshot(run, snapshot, f"snapshot {snapshot.pk}: {exc}")
    return snapshot_apply(snapshot=snapshot, result=result, run=run, label=f"snapshot {snapshot.pk}")


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
    last = (Snapshot.objects.filter(source=source, parse_status=Snapshot.Status.OK)
            .exclude(etag="", last_modified="").order_by("-fetched_at").first())
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
    from .tasks import ingest_snapshot

    snapshot, _ = snapshot_store(source=source, content=content, observed_at=observed_at, meta=meta)
    if snapshot.parse_status != Snapshot.Status.OK:
        transaction.on_commit(lambda: ingest_snapshot.delay(snapshot.pk))
    return snapshot


def source_schedule_sync(*, source: Source) -> None:
    """Mirror a source's cron schedule into django-celery-beat (schedules live in the database)."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    name = f"fetch-source:{source.key}"
    parts = source.schedule.split()
    if not (source.enabled and source.url and len(parts) == 5):
        PeriodicTask.objects.filter(name=name).update(enabled=False)
        return
    minute, hour, day_of_month, month_of_year, day_of_week = parts
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year, day_of_week=day_of_week,
        timezone="UTC",
    )
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={"task": "apps.sources.tasks.fetch_source", "crontab": crontab, "args": f"[{source.pk}]",
                  "enabled": True},
    )
