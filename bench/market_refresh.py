"""The market refresh of one LiteLLM ingest, alone: its Python CPU and wall time, two checkouts alternating.

Each ingest ends by refreshing the market rows of every (provider, model) its source prices
(``apps.pricing.market.market_prices_refresh``): read the evidence, rank it, compare with the stored rows,
write the differences. This times that step on the market the seven LiteLLM files leave (2,492 rows), in two
cases, each refresh in a transaction that is rolled back:

- unchanged: nothing moved since the last refresh (every row read, ranked and compared; none written);
- sighting: every open price of the source confirmed a day later first (outside the timing), as the next
  day's file does, so every market row's confirmation and evidence are rewritten.

With ``--against CHECKOUT`` the same measurement runs in turn with this checkout's code and the other's
(e.g. a git worktree of the commit before a change, sharing this virtualenv), each in a fresh process on
the same database, ``--rounds`` times, and the medians are printed side by side. The same database: so the
comparison is of the code alone (a table setting a migration changes, such as pricing 0013's fillfactor,
is whatever the newer checkout migrated it to; bench/ingest_phases.py on two databases measures those).

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tw_market_refresh .venv/bin/python bench/market_refresh.py \\
      [--refreshes 15] [--rounds 6] [--against /work/wt-old]
The database is created, migrated and loaded with the seven files on first use (or with --reload).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from benchdb import LITELLM_OBSERVED, ensure_database

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def measure(code: Path, refreshes: int, reload: bool) -> dict[str, float]:
    sys.path.insert(0, str(code))
    os.chdir(code)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import F

    from apps.catalog.models import Offering
    from apps.pricing.market import market_prices_refresh
    from apps.pricing.models import MarketPrice, Price
    from apps.sources import services as sources
    from apps.sources.defaults import sources_ensure_defaults
    from apps.sources.models import Source

    call_command("migrate", verbosity=0)
    if reload or not MarketPrice.objects.exists():
        call_command("flush", interactive=False, verbosity=0)
        sources_ensure_defaults(Source)
        source = Source.objects.get(key="litellm")
        for path in sorted((REPO / "fixtures" / "litellm").glob("model_prices_*.json")):
            sources.source_ingest_bytes(source=source, content=path.read_bytes(), trigger="command",
                                        observed_at=LITELLM_OBSERVED[path.name],
                                        meta=sources.FetchMeta(filename=path.name))
    source = Source.objects.get(key="litellm")
    pairs = set(Offering.objects.filter(source_id=source.pk, alias__model__isnull=False).order_by()
                .values_list("provider_id", "alias__model_id"))

    def timed(sighting: bool) -> tuple[float, float, int]:
        with transaction.atomic():
            if sighting:
                Price.objects.filter(offering__source_id=source.pk, effective_to__isnull=True).update(
                    last_confirmed_at=F("last_confirmed_at") + timedelta(days=1))
            cpu, wall = time.process_time(), time.perf_counter()
            written = market_prices_refresh(pairs=set(pairs))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            transaction.set_rollback(True)
        return cpu, wall, written

    out: dict[str, float] = {"rows": MarketPrice.objects.count()}
    for case, sighting in (("unchanged", False), ("sighting", True)):
        timed(sighting)  # warm: imports, compiled statements
        runs = [timed(sighting) for _ in range(refreshes)]
        out[f"{case}_cpu_ms"] = statistics.median(r[0] for r in runs) * 1000
        out[f"{case}_wall_ms"] = statistics.median(r[1] for r in runs) * 1000
        out[f"{case}_written"] = runs[-1][2]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refreshes", type=int, default=15, help="timed refreshes per case and process")
    parser.add_argument("--rounds", type=int, default=6, help="with --against: processes per checkout")
    parser.add_argument("--against", type=Path, help="another checkout, measured in turn with this one")
    parser.add_argument("--reload", action="store_true", help="load the seven files again first")
    parser.add_argument("--code", type=Path, default=REPO, help=argparse.SUPPRESS)  # one measurement, as JSON
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tw_market_refresh")
    ensure_database(os.environ["DATABASE_URL"])
    if args.json:
        print(json.dumps(measure(args.code.resolve(), args.refreshes, args.reload)))
        return
    checkouts = {"this": REPO} | ({"against": args.against.resolve()} if args.against else {})
    if args.against and not (args.against / "manage.py").exists():
        raise SystemExit(f"{args.against}: not a tokenwatch checkout")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    rounds = args.rounds if args.against else 1
    for n in range(rounds):
        order = list(checkouts.items()) if n % 2 == 0 else list(checkouts.items())[::-1]
        for name, code in order:
            run = subprocess.run([sys.executable, __file__, "--json", "--code", str(code), "--refreshes",
                                  str(args.refreshes), *(["--reload"] if args.reload and n == 0 else [])],
                                 capture_output=True, text=True, check=True, cwd=HERE)
            row = json.loads(run.stdout.strip().splitlines()[-1])
            results[name].append(row)
            print(f"round {n + 1} {name:8} ({code}): {int(row['rows']):,} market rows | unchanged "
                  f"{row['unchanged_cpu_ms']:6.1f} ms CPU, {row['unchanged_wall_ms']:6.1f} ms wall | sighting "
                  f"{row['sighting_cpu_ms']:6.1f} ms CPU, {row['sighting_wall_ms']:6.1f} ms wall "
                  f"({int(row['sighting_written']):,} rows written) | load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"medians over {rounds} round(s) of {args.refreshes} refreshes per case:")
    for name, rows in results.items():
        def med(key: str, rows: list[dict[str, float]] = rows) -> float:
            return statistics.median(r[key] for r in rows)
        print(f"  {name:8} unchanged {med('unchanged_cpu_ms'):6.1f} ms CPU, {med('unchanged_wall_ms'):6.1f} ms wall;"
              f" sighting {med('sighting_cpu_ms'):6.1f} ms CPU, {med('sighting_wall_ms'):6.1f} ms wall")


if __name__ == "__main__":
    main()
