"""Where an ingest's time goes: each phase's wall time, this process's CPU and its PostgreSQL backend's CPU.

Ingests the newest LiteLLM file into an empty database (or all seven in date order, ``--seven``) ``--repeat``
times through the real pipeline, with a timer around each phase of the price applier (the service functions
are wrapped in place; nothing else changes), and prints the per-ingest mean of the warm runs (the first two
are left out). The CPU columns hold on a loaded machine, where wall time is mostly waiting for a core; the
backend's CPU comes from /proc, in 10 ms ticks, so use several runs.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tw_ingest_phases .venv/bin/python bench/ingest_phases.py \
      [--repeat 10] [--seven]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchdb import LITELLM_OBSERVED, cpu_seconds, ensure_database

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tw_ingest_phases")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # as bench/ingest.py: the alerts' hint is queued, not run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--seven", action="store_true", help="all seven LiteLLM files in date order per run")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends.base.base import BaseDatabaseWrapper

    import apps.pricing.services as pricing
    import scrapers.litellm as litellm
    from apps.sources import services as sources
    from apps.sources.defaults import sources_ensure_defaults
    from apps.sources.models import Source

    call_command("migrate", verbosity=0)
    files = sorted((REPO / "fixtures" / "litellm").glob("model_prices_*.json"))
    backend_pid = 0

    def backend_cpu() -> float:
        return cpu_seconds(backend_pid) or 0.0

    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # phase -> wall, Python, PostgreSQL
    timing = [False]

    def timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            if not timing[0]:
                return function(*a, **k)
            wall, python, postgres = time.perf_counter(), time.process_time(), backend_cpu()
            try:
                return function(*a, **k)
            finally:
                total = totals[label]
                total[0] += time.perf_counter() - wall
                total[1] += time.process_time() - python
                total[2] += backend_cpu() - postgres
        return wrapper

    # Phases, in the order an ingest runs them; indented ones are inside the one above.
    phases = [(litellm, "parse", "parse"), (sources, "snapshot_store", "store the document"),
              (pricing, "providers_ensure", "providers"), (pricing, "aliases_ensure", "aliases and models"),
              (pricing, "_offerings_ensure", "offerings"),
              (pricing, "bulk_insert", "COPY of observations and new prices"),
              (pricing, "_history_append", "history step (with the market)"),
              (pricing, "_offering_attributes_sync", "  offering attributes"),
              (pricing, "aliases_sync_hints", "  alias hints"),
              (pricing, "market_refresh_for_source", "  market refresh"),
              (sources, "shrink_check", "shrink guard")]
    for module, name, label in phases:
        setattr(module, name, timed(label, getattr(module, name)))
    BaseDatabaseWrapper.commit = timed("COMMIT (deferred key checks)", BaseDatabaseWrapper.commit)

    whole = [0.0, 0.0, 0.0]
    for run in range(args.repeat):
        call_command("flush", interactive=False, verbosity=0)
        sources_ensure_defaults(Source)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        source = Source.objects.get(key="litellm")
        timing[0] = run >= 2
        wall, python, postgres = time.perf_counter(), time.process_time(), backend_cpu()
        for path in files if args.seven else files[-1:]:
            result = sources.source_ingest_bytes(
                source=source, content=path.read_bytes(), trigger="command",
                observed_at=LITELLM_OBSERVED[path.name], meta=sources.FetchMeta(filename=path.name))
            assert result.status in {"ok", "unchanged"}, result.message
        if timing[0]:
            whole[0] += time.perf_counter() - wall
            whole[1] += time.process_time() - python
            whole[2] += backend_cpu() - postgres
        timing[0] = False
    runs = max(args.repeat - 2, 1)
    print(f"{'seven files' if args.seven else 'newest file'} into an empty database, mean of {runs} warm runs "
          f"(load {os.getloadavg()[0]:.1f}); ms per run:")
    print(f"{'phase':40s} {'wall':>8s} {'Python':>8s} {'PostgreSQL':>10s}")
    print(f"{'the whole ingest':40s} {whole[0] * 1000 / runs:8.1f} {whole[1] * 1000 / runs:8.1f} "
          f"{whole[2] * 1000 / runs:10.1f}")
    for label, (wall, python, postgres) in totals.items():
        print(f"{label:40s} {wall * 1000 / runs:8.1f} {python * 1000 / runs:8.1f} {postgres * 1000 / runs:10.1f}")


if __name__ == "__main__":
    main()
