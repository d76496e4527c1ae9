"""Hardware, what it costs per hour, and how fast models run on it (benchmark runs with their context)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from apps.common.fields import ExactDecimalField

# Money columns are ExactDecimalField, as token prices: exact, never float or rounded (invariant 5).
# tokens/s and milliseconds to the thousandth: well below any measurement's precision.
RATE = {"max_digits": 14, "decimal_places": 3}


class Hardware(models.Model):
    """An accelerator configuration: what a model is served on (8x H100 80GB SXM5)."""

    slug = models.SlugField(max_length=200, unique=True, help_text="e.g. 8x-h100-80gb-sxm5")
    accelerator = models.CharField(max_length=100, help_text="Accelerator model, e.g. H100, A100, Groq LPU.")
    accelerator_count = models.PositiveIntegerField()
    accelerator_memory_gib = models.PositiveIntegerField(
        null=True, blank=True, help_text="Memory per accelerator, GiB; blank = not stated."
    )
    form_factor = models.CharField(max_length=50, blank=True, help_text="SXM5, PCIe…; blank = not stated.")

    class Meta:
        verbose_name_plural = "hardware"
        ordering = ["accelerator", "accelerator_count", "accelerator_memory_gib", "form_factor"]
        indexes = [
            # Self-hosting cost joins benchmark runs to hourly prices on (accelerator, count).
            models.Index(fields=["accelerator", "accelerator_count"], name="hardware_accel_count"),
        ]

    def __str__(self) -> str:
        parts = [f"{self.accelerator_count}x {self.accelerator}"]
        if self.accelerator_memory_gib:
            parts.append(f"{self.accelerator_memory_gib}GB")
        if self.form_factor:
            parts.append(self.form_factor)
        return " ".join(parts)


class PricingModel(models.TextChoices):
    ON_DEMAND = "on-demand", "On demand"
    SPOT = "spot", "Spot / preemptible"
    RESERVED = "reserved", "Reserved / committed"


class HardwareOffering(models.Model):
    """What one source says a provider rents: an instance type in a region under a pricing model."""

    # No separate index on source: the natural-key constraint leads with it.
    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="hardware_offerings",
                               db_index=False)
    provider = models.ForeignKey("catalog.Provider", on_delete=models.PROTECT, related_name="hardware_offerings")
    instance_type = models.CharField(max_length=200)
    region = models.CharField(max_length=100, blank=True, help_text="Blank = the same price in every region.")
    pricing_model = models.CharField(max_length=16, choices=PricingModel.choices, default=PricingModel.ON_DEMAND)
    hardware = models.ForeignKey(Hardware, on_delete=models.PROTECT, related_name="offerings")
    vcpus = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    memory_gib = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                     help_text="Host memory, GiB.")
    source_label = models.CharField(max_length=200, blank=True, help_text="Where the sheet says it read the price.")

    class Meta:
        ordering = ["provider__name", "instance_type", "region", "pricing_model"]
        constraints = [
            models.UniqueConstraint(fields=["source", "provider", "instance_type", "region", "pricing_model"],
                                    name="hardware_offering_natural_key"),
        ]

    def __str__(self) -> str:
        region = f" {self.region}" if self.region else ""
        return f"{self.provider.slug}/{self.instance_type}{region} ({self.pricing_model})"


class HardwarePriceObservation(models.Model):
    """What one snapshot said an instance cost at one time. Intervals are derived from these,
    so hardware price history does not depend on the order snapshots arrive in (invariant 4)."""

    # Both foreign keys are covered by composite indexes that lead with them (cheaper 100k-row imports).
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.CASCADE, related_name="hardware_observations",
                                 db_index=False)
    offering = models.ForeignKey(HardwareOffering, on_delete=models.CASCADE, related_name="observations",
                                 db_index=False)
    observed_at = models.DateTimeField(help_text="The row's own date, else the snapshot's observation time.")
    usd_per_hour = ExactDecimalField(help_text="USD per hour for the whole instance.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "offering", "observed_at"],
                                    name="hardware_observation_unique"),
        ]
        indexes = [
            # The history rebuild reads one chunk of offerings' observations at a time.
            models.Index(fields=["offering", "observed_at"], name="hardware_obs_offering_time"),
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} {self.usd_per_hour} USD/h @ {self.observed_at:%Y-%m-%d}"


class HardwarePrice(models.Model):
    """An instance's hourly price over [effective_from, effective_to); open end = still current."""

    offering = models.ForeignKey(HardwareOffering, on_delete=models.CASCADE, related_name="prices",
                                 db_index=False)  # covered by the (offering, effective_from) constraint
    effective_from = models.DateTimeField(help_text="Inclusive: the first observation showing this price.")
    effective_to = models.DateTimeField(null=True, blank=True,
                                        help_text="Exclusive: when another price (or no listing) was seen.")
    usd_per_hour = ExactDecimalField(help_text="USD per hour for the whole instance, all accelerators.")
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.PROTECT, related_name="+",
                                 help_text="First snapshot that showed it.")

    class Meta:
        ordering = ["offering", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["offering", "effective_from"], name="hardware_price_unique_from"),
            models.CheckConstraint(condition=Q(usd_per_hour__gt=0), name="hardware_price_positive"),
        ]
        indexes = [
            # "Current" and as_of queries: effective_to IS NULL or > date, per offering.
            models.Index(fields=["effective_to", "offering"], name="hardware_price_current"),
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} {self.usd_per_hour} USD/h from {self.effective_from:%Y-%m-%d}"

    @property
    def usd_per_accelerator_hour(self) -> Decimal:
        return self.usd_per_hour / self.offering.hardware.accelerator_count


