"""Watches (one's own, read-write; the webhook secret is write-only) and their deliveries (read-only)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.catalog.models import Model, Provider

from ..models import Delivery, Watch


class WatchSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", queryset=Model.objects.all(), required=False,
                                         allow_null=True, help_text="Canonical model slug (targets model, offering).")
    provider = serializers.SlugRelatedField(slug_field="slug", queryset=Provider.objects.all(), required=False,
                                            allow_null=True, help_text="Provider slug (targets provider, offering).")
    webhook_secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                           help_text="Signs each webhook (HMAC-SHA256); never returned.")
    threshold_usd_per_mtok = serializers.DecimalField(max_digits=30, decimal_places=10, required=False,
                                                      allow_null=True, min_value=Decimal(0),
                                                      help_text="USD per 1M tokens (0 or more).")
    alert_count = serializers.SerializerMethodField(help_text="Alerts the watch has made.")

    class Meta:
        model = Watch
        fields = ["id", "name", "target", "model", "provider", "size_class", "condition", "component",
                  "blend_input_ratio", "blend_output_ratio", "threshold_usd_per_mtok", "change_pct", "paused",
                  "email", "digest", "webhook_url", "webhook_secret", "alert_count", "created_at", "updated_at"]
        read_only_fields = ["id", "alert_count", "created_at", "updated_at"]
        extra_kwargs = {"id": {"help_text": "The watch's id."}}

    def get_alert_count(self, watch: Watch) -> int:
        counted = getattr(watch, "alert_count", None)  # the list's annotation; a new or updated watch counts
        return counted if counted is not None else watch.alerts.count()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The model's own checks (Watch.clean), as the form runs them, answered as a 400 per field."""
        instance = self.instance or Watch(owner=self.context["request"].user)
        probe = Watch(**{f.attname: getattr(instance, f.attname) for f in Watch._meta.concrete_fields})
        for name, value in attrs.items():
            setattr(probe, name, value)
        try:
            probe.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        for name in ("model", "provider", "size_class"):  # clean() drops what the target does not use
            attrs[name] = getattr(probe, name)
        return attrs


class DeliverySerializer(serializers.ModelSerializer):
    alert = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The alert delivered (id); null for a "
                                               "digest.")

    class Meta:
        model = Delivery
        fields = ["id", "watch", "alert", "channel", "digest_day", "status", "attempts", "response_code",
                  "last_error", "next_retry_at", "delivered_at", "idempotency_key", "created_at"]
        read_only_fields = fields
        extra_kwargs = {"id": {"help_text": "The delivery's id."}}
