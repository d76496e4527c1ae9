"""Probe targets (OpenAI-compatible endpoints tokenwatch measures itself) and the runs' raw samples.

A probe run's figures are a BenchmarkRun of the "probe" source; ProbeRun links it to its target and
keeps every request's timings (ProbeSample), so nothing measured is lost and all of it can be exported.
API keys are never stored: a target names the environment variable that holds its key.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django_celery_beat.validators import crontab_validator

env_name_validator = RegexValidator(r"^[A-Z_][A-Z0-9_]*$",
                                    "The NAME of an environment variable (upper-case letters, digits, _), "
                                    "not the key itself.")


class ProbeTarget(models.Model):
    name = models.SlugField(max_length=100, unique=True, help_text="Short stable name, e.g. groq-llama-3-70b.")
    base_url = models.URLField(max_length=500, help_text="OpenAI-compatible base URL, e.g. https://api.groq.com/"
                                                         "openai/v1 (requests go to …/chat/completions).")
    provider = models.ForeignKey("catalog.Provider", on_delete=models.PROTECT, related_name="probe_targets")
    model = models.ForeignKey("catalog.Model", on_delete=models.PROTECT, related_name="probe_targets",
                              help_text="The canonical model the endpoint serves.")
    api_model_id = models.CharField(max_length=300, help_text="The model id sent in each request.")
    api_key_env = models.CharField(max_length=100, blank=True, validators=[env_name_validator],
                                   help_text="Name of the environment variable holding the API key "
                                             "(the key itself is never stored); blank = no key.")
    requests = models.PositiveIntegerField(default=20, validators=[MinValueValidator(1)])
    concurrency = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    input_tokens = models.PositiveIntegerField(default=550, validators=[MinValueValidator(1)],
                                               help_text="Prompt tokens per request (approximate).")
    output_tokens = models.PositiveIntegerField(default=150, validators=[MinValueValidator(1)],
                                                help_text="max_tokens per request.")
    schedule = models.CharField(max_length=100, blank=True, default="", validators=[crontab_validator],
                                help_text="Cron expression (UTC) for scheduled probes; blank = only on demand.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .services import ProbeError, probe_url_check

        if self.base_url:
            try:
                probe_url_check(base_url=self.base_url)
            except ProbeError as exc:
                raise ValidationError({"base_url": str(exc)}) from None


class ProbeRun(models.Model):
    """One probe run: its BenchmarkRun (the figures) and the snapshot of its raw document."""

    target = models.ForeignKey(ProbeTarget, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    snapshot = models.OneToOneField("sources.Snapshot", on_delete=models.CASCADE, related_name="probe_run")
    benchmark_run = models.OneToOneField("benchmarks.BenchmarkRun", on_delete=models.CASCADE,
                                         related_name="probe_run")
    target_name = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    wall_s = models.FloatField()
    stopped_at_wall_limit = models.BooleanField(default=False)
    requests_not_sent = models.PositiveIntegerField(default=0)
    tokenwatch_version = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["target", "-started_at"], name="proberun_target_recent")]

    def __str__(self) -> str:
        return f"{self.target_name} @ {self.started_at:%Y-%m-%d %H:%M}"


class ProbeSample(models.Model):
    """One request of a probe run, as measured (ms)."""

    run = models.ForeignKey(ProbeRun, on_delete=models.CASCADE, related_name="samples", db_index=False)
    index = models.PositiveIntegerField()
    offset_ms = models.FloatField(help_text="When it was sent, ms after the run started.")
    ttft_ms = models.FloatField(null=True, blank=True, help_text="Time to first content chunk, ms.")
    e2e_ms = models.FloatField(null=True, blank=True, help_text="End-to-end latency, ms; null for a failure.")
    inter_token_ms = models.JSONField(default=list, blank=True, help_text="Gaps between content chunks, ms.")
    output_tokens = models.PositiveIntegerField(default=0)
    tokens_from_usage = models.BooleanField(default=False,
                                            help_text="From the response's usage; else counted from the text.")
    error = models.CharField(max_length=40, blank=True, help_text="Blank = success.")
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="probe_sample_unique_index")]

    def __str__(self) -> str:
        return f"run {self.run_id} #{self.index}"
