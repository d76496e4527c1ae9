from django.apps import AppConfig


class FxConfig(AppConfig):
    name = "apps.fx"
    label = "fx"
    verbose_name = "Exchange rates"

    def ready(self) -> None:
        from apps.sources.registry import FormatSpec, register

        # The ECB's reference rates come through the same pipeline as prices: snapshot (raw bytes, sha256),
        # pure parse (scrapers/ecb.py), one transaction; every file states its own dates.
        register("ecb-fx", FormatSpec("ecb", "apps.fx.services.fx_rates_apply", needs_observed_at=False,
                                      label="ECB euro reference rates (XML, CSV or zipped CSV)"))
