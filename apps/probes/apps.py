from django.apps import AppConfig


class ProbesConfig(AppConfig):
    name = "apps.probes"
    label = "probes"
    verbose_name = "Speed probes"

    def ready(self) -> None:
        from apps.sources.registry import FormatSpec, register

        # A probe's raw samples are a snapshot of the "probe" source like any fetched document, parsed by
        # scrapers/probe.py and applied here: the run is re-derivable from its bytes (invariant 1).
        register("probe", FormatSpec("probe", "apps.probes.services.probe_run_apply", needs_observed_at=False,
                                     label="tokenwatch probe run (JSON)"))
