"""CSV export against psql \\copy (issue 14): a 1,000,000-row /api/v1/prices/?format=csv through gunicorn.

Needs the database filled by bench/api_gen_prices.py. Starts gunicorn with one
worker on 127.0.0.1 (production-like: DEBUG=0, tokenwatch.settings.base, public
API), then, round after round, alternating the order of the three sides:

  app    curl -o FILE http://127.0.0.1:PORT/api/v1/prices/?format=csv
  join   psql \\copy (the export's own query, every cell formatted and joined in SQL) to FILE
  plain  psql \\copy pricing_price to FILE (the bare table, as stored)

Each run prints rows per second, the CPU time per 1,000,000 rows of the PostgreSQL backend that
ran the COPY (and, for the app, of the gunicorn worker relaying it: the figures that hold under load)
and the 1-minute load average when it started;
each round prints app / plain and app / join (goal: app >= 0.7 x plain). At the
end: the median of each, the worker's RSS before and its peak (VmHWM: memory
flat means the peak stays near the baseline), and whether the exported bytes
equal the \\copy of the same join byte for byte (header aside).

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/csv_export.py \\
      [--rounds 5] [--port 8851] [--worker-class sync|gthread] [--path /api/v1/prices/?format=csv]
Only loopback traffic; curl and psql from the distribution.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from benchdb import cpu_seconds, serving

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tokenwatch_apibench"
GOAL = 0.7
APP_NAME = "tw-csv-bench-app"


@contextmanager
def gunicorn(*, database_url: str, port: int, worker_class: str):
    # The worker's connection names itself (its backend's CPU is read by that name) and lives through the run.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base",
           "DATABASE_URL": f"{database_url}{'&' if '?' in database_url else '?'}application_name={APP_NAME}",
           "DB_CONN_MAX_AGE": "3600", "DEBUG": "0", "TOKENWATCH_PUBLIC_API": "1", "TOKENWATCH_API_THROTTLE_ANON": "off",
           "TOKENWATCH_API_THROTTLE_USER": "off", "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "gunicorn"), "tokenwatch.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", "1", "-k", worker_class, "--timeout", "600", "--log-level", "warning"], cwd=REPO, env=env)
    with serving(proc, f"http://127.0.0.1:{port}", "/api/v1/") as served:
        yield served


def worker_pid(master: int) -> int:
    for _ in range(50):
        out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        if len(out) == 1:
            return int(out[0])
        time.sleep(0.2)
    raise SystemExit(f"expected one gunicorn worker, found {out}")


def status_mb(pid: int, field: str) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) / 1024


def libpq_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def join_query(database_url: str, path: str) -> str:
    """The SELECT the export runs, with every cell formatted and every column joined in PostgreSQL."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
    os.environ.setdefault("TOKENWATCH_PUBLIC_API", "1")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.db import connection
    from django.test import RequestFactory
    from django.urls import resolve
    from rest_framework.request import Request

    from apps.api_common.columns import plan_for, postgres_copy_query

    match = resolve(path.split("?")[0])
    viewset = match.func.cls
    request = Request(RequestFactory().get(path))
    view = viewset(request=request, format_kwarg=None, action="list", kwargs={})
    bound = plan_for(view.get_serializer_class()).bind(request)
    sql, params = postgres_copy_query(bound, view.filter_queryset(view.get_queryset()))
    import psycopg

    connection.ensure_connection()
    # psycopg's own quoting of the parameters, so psql runs exactly this statement.
    select = psycopg.ClientCursor(connection.connection).mogrify(sql, params)
    connection.close()
    return re.fullmatch(r"COPY \((.*)\) TO STDOUT WITH \(FORMAT csv\)", select, re.S).group(1)


def backend_pid(url: str, application_name: str) -> int | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("select pid from pg_stat_activity where application_name = %s",
                           [application_name]).fetchone()
    return row[0] if row else None


@dataclass
class Run:
    seconds: float
    backend_cpu: float | None  # the PostgreSQL backend that ran the COPY
    client_cpu: float | None  # the gunicorn worker relaying it (app only; psql's own CPU is not counted)


def run_psql(url: str, what: str, out: Path) -> Run:
    """psql \\copy, with its backend's CPU: a tag names the session, whose /proc is read until it ends."""
    tag = f"tw-csv-bench-{os.getpid()}-{time.monotonic_ns()}"
    command = f"\\copy {what} to '{out}' with (format csv)"
    started = time.perf_counter()
    proc = subprocess.Popen(["psql", libpq_url(url), "-qX", "-v", "ON_ERROR_STOP=1", "-c", command],
                            stdout=subprocess.DEVNULL, env={**os.environ, "PGAPPNAME": tag})
    pid, cpu = None, None
    while proc.poll() is None:
        pid = pid or backend_pid(url, tag)
        if pid is not None:
            cpu = cpu_seconds(pid) or cpu
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(f"psql failed ({proc.returncode})")
    return Run(seconds, cpu, None)


