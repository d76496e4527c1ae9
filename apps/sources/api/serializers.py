"""Sources, snapshots (with a link to their raw bytes), ingest runs, rejections, and uploads."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime

from rest_framework import serializers

from apps.api_common.columns import AbsoluteUrlField
from apps.api_common.filters import start_of
from apps.api_common.serializers import ApiModelSerializer, MomentSerializerField
from apps.sources.models import IngestRun, Rejection, Snapshot, Source
from apps.sources.registry import get_format
from apps.sources.services import MAX_UPLOAD_BYTES
from scrapers.records import ParseError, load_json

JSON_FORMATS = frozenset({Source.Format.LITELLM, Source.Format.OPENROUTER, Source.Format.LLM_PRICES,
                          Source.Format.GENAI_PRICES, Source.Format.LLMPERF})
CSV_FORMATS = frozenset({Source.Format.GPU_CATALOG, Source.Format.BENCHMARKS_CSV, Source.Format.MARKET_CSV,
                         Source.Format.HARDWARE_CSV, Source.Format.PROVIDERS_CSV})


class SourceSerializer(ApiModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "key", "name", "format", "url", "schedule", "enabled", "licence", "attribution", "homepage",
                  "freshness_hours", "created_at"]
        extra_kwargs = {
            "id": {"help_text": "Source id."},
            "key": {"help_text": "Stable key, e.g. litellm; the source filter of other lists takes it."},
            "name": {"help_text": "Display name."},
            "format": {"help_text": "Which parser reads it."},
            "url": {"help_text": "Fetched on the schedule; null = files only."},
            "schedule": {"help_text": "Cron expression (UTC) for scheduled fetches; null = never."},
            "enabled": {"help_text": "Whether scheduled fetches run."},
            "licence": {"help_text": "Licence of the data."},
            "attribution": {"help_text": "Whom to credit."},
            "homepage": {"help_text": "Where the source lives."},
            "freshness_hours": {"help_text": "Hours after which the newest good snapshot counts as stale."},
            "created_at": {"help_text": "When the source was added (ISO 8601 UTC)."},
        }


class SnapshotSerializer(ApiModelSerializer):
    source = serializers.CharField(source="source.key", help_text="Key of the source.")
    raw_url = AbsoluteUrlField("api:snapshots-raw",
                               help_text="Downloads the raw bytes exactly as fetched or uploaded (signed-in users "
                                         "and API tokens only).")

    class Meta:
        model = Snapshot
        fields = ["id", "source", "sha256", "size_bytes", "observed_at", "fetched_at", "url", "filename",
                  "http_status", "content_type", "parse_status", "error", "record_count", "reject_count",
                  "created_count", "changed_count", "unchanged_count", "parsed_at", "created_at", "raw_url"]
        extra_kwargs = {
            "id": {"help_text": "Snapshot id; price and benchmark rows name it."},
            "sha256": {"help_text": "SHA-256 of the raw bytes (hex); the same bytes are stored once per source."},
            "size_bytes": {"help_text": "Size of the raw bytes, bytes."},
            "observed_at": {"help_text": "When the document describes the market (ISO 8601 UTC)."},
            "fetched_at": {"help_text": "When it was fetched (ISO 8601 UTC); null for uploaded files."},
            "url": {"help_text": "Where it was fetched from; null for files."},
            "filename": {"help_text": "Name of the uploaded or ingested file."},
            "http_status": {"help_text": "HTTP status of the fetch; null for files."},
            "content_type": {"help_text": "Content-Type the server sent."},
            "parse_status": {"help_text": "pending, ok or failed."},
            "error": {"help_text": "Why parsing failed; null otherwise."},
            "record_count": {"help_text": "Records parsed, rows."},
            "reject_count": {"help_text": "Rows quarantined (see /api/v1/rejections/?snapshot=ID), rows."},
            "created_count": {"help_text": "Rows created by the ingest."},
            "changed_count": {"help_text": "Rows changed by the ingest."},
            "unchanged_count": {"help_text": "Rows the ingest left unchanged."},
            "parsed_at": {"help_text": "When it was last parsed (ISO 8601 UTC)."},
            "created_at": {"help_text": "When it was stored (ISO 8601 UTC)."},
        }


class IngestRunSerializer(ApiModelSerializer):
    source = serializers.CharField(source="source.key", help_text="Key of the source.")
    snapshot = serializers.IntegerField(source="snapshot_id", allow_null=True,
                                        help_text="Snapshot id; null when nothing was stored.")

    class Meta:
        model = IngestRun
        fields = ["id", "source", "snapshot", "trigger", "status", "started_at", "finished_at", "created_count",
                  "changed_count", "unchanged_count", "rejected_count", "message"]
        extra_kwargs = {
            "id": {"help_text": "Ingest run id."},
            "trigger": {"help_text": "What started it: command, task (schedule), upload, reparse or api."},
            "status": {"help_text": "running, ok, unchanged (same bytes), not_modified (HTTP 304) or failed."},
            "started_at": {"help_text": "Start (ISO 8601 UTC)."},
            "finished_at": {"help_text": "End (ISO 8601 UTC); null while running."},
            "created_count": {"help_text": "Rows created."},
            "changed_count": {"help_text": "Rows changed."},
            "unchanged_count": {"help_text": "Rows unchanged."},
            "rejected_count": {"help_text": "Rows quarantined."},
            "message": {"help_text": "One-line summary, or why it failed."},
        }


class RejectionSerializer(ApiModelSerializer):
    source = serializers.CharField(source="snapshot.source.key", help_text="Key of the snapshot's source.")
    snapshot = serializers.IntegerField(source="snapshot_id", help_text="Snapshot id.")

    class Meta:
        model = Rejection
        fields = ["id", "source", "snapshot", "locator", "reason", "raw_excerpt", "created_at"]
        extra_kwargs = {
            "id": {"help_text": "Rejection id."},
            "locator": {"help_text": "Where in the document: JSON key or path, or CSV line."},
            "reason": {"help_text": "Why the row was refused."},
            "raw_excerpt": {"help_text": "What the row said (shortened)."},
            "created_at": {"help_text": "When it was quarantined (ISO 8601 UTC)."},
        }


class UploadSerializer(serializers.Serializer):
    """A file for a source, checked up front (size, encoding, JSON or CSV shape) and ingested on a worker."""

    source = serializers.SlugField(max_length=64, help_text="Source key, e.g. market-csv.")
    file = serializers.FileField(help_text=f"The document: JSON or CSV as the source's format reads, UTF-8, at "
                                           f"most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    observed_at = MomentSerializerField(
        required=False,
        help_text="When the document describes the market (date = 00:00 UTC); required for formats that carry "
                  "no date of their own (LiteLLM, OpenRouter, the curated CSVs).")

    def validate_source(self, value: str) -> Source:
        source = Source.objects.filter(key=value).first()
        if source is None:
            raise serializers.ValidationError(f"No source {value!r} (see /api/v1/sources/).")
        try:
            get_format(source.format)
        except LookupError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return source

    def validate(self, attrs: dict) -> dict:
        source: Source = attrs["source"]
        upload = attrs["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                {"file": [f"The file is {upload.size:,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit."]})
        content = upload.read()
        # The same one line as the pipeline would give, naming the file; nothing is stored.
        problem = upload_problem(source.format, content)
        if problem:
            raise serializers.ValidationError({"file": [f"{upload.name or 'the file'}: {problem}"]})
        observed_at: date | datetime | None = attrs.get("observed_at")
        if observed_at is None:
            if get_format(source.format).needs_observed_at:
                raise serializers.ValidationError({"observed_at": [
                    f"This {source.format} file carries no date of its own; say when it was observed "
                    "(YYYY-MM-DD or an ISO 8601 date-time)."]})
        else:
            attrs["observed_at"] = start_of(observed_at)
        attrs["content"] = content
        return attrs


def upload_problem(fmt: str, content: bytes) -> str:
    """One sentence when the bytes are not a file the format reads; empty when they are.

    Refused up front with the parser's own words (a parse of the file, in bounded time
    and memory: the parsers refuse deep nesting, huge headers and value floods before
    decoding); rows the parser would quarantine do not refuse the file.
    """
    if not content.strip():
        return "the file is empty"
    if fmt in JSON_FORMATS:
        try:
            document = load_json(content, expect=object)
        except ParseError as exc:
            return str(exc)
        if not isinstance(document, dict | list):
            return "the file is JSON but holds a single value, not an object or an array"
    elif fmt in CSV_FORMATS:
        head = content[:65536].decode("utf-16" if content[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
                                      else "utf-8-sig", errors="replace")
        try:
            header = next(csv.reader(io.StringIO(head)), [])
        except csv.Error as exc:
            return f"the file is not valid CSV ({exc})"
        if len([h for h in header if h.strip()]) < 2:
            return "the file is not CSV with a header row (expected comma-separated column names on line 1)"
    try:
        get_format(fmt).parse(content)
    except ParseError as exc:
        return str(exc)
    except Exception as exc:  # a parser bug: the pipeline says the same, and the worker logs it once
        return f"the parser failed unexpectedly ({type(exc).__name__}); nothing was changed"
    return ""


class UploadResultSerializer(serializers.Serializer):
    snapshot = serializers.IntegerField(help_text="Id of the stored snapshot.")
    snapshot_url = serializers.URLField(help_text="The snapshot in the API (parse_status shows the ingest).")
    parse_status = serializers.CharField(help_text="pending (queued for ingest), ok or failed.")
    queued = serializers.BooleanField(help_text="true: an ingest was queued; false: these bytes were already "
                                                "ingested.")
    duplicate = serializers.BooleanField(help_text="true: the same bytes were already stored for this source.")


class FetchResultSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="Key of the source.")
    queued = serializers.BooleanField(help_text="true: a fetch was queued for a worker.")
    ingest_runs_url = serializers.URLField(help_text="Where its ingest runs will show the outcome.")
