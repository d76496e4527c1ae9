"""Price history: what each offering cost over which interval, and when it changed."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.common.fields import ExactDecimalField
from scrapers.records import TOKEN_PRICE_FIELDS

# Money columns are ExactDecimalField: NUMERIC(20,10) rounded real prices such as
# LiteLLM's 15.000020000000002 USD per 1M tokens (invariant 5: money is exact).

COMPONENTS = TOKEN_PRICE_FIELDS


class Basis(models.TextChoices):
    STATED = "stated", "Dates stated by the source"
    OBSERVED = "observed", "Dates from snapshot observation times"


class PriceObservation(models.Model):
    """What one snapshot said about one offering. History is derived from these,
    so it does not depend on the order snapshots arrive in (invariant 4)."""

    # No index of its own on snapshot: observation_unique_dated leads with it (each index is a write per row
    # of every ingest).
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.CASCADE, related_name="observations",
                                 db_index=False)
    offering = models.ForeignKey("catalog.Offering", on_delete=models.CASCADE, related_name="observations")
    input_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    output_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    cached_input_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    cache_write_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    reasoning_usd_per_mtok = ExactDecimalField(null=True, blank=True)
    unit_prices = models.JSONField(default=list, blank=True)
    price_label = models.CharField(max_length=16, blank=True)
    # What this snapshot says of the offering besides its price: the offering shows the newest
    # snapshot's word (by observation time), whatever order the snapshots arrived in.
    mode = models.CharField(max_length=50, blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    provider_key = models.CharField(max_length=100, blank=True, help_text="The provider as the source spells it.")
    max_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    # Set only for sources that state their intervals ([stated_from, stated_to), None = open).
    stated = models.BooleanField(default=False)
    stated_from = models.DateTimeField(null=True, blank=True)
    stated_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "offering", "stated_from"], name="observation_unique_dated"
            ),
            models.UniqueConstraint(
                fields=["snapshot", "offering"],
                condition=Q(stated_from__isnull=True),
                name="observation_unique_undated",
            ),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.snapshot_id} offering {self.offering_id}"


class Price(models.Model):
    """One offering's price over [effective_from, effective_to); open ends are None."""

    # Indexed by price_unique_from, which leads with it.
    offering = models.ForeignKey("catalog.Offering", on_delete=models.CASCADE, related_name="prices", db_index=False)
    # The offering's provider, copied onto each row so that "this provider's prices, in id order" is one
    # index range (price_provider_id) instead of a walk over every price joined to its offering: the
    # commonest filter of the API and the exports stays fast for a provider with a handful of rows in a
    # table of millions, whatever plan a prepared statement settles on. A provider is part of an
    # offering's identity and never changes; on PostgreSQL a composite foreign key to
    # (offering.id, offering.provider_id) keeps the copy equal to the original (migration 0002), and implies
    # the single-column keys of these two fields, which PostgreSQL therefore does not have (migration 0008).
    provider = models.ForeignKey("catalog.Provider", on_delete=models.PROTECT, related_name="prices",
                                 db_index=False, help_text="The offering's provider (a copy, for filtering).")
    effective_from = models.DateTimeField(null=True, blank=True, help_text="Inclusive; empty = since the beginning.")
    effective_to = models.DateTimeField(null=True, blank=True, help_text="Exclusive; empty = still current.")
    input_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M input tokens.")
    output_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M output tokens.")
    cached_input_usd_per_mtok = ExactDecimalField(
        null=True, blank=True, help_text="USD per 1M cached input tokens (cache read)."
    )
    cache_write_usd_per_mtok = ExactDecimalField(
        null=True, blank=True, help_text="USD per 1M tokens written to the prompt cache."
    )
    reasoning_usd_per_mtok = ExactDecimalField(
        null=True, blank=True, help_text="USD per 1M reasoning tokens, where priced apart from output."
    )
    unit_prices = models.JSONField(
        default=list, blank=True, help_text="Non-token prices: [{name, unit, usd_per_unit}] (per image, request…)."
    )
    price_label = models.CharField(
        max_length=16, blank=True, help_text="free, variable or unknown: a labelled price is never ranked cheapest."
    )
    basis = models.CharField(max_length=16, choices=Basis.choices)
    snapshot = models.ForeignKey(
        "sources.Snapshot", on_delete=models.PROTECT, related_name="+", help_text="First snapshot that showed it."
    )
    first_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="The first sighting of a document that stated this price.")
    last_confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="The newest sighting of a document that still states this price.")

    class Meta:
        ordering = ["offering", "effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["offering", "effective_from"], name="price_unique_from"),
            models.UniqueConstraint(
                fields=["offering"], condition=Q(effective_from__isnull=True), name="price_unique_open_from"
            ),
        ]
        indexes = [
            # as_of and "current" queries: effective_to IS NULL or > date, per offering.
            models.Index(fields=["effective_to", "offering"], name="price_current"),
            # A provider's prices in the API's default order (id), with the dates its filters test (from,
            # as_of): a keyset page finds its ids in this index alone, without reading rejected rows.
            models.Index(fields=["provider", "id", "effective_from", "effective_to"], name="price_provider_id"),
            # ?ordering=effective_from / -effective_from (newest first), and incremental pulls by start date.
            models.Index(fields=["effective_from", "id"], name="price_from_id"),
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} {self.effective_from}–{self.effective_to}"

    def save(self, *args, **kwargs) -> None:
        if self.provider_id is None and self.offering_id is not None:
            self.provider_id = self.offering.provider_id
        super().save(*args, **kwargs)


