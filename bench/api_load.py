"""API load benchmark (issue 4): filtered price pages under 16 clients, and a 1,000,000-row CSV export.

Needs the database filled by bench/api_gen_prices.py. Starts gunicorn on
127.0.0.1 (production-like: DEBUG=0, tokenwatch.settings.base, public API so
no token lookups, throttles off since every client is 127.0.0.1), then:

  1. wrk, 16 connections for --duration seconds, against filtered
     /api/v1/prices/ pages (provider + date range, 100 rows each, rotating over
     the 60 providers): p50 / p99 latency                     (goal: p99 < 100 ms)
  2. a few other queries (a provider with one offering, as_of, an incremental pull, newest first),
     one client, 20 runs each: median and max
  3. one GET /api/v1/prices/?format=csv of every row, on a one-worker server:
     rows per second and the worker's peak RSS (VmHWM)       (goal: >= 100,000 rows/s, < 200 MB)

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/api_load.py \\
      [--workers 4] [--duration 30] [--connections 16]
Only loopback traffic. wrk comes from the distribution (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from benchdb import serving

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tokenwatch_apibench"
PAGE_QUERY = "/api/v1/prices/?provider=bench-provider-{n}&effective_from_after=2024-01-01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, workers: int | None, database_url: str, threads: int | None = None, sync: bool = False,
             code: Path = REPO, env: dict[str, str] | None = None):
    """gunicorn as tokenwatch/gunicorn_conf.py sets it up (gthread workers), with these overrides;
    ``sync``: gunicorn's default sync workers instead (one connection per request, no keep-alive);
    ``code``: the checkout to serve (e.g. a git worktree of an older commit), with this one's virtualenv;
    ``env``: more environment for the server (a setting to compare)."""
    conf = code / "tokenwatch" / "gunicorn_conf.py"
    port = free_port()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "gunicorn"), "tokenwatch.wsgi:application", "-b", f"127.0.0.1:{port}",
         *(["-c", "python:tokenwatch.gunicorn_conf"] if conf.exists() else []), "--timeout", "300",
         "--log-level", "warning",
         *(["-w", str(workers)] if workers else []), *(["--threads", str(threads)] if threads else []),
         *(["-k", "sync"] if sync else [])],
        cwd=code, env={**server_env(database_url), **(env or {})})
    with serving(proc, f"http://127.0.0.1:{port}", "/api/v1/") as served:
        yield served


@contextmanager
def granian(*, workers: int | None, database_url: str, threads: int | None = None, code: Path = REPO,
            env: dict[str, str] | None = None):
    """granian (HTTP in Rust; Django's WSGI app on each worker's blocking threads), with the same environment
    as :func:`gunicorn`: ``workers`` processes (default 2) of ``threads`` blocking threads each.

    Not in requirements.txt (production runs gunicorn; bench/README.md, "Fourth pass", says why): install it
    into the virtualenv to compare, ``.venv/bin/pip install granian==2.8.7``."""
    if not (REPO / ".venv" / "bin" / "granian").exists():
        raise SystemExit("granian missing: .venv/bin/pip install granian==2.8.7 (a bench-only comparison)")
    port = free_port()
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "granian"), "--interface", "wsgi", "tokenwatch.wsgi:application",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers or 2),
         *(["--blocking-threads", str(threads)] if threads else []), "--log-level", "warning", "--no-ws",
         # Threads (and with them their database connections) live through the run, as gunicorn's do.
         "--blocking-threads-idle-timeout", "600"],
        cwd=code, env={**server_env(database_url), **(env or {})})
    with serving(proc, f"http://127.0.0.1:{port}", "/api/v1/") as served:
        yield served


def server_env(database_url: str) -> dict[str, str]:
    """The API server's environment in every bench: production settings, throttles off (see below)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "TOKENWATCH_PUBLIC_API": "1",
        # All 16 clients are one address on loopback, which the production limit (120/min per anonymous
        # address) would hold to 2 requests a second; the throttles are off for the measurement.
        "TOKENWATCH_API_THROTTLE_ANON": "off",
        "TOKENWATCH_API_THROTTLE_USER": "off",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def page_paths(page_size: int | None) -> list[str]:
    suffix = f"&page_size={page_size}" if page_size else ""
    return [PAGE_QUERY.format(n=n) + suffix for n in range(60)]


