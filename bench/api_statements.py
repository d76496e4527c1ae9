"""Issue 14: what the API price page's own SQL costs PostgreSQL, with nobody else on the machine's cores.

bench/api_vs_datasette.py and bench/api_servers.py report the PostgreSQL CPU of a page under wrk (16 connections,
the server's workers and wrk on the same two cores). This asks the page once through Django's WSGI handler
(in-process, production settings), takes the statements it ran, and replays each from one psycopg connection,
exactly as the server sends it (the page-id query with its values and unprepared, as
``apps.api_common.rows.planned_for_its_values`` sends it; the rows query with its id array, prepared after five
runs, as the server's connections do), printing the wall time and the backend's CPU per run (medians of
``--rounds`` alternating rounds of ``--runs`` each). The gap between these and the CPU per page under load is what
sharing the cores costs (cache, scheduling), not the statements.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/api_statements.py \\
      [--provider bench-provider-7] [--rounds 10] [--runs 150]
Only loopback traffic.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from api_load import DEFAULT_URL, server_env
from benchdb import cpu_seconds

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def page_statements(path: str) -> list[tuple[str, tuple]]:
    """The (SQL, params) of each statement the page at ``path`` runs, asked in-process through Django's test
    client (as bench/pages.py asks its pages) in a warm process: the offerings' context is kept per data version,
    so the second ask runs only the page's own statements."""
    os.environ.update(server_env(os.environ.get("DATABASE_URL", DEFAULT_URL)))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")  # server_env's ALLOWED_HOSTS
    run: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        run.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    client.get(path)
    with connection.execute_wrapper(capture):
        if (status := client.get(path).status_code) != 200:
            raise SystemExit(f"{path}: {status}, not a 200")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", default="bench-provider-7")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=150)
    args = parser.parse_args()
    path = f"/api/v1/prices/?provider={args.provider}&effective_from_after=2024-01-01"
    statements = page_statements(path)
    print(f"{path}: {len(statements)} statements")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=5) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # as Django's connections
        pid = conn.info.backend_pid
        # The page-id query (first) is planned for its values every time; the rows are prepared, as in the server.
        kinds = [("page ids", False), *((f"rows {i}", None) for i in range(1, len(statements)))]
        wall: dict[str, list[float]] = {k: [] for k, _ in kinds}
        cpu: dict[str, list[float]] = {k: [] for k, _ in kinds}
        for _ in range(args.rounds):
            for (label, prepare), (sql, params) in zip(kinds, statements, strict=True):
                before_cpu, started = cpu_seconds(pid) or 0.0, time.perf_counter()
                for _ in range(args.runs):
                    conn.execute(sql, params, prepare=prepare).fetchall()
                wall[label].append((time.perf_counter() - started) / args.runs * 1000)
                cpu[label].append(((cpu_seconds(pid) or 0.0) - before_cpu) / args.runs * 1000)
    for label, _ in kinds:
        print(f"  {label:10s} wall {statistics.median(wall[label]):.3f} ms  backend CPU "
              f"{statistics.median(cpu[label]):.3f} ms a run (median of {args.rounds} x {args.runs})")
    print(f"  the page's statements: backend CPU {sum(statistics.median(v) for v in cpu.values()):.2f} ms")


if __name__ == "__main__":
    main()
