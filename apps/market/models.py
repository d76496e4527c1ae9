"""Market segments, their sizes by year (actual or projected), and the growth rates sources state."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

SIZE = {"max_digits": 14, "decimal_places": 3}  # USD billions to the million


class Segment(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SizeEstimate(models.Model):
    """A segment's size in one year, as one source gives it."""

    class Kind(models.TextChoices):
        ACTUAL = "actual", "Actual"
        PROJECTION = "projection", "Projection"

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="sizes")
    year = models.PositiveSmallIntegerField()
    value_usd_bn = models.DecimalField(**SIZE, help_text="Market size, USD billions.")
    kind = models.CharField(max_length=16, choices=Kind.choices,
                            help_text="Actual for a year before the document was observed, else projection.")
    driver = models.CharField(max_length=300, blank=True, help_text="What the source says drives the segment.")
    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="size_estimates")
    source_label = models.CharField(max_length=200, blank=True, help_text="Who published it, per the file.")
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.PROTECT, related_name="size_estimates",
                                 help_text="The newest snapshot stating it.")

    class Meta:
        ordering = ["segment__name", "year"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "year", "source", "source_label"],
                                    name="size_estimate_natural_key"),
            models.CheckConstraint(condition=Q(value_usd_bn__gt=0), name="size_estimate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.year}: {self.value_usd_bn} USD bn ({self.kind})"


class StatedCagr(models.Model):
    """The compound annual growth rate a source states for a segment over [start_year, end_year]."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="stated_cagrs")
    start_year = models.PositiveSmallIntegerField()
    end_year = models.PositiveSmallIntegerField()
    cagr_pct = models.DecimalField(max_digits=8, decimal_places=3, help_text="Percent per year, e.g. 65.")
    driver = models.CharField(max_length=300, blank=True)
    source = models.ForeignKey("sources.Source", on_delete=models.PROTECT, related_name="stated_cagrs")
    source_label = models.CharField(max_length=200, blank=True)
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.PROTECT, related_name="stated_cagrs")

    class Meta:
        verbose_name = "stated CAGR"
        ordering = ["segment__name", "start_year", "end_year"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "start_year", "end_year", "source", "source_label"],
                                    name="stated_cagr_natural_key"),
            models.CheckConstraint(condition=Q(end_year__gt=F("start_year")), name="stated_cagr_span"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} {self.start_year}-{self.end_year}: {self.cagr_pct}%"