class BenchmarkRun(models.Model):
    """One benchmark result with the context that makes it comparable (or not) with another."""

    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="benchmark_runs",
                               db_index=False)  # covered by the (source, run_key) constraint
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.PROTECT, related_name="benchmark_runs",
                                 help_text="The newest snapshot stating this run (its figures are shown).")
    run_key = models.UUIDField(help_text="First 128 bits of the sha256 of the run's identifying context.")
    alias = models.ForeignKey("catalog.ModelAlias", on_delete=models.PROTECT, related_name="benchmark_runs",
                              help_text="The raw model name; its canonical model is the alias's.")
    source_model_id = models.CharField(max_length=500)
    # On PostgreSQL a run's provider and hardware (migration 0006), and its alias and snapshot, which must be its
    # source's (0007), are checked once per statement by triggers, not by foreign-key constraints.
    provider = models.ForeignKey("catalog.Provider", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="benchmark_runs", help_text="Who served the requests, if an API.")
    serving_stack = models.CharField(max_length=100, blank=True, help_text="vLLM, TensorRT-LLM…")
    stack_version = models.CharField(max_length=50, blank=True)
    precision = models.CharField(max_length=20, blank=True, help_text="FP16, FP8, INT4…")
    hardware = models.ForeignKey(Hardware, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="benchmark_runs")
    # A property of what the source stated, not of the shared Hardware row: "~40 chips" is not "40 chips".
    accelerator_count_approximate = models.BooleanField(
        default=False, help_text="The source gives the accelerator count as approximate (~40).")
    # Workload: runs that differ here are not comparable.
    input_tokens = models.PositiveIntegerField(null=True, blank=True, help_text="Prompt tokens per request.")
    output_tokens = models.PositiveIntegerField(null=True, blank=True, help_text="Output tokens per request.")
    concurrency = models.PositiveIntegerField(null=True, blank=True, help_text="Concurrent requests.")
    # Metrics.
    tokens_per_s = models.DecimalField(**RATE, null=True, blank=True,
                                       help_text="System output throughput, tokens/s, all requests together.")
    request_tokens_per_s_p50 = models.DecimalField(**RATE, null=True, blank=True,
                                                   help_text="Per-request output throughput, median, tokens/s.")
    request_tokens_per_s_mean = models.DecimalField(**RATE, null=True, blank=True,
                                                    help_text="Per-request output throughput, mean, tokens/s.")
    ttft_p50_ms = models.DecimalField(**RATE, null=True, blank=True, help_text="Time to first token, median, ms.")
    ttft_p99_ms = models.DecimalField(**RATE, null=True, blank=True, help_text="Time to first token, P99, ms.")
    # Measured by tokenwatch's own probes (apps.probes); published sources do not state these.
    ttft_p90_ms = models.DecimalField(**RATE, null=True, blank=True, help_text="Time to first token, P90, ms.")
    inter_token_latency_p50_ms = models.DecimalField(
        **RATE, null=True, blank=True, help_text="Gap between streamed content chunks, median over all, ms.")
    inter_token_latency_p99_ms = models.DecimalField(
        **RATE, null=True, blank=True, help_text="Gap between streamed content chunks, P99 over all, ms.")
    e2e_latency_p50_ms = models.DecimalField(**RATE, null=True, blank=True,
                                             help_text="End-to-end request latency, median, ms.")
    e2e_latency_p99_ms = models.DecimalField(**RATE, null=True, blank=True,
                                             help_text="End-to-end request latency, P99, ms.")
    p99_latency_ms = models.DecimalField(**RATE, null=True, blank=True,
                                         help_text="P99 latency as the source reports it (LLMPerf: end-to-end).")
    error_rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True,
                                     help_text="Share of requests that failed, 0-1.")
    requests_completed = models.PositiveIntegerField(null=True, blank=True)
    requests_failed = models.PositiveIntegerField(null=True, blank=True)
    error_counts = models.JSONField(default=dict, blank=True, help_text="Failed requests by error code.")
    mostly_failed = models.BooleanField(default=False,
                                        help_text="Over half the requests failed: latencies describe the rest.")
    reported_usd_per_mtok = ExactDecimalField(null=True, blank=True,
                                              help_text="Cost per 1M tokens the source reports.")
    cost_is_estimate = models.BooleanField(default=False)
    measured_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the run was made or published; blank = not stated.")
    source_label = models.CharField(max_length=200, blank=True, help_text="Who published it, per the file.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["source_model_id", "-tokens_per_s"]
        constraints = [
            # Invariant 3: one row per run per source, whatever the race or re-delivery.
            models.UniqueConstraint(fields=["source", "run_key"], name="benchmark_run_natural_key"),
            models.CheckConstraint(condition=Q(error_rate__isnull=True) | Q(error_rate__gte=0, error_rate__lte=1),
                                   name="benchmark_run_error_rate_0_1"),
        ]

    def __str__(self) -> str:
        stack = self.serving_stack or (self.provider.slug if self.provider_id else "?")
        return f"{self.source_model_id} on {stack} ({self.tokens_per_s} tok/s)"

    @property
    def hardware_label(self) -> str:
        """The hardware as the source stated it: "~40x Groq LPU" when the count is approximate."""
        if self.hardware is None:
            return ""
        return ("~" if self.accelerator_count_approximate else "") + str(self.hardware)

    @property
    def workload(self) -> tuple[int | None, int | None, int | None]:
        return (self.input_tokens, self.output_tokens, self.concurrency)