def run_wrk(base: str, *, paths_list: list[str], duration: int, connections: int) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")
    paths = ", ".join(f'"{p}"' for p in paths_list)
    script = f"""
local paths = {{{paths}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", fh.name, base],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"p50_ms": ms("50%"), "p90_ms": ms("90%"), "p99_ms": ms("99%"), "requests": requests,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0}


# Queries BI tools send besides the provider page, each timed alone (one client): a selective filter
# must not walk the whole table, whichever plan a prepared statement settles on.
PROBES = [
    ("provider with one offering", "/api/v1/prices/?provider=bench-provider-small"),
    ("  ... since 2024", "/api/v1/prices/?provider=bench-provider-small&effective_from_after=2024-01-01"),
    ("prices as of a date, one provider", "/api/v1/prices/?as_of=2025-01-01&provider=bench-provider-7"),
    ("recent intervals, id order", "/api/v1/prices/?effective_from_after=2026-01-01"),
    ("recent intervals, start order", "/api/v1/prices/?effective_from_after=2026-01-01&ordering=effective_from"),
    ("newest intervals first", "/api/v1/prices/?ordering=-effective_from"),
    ("one model since 2025", "/api/v1/prices/?model=bench-llama-8&effective_from_after=2025-01-01"),
]


def probe(base: str, *, repeat: int) -> list[tuple[str, int, float, float]]:
    """(label, rows, median ms, max ms) of each probe, after ``repeat`` runs (6 first, untimed: psycopg
    prepares a statement on its fifth run and PostgreSQL picks a generic plan after five)."""
    out = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for label, path in PROBES:
            for _ in range(6):
                client.get(path).raise_for_status()
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            times.sort()
            out.append((label, len(response.json()["results"]), times[len(times) // 2], times[-1]))
    return out


def csv_export(base: str, master: int) -> dict[str, float]:
    (worker,) = worker_pids(master)
    before_kb = status_kb(worker, "VmRSS")
    started = time.perf_counter()
    rows = -1  # the header
    size = 0
    with httpx.stream("GET", f"{base}/api/v1/prices/?format=csv", timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 16):
            rows += chunk.count(b"\n")
            size += len(chunk)
    elapsed = time.perf_counter() - started
    return {"rows": rows, "seconds": elapsed, "rows_per_s": rows / elapsed, "mb": size / 1e6,
            "rss_before_mb": before_kb / 1024, "peak_rss_mb": status_kb(worker, "VmHWM") / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers for the latency run")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=None, help="default: the API's (100)")
    args = parser.parse_args()
    paths = page_paths(args.page_size)
    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    print(f"database {database_url}, {os.cpu_count()} CPUs")

    with gunicorn(workers=args.workers, database_url=database_url) as (base, _):
        sample = httpx.get(base + paths[7], timeout=30)
        sample.raise_for_status()
        print(f"page: {paths[7]} -> {len(sample.json()['results'])} rows, {len(sample.content):,} bytes")
        for path in paths * 2:  # warm every worker's connection and caches
            httpx.get(base + path, timeout=30)
        load = run_wrk(base, paths_list=paths, duration=args.duration, connections=args.connections)
    with gunicorn(workers=1, database_url=database_url) as (base, _):
        probes = probe(base, repeat=20)
    print(f"filtered /api/v1/prices/ pages, {args.connections} clients, {args.workers} gunicorn workers, "
          f"{args.duration} s: {load['requests']:,} requests, {load['rps']:.0f} req/s, non-2xx {load['non_2xx']}")
    print(f"  latency p50 {load['p50_ms']:.1f} ms, p90 {load['p90_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms "
          f"(goal p99 < 100 ms: {'met' if load['p99_ms'] < 100 else 'MISSED'})")

    print("other queries, one client, 20 runs each (median / max):")
    for label, rows, median, worst in probes:
        print(f"  {label:36} {rows:4} rows  {median:6.1f} / {worst:6.1f} ms")

    with gunicorn(workers=1, database_url=database_url) as (base, proc):
        export = csv_export(base, proc.pid)
    print(f"CSV export /api/v1/prices/?format=csv: {export['rows']:,} rows, {export['mb']:.0f} MB in "
          f"{export['seconds']:.1f} s = {export['rows_per_s']:,.0f} rows/s "
          f"(goal >= 100,000: {'met' if export['rows_per_s'] >= 100_000 else 'MISSED'})")
    print(f"  worker RSS {export['rss_before_mb']:.0f} MB before, peak {export['peak_rss_mb']:.0f} MB "
          f"(goal < 200 MB: {'met' if export['peak_rss_mb'] < 200 else 'MISSED'})")
    if load["non_2xx"]:
        sys.exit("some requests failed")


if __name__ == "__main__":
    main()
