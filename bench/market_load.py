"""Market-price API benchmark (issue 10): the first page of /api/v1/market-prices/ and of
/api/v1/disagreements/ under 16 clients, on the 1,000,000-row database of bench/api_gen_prices.py
(which also builds its market prices and prints how long that took).

Starts gunicorn on 127.0.0.1 exactly as bench/api_load.py does, then wrk, --connections for
--duration seconds per endpoint family (goal: p99 < 100 ms at 16 connections).

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/market_load.py \\
      [--workers 3] [--duration 30] [--connections 16]
Only loopback traffic. wrk comes from the distribution (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx
from api_load import DEFAULT_URL, gunicorn, run_wrk

# First pages BI tools ask for: the market, the disagreeing part of it, one model's, the largest gaps.
FAMILIES = {
    "market-prices": ["/api/v1/market-prices/", "/api/v1/market-prices/?sources_agree=false",
                      "/api/v1/market-prices/?provider=bench-provider-{n}",
                      "/api/v1/market-prices/?model=bench-llama-{m}"],
    "disagreements": ["/api/v1/disagreements/", "/api/v1/disagreements/?ordering=-gap_pct",
                      "/api/v1/disagreements/?provider=bench-provider-{n}&ordering=-gap_pct"],
}


def paths_for(templates: list[str]) -> list[str]:
    out = []
    for n in range(60):
        for template in templates:
            out.append(template.format(n=n, m=(n * 8) % 800))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    print(f"database {database_url}, {os.cpu_count()} CPUs, {args.workers} gunicorn workers")
    failed = False
    with gunicorn(workers=args.workers, database_url=database_url) as (base, _):
        for family, templates in FAMILIES.items():
            paths = paths_for(templates)
            for path in paths[: len(templates) * 4]:  # warm every worker
                response = httpx.get(base + path, timeout=30)
                response.raise_for_status()
            rows = len(httpx.get(base + paths[0], timeout=30).json()["results"])
            load = run_wrk(base, paths_list=paths, duration=args.duration, connections=args.connections)
            met = load["p99_ms"] < 100 and not load["non_2xx"]
            failed |= not met
            print(f"{family}: first page {rows} rows; {load['requests']:,} requests, {load['rps']:.0f} req/s, "
                  f"p50 {load['p50_ms']:.1f} ms, p90 {load['p90_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, "
                  f"non-2xx {load['non_2xx']} (goal p99 < 100 ms: {'met' if met else 'MISSED'})")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
