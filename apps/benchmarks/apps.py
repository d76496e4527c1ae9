from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "apps.benchmarks"
    label = "benchmarks"
    verbose_name = "Benchmarks and hardware"

    def ready(self) -> None:
        from apps.sources.registry import FormatSpec, register

        runs = "apps.benchmarks.services.benchmark_runs_apply"
        hardware = "apps.benchmarks.services.hardware_prices_apply"
        # LLMPerf summaries carry their run's unix timestamp; the CSVs date themselves
        # only when every row has a date (else the ingest must say --observed-at).
        register("llmperf", FormatSpec("llmperf", runs, needs_observed_at=False,
                                       label="LLMPerf leaderboard summary (JSON)"))
        register("benchmarks-csv", FormatSpec("benchmarks_csv", runs, label="Benchmarks (curated CSV)"))
        # A SkyPilot catalog is the cloud's whole price sheet: an instance it leaves out has ended, so a
        # truncated sheet is held by the shrink guard, and a sheet seen again moves along its timeline.
        register("gpu-catalog", FormatSpec("gpu_catalog", hardware, label="SkyPilot GPU catalog (CSV)",
                                           listing="apps.benchmarks.services.hardware_listings_compared",
                                           rebuild="apps.benchmarks.services.hardware_history_rebuild_source"))
        register("hardware-csv", FormatSpec("hardware_csv", hardware, label="Hardware prices (curated CSV)"))
        # The provider landscape updates catalog providers; the catalog app leaves
        # registration to the issue that brought the format (this one).
        register("providers-csv", FormatSpec("providers_csv", "apps.catalog.ingest.providers_apply",
                                             label="Providers (curated CSV)"))