def run_app(base: str, path: str, out: Path, *, worker: int, backend: int | None) -> Run:
    before_worker = cpu_seconds(worker)
    before_backend = cpu_seconds(backend) if backend else None
    started = time.perf_counter()
    subprocess.run(["curl", "-sSf", "-o", str(out), base + path], check=True)
    seconds = time.perf_counter() - started
    after_backend = cpu_seconds(backend) if backend else None
    return Run(seconds, None if after_backend is None or before_backend is None else after_backend - before_backend,
               cpu_seconds(worker) - before_worker)


def count_rows(path: Path) -> int:
    rows = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            rows += block.count(b"\n")
    return rows


def sha256_of(path: Path, *, skip_header: bool) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        if skip_header:
            fh.readline()
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8851)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--path", default="/api/v1/prices/?format=csv")
    parser.add_argument("--table", default="pricing_price", help="the plain table \\copy reads")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not database_url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL")
    select = join_query(database_url, args.path)
    print(f"database {database_url}, {os.cpu_count()} CPUs, gunicorn 1 {args.worker_class} worker, {args.path}")

    results: dict[str, list[float]] = {"app": [], "join": [], "plain": []}
    ratios_plain: list[float] = []
    ratios_join: list[float] = []
    cpu: dict[str, list[float]] = {"app": [], "join": [], "plain": [], "worker": []}
    identical = None
    with tempfile.TemporaryDirectory(prefix="tw_csv_export_") as tmp, \
            gunicorn(database_url=database_url, port=args.port, worker_class=args.worker_class) as (base, master):
        worker = worker_pid(master.pid)
        rss_before = status_mb(worker, "VmRSS")
        files = {side: Path(tmp) / f"{side}.csv" for side in results}
        backend: list[int | None] = [None]
        sides = {
            "app": lambda: run_app(base, args.path, files["app"], worker=worker, backend=backend[0]),
            "join": lambda: run_psql(database_url, f"({select})", files["join"]),
            "plain": lambda: run_psql(database_url, args.table, files["plain"]),
        }
        run_app(base, args.path, files["app"], worker=worker, backend=None)  # warm: imports and connects
        backend[0] = backend_pid(database_url, APP_NAME)
        order = ["app", "join", "plain"]
        for round_no in range(1, args.rounds + 1):
            figures = {}
            for side in order:
                load = os.getloadavg()[0]
                run = sides[side]()
                rows = count_rows(files[side]) - (1 if side == "app" else 0)
                figures[side] = rows / run.seconds
                results[side].append(figures[side])
                # CPU per 1,000,000 rows: what the figures are under load (wall time follows CPU time there).
                if run.backend_cpu is not None:
                    cpu[side].append(run.backend_cpu * 1e6 / rows)
                if run.client_cpu is not None:
                    cpu["worker"].append(run.client_cpu * 1e6 / rows)
                cpu_text = (f"backend {run.backend_cpu * 1e6 / rows:4.2f} s" if run.backend_cpu is not None else "")
                cpu_text += (f", worker {run.client_cpu * 1e6 / rows:4.2f} s" if run.client_cpu is not None else "")
                print(f"  round {round_no} {side:5} {rows:,} rows in {run.seconds:5.2f} s = "
                      f"{figures[side]:9,.0f} rows/s   CPU per 1M rows: {cpu_text or '?'}   (load {load:.2f})",
                      flush=True)
            ratios_plain.append(figures["app"] / figures["plain"])
            ratios_join.append(figures["app"] / figures["join"])
            print(f"  round {round_no}: app/plain {ratios_plain[-1]:.2f}, app/join {ratios_join[-1]:.2f}")
            if identical is None:
                identical = (sha256_of(files["app"], skip_header=True)
                             == sha256_of(files["join"], skip_header=False))
            order = order[1:] + order[:1]  # each side goes first, second and last in turn
        peak = status_mb(worker, "VmHWM")

    median = {side: statistics.median(values) for side, values in results.items()}
    ratio = statistics.median(ratios_plain)
    print(f"median rows/s: app {median['app']:,.0f}, \\copy join {median['join']:,.0f}, "
          f"\\copy plain {median['plain']:,.0f}")
    print(f"app / plain \\copy: median {ratio:.2f} (rounds {', '.join(f'{r:.2f}' for r in ratios_plain)}; "
          f"goal >= {GOAL}: {'met' if ratio >= GOAL else 'MISSED'})")
    print(f"app / \\copy of the same join: median {statistics.median(ratios_join):.2f}")
    if all(cpu.values()):
        print(f"CPU per 1M rows, medians: app backend {statistics.median(cpu['app']):.2f} s + worker "
              f"{statistics.median(cpu['worker']):.2f} s; \\copy join backend {statistics.median(cpu['join']):.2f} s; "
              f"\\copy plain backend {statistics.median(cpu['plain']):.2f} s")
    print(f"worker RSS {rss_before:.0f} MB before, peak {peak:.0f} MB (flat: {peak - rss_before:+.0f} MB)")
    print(f"export bytes equal to \\copy of the same join (header aside): {'yes' if identical else 'NO'}")
    if not identical:
        sys.exit(1)


if __name__ == "__main__":
    main()
