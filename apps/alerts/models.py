"""Watches on market prices, the market events they are checked against, alerts and their deliveries.

Events are derived from the market prices (apps.pricing.MarketPrice) by comparing them with the last
state this app saw (MarketState), after the snapshot's transaction commits: one event per change of a
market offering, keyed by (offering, version, kind), so a repeated derivation adds nothing. An alert is
unique per (watch, event) and a delivery per (alert, channel): re-ingest, re-parse, a duplicated task or
two workers insert nothing twice (invariant 3), and a sweep finds what a lost message left (invariant 8).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.common.fields import ExactDecimalField
from apps.pricing.models import COMPONENTS

BLENDED = "blended"
COMPONENT_CHOICES = [(c, c.removesuffix("_usd_per_mtok").replace("_", " ")) for c in COMPONENTS] + [
    (BLENDED, "blended (input:output ratio)")]
UNIT = "USD per 1M tokens"


class Watch(models.Model):
    class Target(models.TextChoices):
        MODEL = "model", "A canonical model (any provider)"
        PROVIDER = "provider", "A provider (any model)"
        OFFERING = "offering", "A model at one provider"
        SIZE_CLASS = "size-class", "A size class (e.g. 70b-class)"

    class Condition(models.TextChoices):
        BELOW = "below", "Market price falls below a threshold"
        ABOVE = "above", "Market price rises above a threshold"
        CHANGE = "change", "Market price changes by more than N %"
        NEW_PROVIDER = "new-provider", "A new provider starts offering it"
        DISAPPEARS = "disappears", "An offering disappears"
        DISAGREEMENT = "disagreement", "Sources start disagreeing on it"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    name = models.CharField(max_length=200, blank=True, help_text="Your name for the watch (optional).")
    target = models.CharField(max_length=16, choices=Target.choices, help_text="What the watch is on.")
    model = models.ForeignKey("catalog.Model", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    provider = models.ForeignKey("catalog.Provider", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+")
    size_class = models.CharField(max_length=50, blank=True, db_index=True,
                                  help_text="A model size class (e.g. 70b-class), for the size-class target.")
    condition = models.CharField(max_length=16, choices=Condition.choices, help_text="When to alert.")
    component = models.CharField(max_length=40, choices=COMPONENT_CHOICES, default=COMPONENTS[0],
                                 help_text="The price the threshold or change applies to.")
    blend_input_ratio = models.PositiveSmallIntegerField(default=3, help_text="Blended price: input share (3 of 3:1).")
    blend_output_ratio = models.PositiveSmallIntegerField(default=1,
                                                          help_text="Blended price: output share (1 of 3:1).")
    threshold_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M tokens.")
    change_pct = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True,
                                     help_text="Alert when the price moves by more than this many percent.")
    paused = models.BooleanField(default=False, help_text="A paused watch makes no alerts.")
    email = models.BooleanField(default=True, help_text="Send alerts to the owner's email address.")
    digest = models.BooleanField(default=False, help_text="One email a day with the day's alerts instead of "
                                 "one email per alert (webhooks are sent at once either way).")
    webhook_url = models.URLField(max_length=500, blank=True, help_text="HTTPS URL that receives each alert as a "
                                  "signed JSON POST (blank: no webhook).")
    webhook_secret = models.CharField(max_length=200, blank=True,
                                      help_text="Signs each webhook (HMAC-SHA256); the receiver keeps a copy.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the watch was made; it alerts on what "
                                      "happens after.")
    updated_at = models.DateTimeField(auto_now=True, help_text="Last change to the watch.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The evaluation's candidate read: active watches by model, by provider (size class has its own).
            models.Index(fields=["model", "paused"], name="watch_model"),
            models.Index(fields=["provider", "paused"], name="watch_provider"),
        ]

    def __str__(self) -> str:
        return self.name or f"watch {self.pk}"

    def clean(self) -> None:
        """The target names what its kind needs, the condition has its number, the webhook passes the guard."""
        from django.core.exceptions import ValidationError

        from .webhooks import WebhookError, webhook_url_check

        errors: dict[str, str] = {}
        needs = {self.Target.MODEL: ("model",), self.Target.PROVIDER: ("provider",),
                 self.Target.OFFERING: ("model", "provider"), self.Target.SIZE_CLASS: ("size_class",)}
        for name in needs.get(self.target, ()):
            if not getattr(self, name if name == "size_class" else f"{name}_id"):
                errors[name] = f"Choose a {name.replace('_', ' ')} for this target."
        # Keep only what the target uses, so a watch on a model does not also match a provider.
        if self.target in needs:
            if "model" not in needs[self.target]:
                self.model = None
            if "provider" not in needs[self.target]:
                self.provider = None
            if self.target != self.Target.SIZE_CLASS:
                self.size_class = ""
        if self.threshold_usd_per_mtok is not None and self.threshold_usd_per_mtok < 0:
            # Whatever the condition: the money column refuses a negative value on save.
            errors["threshold_usd_per_mtok"] = "A price threshold cannot be negative."
        elif self.condition in (self.Condition.BELOW, self.Condition.ABOVE) and self.threshold_usd_per_mtok is None:
            errors["threshold_usd_per_mtok"] = "Give the threshold in USD per 1M tokens."
        if self.condition == self.Condition.CHANGE and (self.change_pct is None or self.change_pct <= 0):
            errors["change_pct"] = "Give the change in percent (more than 0)."
        if self.component == BLENDED and self.blend_input_ratio + self.blend_output_ratio == 0:
            errors["blend_input_ratio"] = "The blend ratio needs at least one non-zero side (3:1 is usual)."
        if self.webhook_url:
            try:
                webhook_url_check(self.webhook_url)
            except WebhookError as exc:
                # A name that does not resolve today may tomorrow; only a refusal is an error here.
                if exc.permanent:
                    errors["webhook_url"] = exc.message
            if not self.webhook_secret:
                errors["webhook_secret"] = "A webhook needs a secret to sign its requests with."  # noqa: S105
        if not self.email and not self.webhook_url:
            errors["email"] = "Choose at least one channel: email or a webhook."
        if errors:
            raise ValidationError(errors)

    def target_label(self) -> str:
        if self.target == self.Target.MODEL:
            return self.model.name if self.model else "?"
        if self.target == self.Target.PROVIDER:
            return self.provider.name if self.provider else "?"
        if self.target == self.Target.OFFERING:
            return f"{self.model.name if self.model else '?'} at {self.provider.name if self.provider else '?'}"
        return self.size_class


class MarketState(models.Model):
    """The market offering as the alerts last saw it; the next derivation compares the market with it."""

    provider_id = models.BigIntegerField()
    model_id = models.BigIntegerField()
    region = models.CharField(max_length=100, blank=True)
    service_tier = models.CharField(max_length=32, default="standard")
    min_prompt_tokens = models.PositiveIntegerField(default=0)
    present = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change that made events.")
    values = models.JSONField(default=dict, help_text="{component: decimal text or null, price_label: text}")
    sources_agree = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["provider_id", "model_id", "region", "service_tier", "min_prompt_tokens"],
            name="alerts_market_state_unique")]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.model_id} v{self.version}"


class DeriveLock(models.Model):
    """One row (id 1): derivation and evaluation run under its row lock, one at a time."""

    baselined = models.BooleanField(default=False, help_text="The first look at the market made no events.")

    def __str__(self) -> str:
        return "alerts derivation lock"


class MarketEvent(models.Model):
    class Kind(models.TextChoices):
        PRICE = "price", "Price changed"
        APPEARED = "appeared", "Offering appeared"
        DISAPPEARED = "disappeared", "Offering disappeared"
        DISAGREEMENT = "disagreement", "Sources started disagreeing"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    provider = models.ForeignKey("catalog.Provider", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey("catalog.Model", on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=100, blank=True)
    service_tier = models.CharField(max_length=32, default="standard")
    min_prompt_tokens = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField()
    old_values = models.JSONField(default=dict, help_text="USD per 1M tokens per component, as decimal text.")
    new_values = models.JSONField(default=dict, help_text="USD per 1M tokens per component, as decimal text.")
    source = models.ForeignKey("sources.Source", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    observed_at = models.DateTimeField(null=True, blank=True, help_text="When the source showed the new state.")
    created_at = models.DateTimeField(auto_now_add=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["provider", "model", "region", "service_tier", "min_prompt_tokens", "version", "kind"],
            name="alerts_event_unique")]
        # The sweep's read: events not yet checked against the watches.
        indexes = [models.Index(fields=["id"], condition=Q(evaluated_at__isnull=True), name="event_pending")]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider_id}/{self.model_id} v{self.version}"


class Alert(models.Model):
    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="alerts")
    event = models.ForeignKey(MarketEvent, on_delete=models.CASCADE, related_name="alerts")
    old_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    new_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    percent_change = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["watch", "event"], name="alert_unique_watch_event")]

    def __str__(self) -> str:
        return f"alert {self.pk} (watch {self.watch_id}, event {self.event_id})"


class Delivery(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"
        DIGEST = "digest", "Daily digest email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Waiting to retry"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="deliveries",
                              help_text="The watch whose alert this delivers.")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries",
                              help_text="The alert delivered; empty for a daily digest.")
    channel = models.CharField(max_length=16, choices=Channel.choices, help_text="How it is delivered.")
    digest_day = models.DateField(null=True, blank=True, help_text="The UTC day a digest covers.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING,
                              help_text="pending, sending, retrying, delivered or failed (gave up).")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries so far.")
    response_code = models.PositiveSmallIntegerField(null=True, blank=True,
                                                     help_text="The receiver's HTTP status on the last try (webhooks).")
    last_error = models.CharField(max_length=500, blank=True, help_text="Why the last try failed.")
    next_retry_at = models.DateTimeField(null=True, blank=True, help_text="When the next try is due.")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last took it.")
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When the receiver accepted it.")
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                                       help_text="Sent as Idempotency-Key: the same on every attempt.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the delivery was queued.")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        # Plain (not partial) unique keys, so that INSERT ... ON CONFLICT can name them; NULLs are distinct, so
        # digests (no alert) never meet on the first and per-alert deliveries (no day) never on the second.
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel"], name="delivery_unique_alert_channel"),
            models.UniqueConstraint(fields=["watch", "digest_day"], name="delivery_unique_digest_day"),
        ]
        # The sweep's read: deliveries due (pending, retry time passed, or a claim gone stale).
        indexes = [models.Index(fields=["status", "next_retry_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.channel} delivery {self.pk} ({self.status})"
