"""ECB reference rates, per EUR as published and crossed to USD (the unit prices are stored in)."""

from __future__ import annotations

from django.db import models

from apps.common.fields import ExactDecimalField


class FxRate(models.Model):
    """One currency's reference rate on one ECB publication day.

    ``per_eur`` is exactly what the ECB printed (units per 1 EUR; 1 for EUR itself). ``per_usd`` is the cross
    rate a USD price is multiplied by: per_eur / USD's per_eur of the same day, divided in a 50-digit context
    and rounded half-even to PER_USD_PLACES decimal places (apps.fx.services.cross_rate). The ECB prints 5-6
    significant digits, so the rounding is 4+ orders of magnitude below the data's own precision.
    """

    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR, JPY.")
    day = models.DateField(help_text="The ECB publication (TARGET) day of the rate.")
    per_eur = ExactDecimalField(help_text="Units of the currency per 1 EUR, as the ECB printed it.")
    per_usd = ExactDecimalField(help_text="Units of the currency per 1 USD (cross rate, 10 decimal places).")
    snapshot = models.ForeignKey("sources.Snapshot", on_delete=models.PROTECT, related_name="+",
                                 help_text="The snapshot whose value stands (the latest observed that states it).")

    class Meta:
        ordering = ["currency", "day"]
        constraints = [
            # Also the index of every lookup: "the last rate of X on or before D" walks it backwards.
            models.UniqueConstraint(fields=["currency", "day"], name="fx_rate_currency_day"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.day}: {self.per_eur} per EUR"


class FxCurrency(models.Model):
    """The currencies there are rates for, and the span of days: validates ?currency= in one small lookup."""

    code = models.CharField(max_length=3, primary_key=True)
    first_day = models.DateField()
    last_day = models.DateField(help_text="The newest published rate (a currency the ECB dropped stops here).")

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "FX currencies"

    def __str__(self) -> str:
        return self.code