class PriceChange(models.Model):
    """A component's price moved from one interval to the next."""

    offering = models.ForeignKey("catalog.Offering", on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(db_index=True)
    component = models.CharField(max_length=40)
    old_usd_per_mtok = ExactDecimalField()
    new_usd_per_mtok = ExactDecimalField()
    percent_change = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-changed_at", "offering", "component"]
        constraints = [
            models.UniqueConstraint(fields=["offering", "changed_at", "component"], name="pricechange_unique")
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} {self.component} {self.old_usd_per_mtok}→{self.new_usd_per_mtok}"


class MarketPrice(models.Model):
    """The market's one answer for an offering: provider x canonical model x region x tier x context tier.

    Each source's current price is evidence (the source-level Price rows stay as they are);
    this row is the one chosen by the policy in apps.pricing.market (newest confirmation
    wins, source priority breaks ties), with every source's word beside it, so that
    disagreement is shown, never hidden. Refreshed in the transaction of each snapshot that
    touches the offering; a pure function of the current prices.
    """

    # Indexed by market_price_unique_offering and market_price_model, which lead with them.
    provider = models.ForeignKey("catalog.Provider", on_delete=models.CASCADE, related_name="market_prices",
                                 db_index=False)
    model = models.ForeignKey("catalog.Model", on_delete=models.CASCADE, related_name="market_prices", db_index=False)
    region = models.CharField(max_length=100, blank=True)
    service_tier = models.CharField(max_length=32, default="standard")
    min_prompt_tokens = models.PositiveIntegerField(default=0)
    price = models.ForeignKey(Price, on_delete=models.CASCADE, related_name="+",
                              help_text="The chosen source price.")
    source = models.ForeignKey("sources.Source", on_delete=models.CASCADE, related_name="+",
                               help_text="The source of the chosen price.")
    input_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M input tokens.")
    output_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M output tokens.")
    cached_input_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M cached input tokens.")
    cache_write_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M cache-write tokens.")
    reasoning_usd_per_mtok = ExactDecimalField(null=True, blank=True, help_text="USD per 1M reasoning tokens.")
    price_label = models.CharField(max_length=16, blank=True)
    effective_from = models.DateTimeField(null=True, blank=True, help_text="Start of the chosen price.")
    last_confirmed_at = models.DateTimeField(null=True, blank=True, help_text="The chosen price's confirmation.")
    source_count = models.PositiveSmallIntegerField(help_text="Sources with a current price for the offering.")
    sources_agree = models.BooleanField(help_text="Every current source value equal as a decimal.")
    max_gap_pct = ExactDecimalField(null=True, blank=True,
                                    help_text="Largest relative gap between sources on one component, % of the lower.")
    # [{source, price, last_confirmed_at, <components>, price_label}] for every source, chosen first.
    evidence = models.JSONField(default=list)

    class Meta:
        ordering = ["provider", "model", "region", "service_tier", "min_prompt_tokens"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "model", "region", "service_tier", "min_prompt_tokens"],
                                    name="market_price_unique_offering"),
        ]
        indexes = [
            models.Index(fields=["model", "provider"], name="market_price_model"),
            models.Index(fields=["sources_agree", "max_gap_pct"], name="market_price_disagree"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}/{self.model_id} {self.service_tier}"


class MarketDisagreement(models.Model):
    """One component of one market offering on which the current sources differ (a read model of
    MarketPrice.evidence, refreshed with it, so BI tools can page and sort disagreements by gap)."""

    market_price = models.ForeignKey(MarketPrice, on_delete=models.CASCADE, related_name="disagreements")
    provider = models.ForeignKey("catalog.Provider", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey("catalog.Model", on_delete=models.CASCADE, related_name="+")
    region = models.CharField(max_length=100, blank=True)
    service_tier = models.CharField(max_length=32, default="standard")
    min_prompt_tokens = models.PositiveIntegerField(default=0)
    component = models.CharField(max_length=40, help_text="Which price the sources differ on.")
    low_usd_per_mtok = ExactDecimalField(help_text="The lowest current source value, USD per 1M tokens.")
    high_usd_per_mtok = ExactDecimalField(help_text="The highest current source value, USD per 1M tokens.")
    gap_pct = ExactDecimalField(null=True, blank=True, help_text="(high - low) / low x 100; null when low is 0.")
    # [{source, value, last_confirmed_at, chosen}] for every source that gives the component.
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["-gap_pct", "id"]
        constraints = [
            models.UniqueConstraint(fields=["market_price", "component"], name="market_disagreement_unique"),
        ]
        indexes = [models.Index(fields=["gap_pct", "id"], name="market_disagreement_gap")]

    def __str__(self) -> str:
        return f"{self.market_price_id} {self.component} {self.low_usd_per_mtok}-{self.high_usd_per_mtok}"
