from django.apps import AppConfig


class MarketConfig(AppConfig):
    name = "apps.market"
    label = "market"
    verbose_name = "Market sizes"

    def ready(self) -> None:
        from apps.sources.registry import FormatSpec, register

        register("market-csv", FormatSpec("market_csv", "apps.market.services.market_sizes_apply",
                                          label="Market segments (curated CSV)"))
