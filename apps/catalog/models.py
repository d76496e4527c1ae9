"""Who sells what: providers, canonical models, the raw ids that name them, offerings."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from .attributes import MODALITIES

MODALITY_CHOICES = list(MODALITIES)


class Provider(models.Model):
    class Kind(models.TextChoices):
        FIRST_PARTY = "first-party", "First-party (model maker)"
        INFERENCE_CLOUD = "inference-cloud", "Inference cloud"
        HYPERSCALER = "hyperscaler", "Hyperscaler"
        AGGREGATOR = "aggregator", "Aggregator (resells others)"
        SILICON = "silicon", "Silicon vendor"
        LOCAL_RUNTIME = "local-runtime", "Local runtime"
        UNKNOWN = "unknown", "Unknown"

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.UNKNOWN)
    homepage = models.URLField(max_length=500, blank=True)
    primary_offering = models.CharField(max_length=300, blank=True)
    key_differentiation = models.CharField(max_length=500, blank=True)
    target_metric = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


model_slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9.\-]*$", "Lower-case letters, digits, dots and hyphens.")


class Model(models.Model):
    """A canonical model: one row however many names the sources give it."""

    # Dots are part of real model names (llama-3.1-70b-instruct), so not a SlugField.
    slug = models.CharField(max_length=200, unique=True, validators=[model_slug_validator])
    name = models.CharField(max_length=200)
    creator = models.CharField(max_length=100, blank=True)
    family = models.CharField(max_length=100, blank=True, db_index=True)
    version = models.CharField(max_length=50, blank=True)
    parameter_count_b = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Parameters in billions; blank = undisclosed."
    )
    variant = models.CharField(max_length=50, blank=True, help_text="instruct, chat, base; blank for closed models.")
    size_class = models.CharField(max_length=50, blank=True, db_index=True, help_text="e.g. 70b-class.")
    active_parameter_count_b = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True,
        help_text="Mixture-of-experts: parameters active per token, in billions; blank for dense or unknown.")
    modality = models.CharField(max_length=20, blank=True, db_index=True, choices=MODALITY_CHOICES,
                                help_text="What it takes and gives: text, vision, embedding…; blank = unknown.")
    open_weights = models.BooleanField(null=True, blank=True,
                                       help_text="Weights published (downloadable); blank = unknown.")
    released_on = models.DateField(null=True, blank=True,
                                   help_text="Release date: the date in a dated id, or the earliest a source states.")
    # Ingest fills the attributes above from identity and sources; the ones a curator edits in the admin
    # are listed here and left alone from then on.
    curated_fields = models.JSONField(default=list, blank=True,
                                      help_text="Attributes a curator set; ingest no longer changes them.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ModelAlias(models.Model):
    """A raw model id as one source spells it, and the canonical model it names (if known)."""

    class Status(models.TextChoices):
        RULE = "rule", "Resolved by rule"
        CURATED = "curated", "Resolved by curated table"
        MANUAL = "manual", "Resolved by a curator"
        UNRESOLVED = "unresolved", "Unresolved"
        IGNORED = "ignored", "Not a model (ignored)"

    # Indexed by alias_unique_source_raw_id, which leads with it.
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="aliases", db_index=False)
    raw_id = models.CharField(max_length=500)
    model = models.ForeignKey(Model, on_delete=models.SET_NULL, null=True, blank=True, related_name="aliases")
    # Not indexed: five values, and the curation queue's "unresolved" is a tenth of the table, which a scan of
    # it reads as fast; the index was two writes (btree and LIKE pattern) per alias of every ingest.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNRESOLVED)
    rule = models.CharField(max_length=100, blank=True, help_text="The rule or table row that resolved it.")
    provider_hint = models.CharField(max_length=100, blank=True)
    name_hint = models.CharField(max_length=300, blank=True)
    # What the source says about the model behind this raw id (merged over its snapshots, see
    # apps.catalog.attributes); the canonical model's attributes merge these over its aliases.
    released_on = models.DateField(null=True, blank=True)
    modality = models.CharField(max_length=20, blank=True)
    open_weights = models.BooleanField(null=True, blank=True)
    curator = models.CharField(max_length=150, blank=True, help_text="Who resolved or ignored it by hand.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "model aliases"
        ordering = ["source", "raw_id"]
        constraints = [models.UniqueConstraint(fields=["source", "raw_id"], name="alias_unique_source_raw_id")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.raw_id}"


class Offering(models.Model):
    """What one source says a provider sells: a raw model id in a region, service tier and context tier."""

    # Indexed by offering_natural_key, which leads with it.
    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="offerings", db_index=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="offerings")
    alias = models.ForeignKey(ModelAlias, on_delete=models.PROTECT, related_name="offerings")
    source_model_id = models.CharField(max_length=500)
    region = models.CharField(max_length=100, blank=True)
    service_tier = models.CharField(max_length=32, default="standard")
    min_prompt_tokens = models.PositiveIntegerField(
        default=0, help_text="Long-context tier: the price applies above this many prompt tokens."
    )
    # Not indexed: a handful of values, four in five rows "chat" (no plan used the index; every ingest wrote two).
    mode = models.CharField(max_length=50, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    max_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["provider__name", "source_model_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "provider", "source_model_id", "region", "service_tier", "min_prompt_tokens"],
                name="offering_natural_key",
            )
        ]

    def __str__(self) -> str:
        extra = [p for p in (self.region, self.service_tier if self.service_tier != "standard" else "") if p]
        if self.min_prompt_tokens:
            extra.append(f">{self.min_prompt_tokens // 1000}k")
        suffix = f" ({', '.join(extra)})" if extra else ""
        return f"{self.provider.slug}/{self.source_model_id}{suffix}"
