"""Where data comes from: sources, raw snapshots (kept forever), ingest runs, quarantine."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_celery_beat.validators import crontab_validator


class Source(models.Model):
    class Format(models.TextChoices):
        LITELLM = "litellm", "LiteLLM model cost map (JSON)"
        OPENROUTER = "openrouter", "OpenRouter /api/v1/models (JSON)"
        LLM_PRICES = "llm-prices", "simonw/llm-prices vendor file (JSON)"
        GENAI_PRICES = "genai-prices", "pydantic/genai-prices data v2 (JSON)"
        LLMPERF = "llmperf", "LLMPerf leaderboard summary (JSON)"
        GPU_CATALOG = "gpu-catalog", "SkyPilot GPU catalog (CSV)"
        BENCHMARKS_CSV = "benchmarks-csv", "Benchmarks (curated CSV)"
        MARKET_CSV = "market-csv", "Market segments (curated CSV)"
        HARDWARE_CSV = "hardware-csv", "Hardware prices (curated CSV)"
        PROVIDERS_CSV = "providers-csv", "Providers (curated CSV)"
        PROBE = "probe", "tokenwatch probe run (JSON samples)"
        ECB_FX = "ecb-fx", "ECB euro reference rates (XML or CSV)"

    key = models.SlugField(max_length=64, unique=True, help_text="Short stable key, e.g. 'litellm'.")
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=32, choices=Format.choices, help_text="Which parser reads it.")
    url = models.URLField(max_length=1000, blank=True, help_text="Fetched by the scheduler; blank = files only.")
    schedule = models.CharField(
        max_length=100,
        blank=True,
        default="0 */6 * * *",
        validators=[crontab_validator],
        help_text="Cron expression (minute hour day month weekday, UTC) for beat; blank = never.",
    )
    enabled = models.BooleanField(default=True)
    licence = models.CharField(max_length=100, blank=True)
    attribution = models.CharField(max_length=500, blank=True)
    homepage = models.URLField(max_length=1000, blank=True)
    # How old the newest data (the newest accepted sighting's observation time) may be before the source
    # counts as stale.
    freshness_hours = models.PositiveIntegerField(default=48)
    # The shrink guard (invariant 7): a snapshot of a complete listing that would end more than this share
    # of the offerings the previous accepted snapshot lists, or drop a provider that had at least
    # shrink_guard_provider_min offerings there, is held for a curator instead of applied.
    shrink_guard_max_ended_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(25), validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Hold a snapshot that would end more than this share (%) of the current offerings; 100 = never.",
    )
    # The market-price policy (apps.pricing.market): the most recently confirmed statement of an offering
    # wins; between equally recent ones, a source's statement about its own provider, then the higher priority.
    priority = models.PositiveSmallIntegerField(
        default=10, help_text="Breaks ties between equally recent statements of one offering: higher wins.")
    own_provider_slug = models.SlugField(
        max_length=100, blank=True,
        help_text="The provider whose own price list this source is (openrouter for OpenRouter's API): its "
                  "statements about that provider outrank other sources' copies when equally recent.")
    shrink_guard_provider_min = models.PositiveIntegerField(
        default=10,
        help_text="Hold a snapshot that drops every offering of a provider that had at least this many; "
                  "0 = never. (Real upstream files do retire small providers: LiteLLM dropped Aleph Alpha's 6.)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


# A held snapshot's error is its first run's line, "<file>: held for review: <reason>" (apps.sources.services).
HELD_MARK = "held for review: "


def held_reason(error: str) -> str:
    """The reason in a held snapshot's error, without the file's name and the mark before it."""
    return error.split(HELD_MARK, 1)[-1]


class Snapshot(models.Model):
    """The raw bytes of one document, exactly as fetched or uploaded.

    Deduplicated by sha256 per source: the same bytes twice are one snapshot.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        OK = "ok"  # accepted: part of history
        FAILED = "failed"
        HELD = "held"  # parsed and counted, but would shrink the market: waits for a curator (invariant 7)
        REJECTED = "rejected"  # a curator refused a held snapshot: kept (nothing is lost), never applied

    class Review(models.TextChoices):
        NONE = "", "Not reviewed"
        ACCEPTED = "accepted", "Accepted by a curator"
        REJECTED = "rejected", "Rejected by a curator"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="snapshots")
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(help_text="Raw bytes as fetched or uploaded.")
    size_bytes = models.PositiveBigIntegerField()
    observed_at = models.DateTimeField(help_text="When the document describes the market (fetch time by default).")
    stated_at = models.DateTimeField(null=True, blank=True,
                                     help_text="The time the document states for itself, where its format has one.")
    fetched_at = models.DateTimeField(null=True, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    filename = models.CharField(max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    parse_status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    record_count = models.PositiveIntegerField(default=0)
    reject_count = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    parsed_at = models.DateTimeField(null=True, blank=True)
    # A curator's decision on a held snapshot; an accepted one skips the shrink guard from then on.
    review = models.CharField(max_length=16, choices=Review.choices, blank=True, default="")
    reviewed_by = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_at", "-id"]
        constraints = [
            # Invariant 3: the same bytes twice are one snapshot, whatever the race.
            models.UniqueConstraint(fields=["source", "sha256"], name="snapshot_unique_source_sha256"),
        ]
        indexes = [
            # History rebuilds walk a source's snapshots in time order.
            models.Index(fields=["source", "parse_status", "observed_at"], name="snapshot_timeline"),
        ]

    def __str__(self) -> str:
        return f"{self.source.key}@{self.observed_at:%Y-%m-%d %H:%M} ({self.sha256[:10]})"


class Sighting(models.Model):
    """One look at a document: these bytes were what the source said at this time.

    The bytes are stored once (Snapshot); every later fetch or file that brings the same
    bytes adds a sighting, not a copy. History is a function of the sightings of accepted
    snapshots, so "still stated on day D" (last_confirmed_at) and an upstream revert to an
    earlier document (A, B, A again) are both facts tokenwatch keeps.
    """

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="sightings")
    # A copy of the snapshot's source: the history rebuild reads one source's timeline in time order.
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="sightings", db_index=False)
    observed_at = models.DateTimeField(help_text="When this look says the document described the market.")
    fetched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_at", "-id"]
        constraints = [
            # Seeing the same bytes at the same time twice is one sighting (invariant 3).
            models.UniqueConstraint(fields=["snapshot", "observed_at"], name="sighting_unique_snapshot_time"),
        ]
        indexes = [models.Index(fields=["source", "observed_at"], name="sighting_timeline")]

    def __str__(self) -> str:
        return f"snapshot {self.snapshot_id} seen {self.observed_at:%Y-%m-%d %H:%M}"


class IngestRun(models.Model):
    """One attempt to fetch and/or ingest, whatever its outcome."""

    class Status(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        UNCHANGED = "unchanged"  # same bytes as a snapshot already ingested
        NOT_MODIFIED = "not_modified"  # HTTP 304
        HELD = "held"  # the snapshot would shrink the market and waits for a curator
        REJECTED = "rejected"  # a curator refused the held snapshot
        FAILED = "failed"

    class Trigger(models.TextChoices):
        COMMAND = "command"
        TASK = "task"
        UPLOAD = "upload"
        REPARSE = "reparse"
        API = "api"
        REVIEW = "review"

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="runs")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-started_at"], name="ingestrun_source_recent")]

    def __str__(self) -> str:
        return f"{self.source.key} {self.trigger} {self.status} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Rejection(models.Model):
    """A quarantined row: where it was, why it was refused, and what it said."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="rejections")
    locator = models.CharField(max_length=500, help_text="JSON key/path or CSV line number.")
    reason = models.TextField()
    raw_excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["snapshot", "id"]

    def __str__(self) -> str:
        return f"{self.locator}: {self.reason}"
