"""Load mix (issue 12): gunicorn, 4 workers, 64 connections for 60 s against API lists and dashboard
pages over the demo data, once with the throttles at their configured rates and once with them off.

Three wrk processes run at the same time, one per kind of client, so each reports its own figures:
  api-anon    anonymous API lists (throttle "anon", TOKENWATCH_API_THROTTLE_ANON, default 120/min)
  pages-anon  anonymous dashboard pages (TOKENWATCH_PAGE_THROTTLE_ANON, default 120/min)
  api-token   the same API lists with one API token (throttle "user", TOKENWATCH_API_THROTTLE_USER, 1200/min)
Every client is 127.0.0.1, i.e. one anonymous address and one token. For each kind: requests/s,
latency p50/p99, counts of 2xx / 429 / 5xx, wrk's socket errors, and, with throttles on, the 2xx
counted per throttle window (django-ratelimit's fixed window of the client key, located by the same
crc32 jitter): a full window must allow exactly the rate, summed over all 4 workers.
The throttled run starts on the first second of the anonymous address's window, so its 60 s are one
window of the anonymous budgets (the token's window has its own offset and is cut in two). Behind
dashboard pages the mix's token client cannot reach 1200/min, so a second throttled run ("token")
sends only API requests, with the token, on all connections, starting with the token's window.

The throttle counters are in the embedded default (the database cache table: --cache db) or in a
throw-away redis-server on 127.0.0.1:6395 (--cache redis); the shared Redis is never touched.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tw_throttle_bench .venv/bin/python bench/load_mix.py \\
      [--cache db|redis] [--duration 60] [--connections 64] [--workers 4] [--runs throttled,open]
The database is created if missing, migrated and filled by ``manage.py load_demo`` (idempotent).
Only loopback traffic. wrk comes from the distribution (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from api_load import free_port
from benchdb import ensure_database

REPO = Path(__file__).resolve().parent.parent
PY = str(REPO / ".venv" / "bin" / "python")
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tw_throttle_bench"
REDIS_PORT = 6395
WINDOW_S = 60  # every default rate is per minute
ANON_KEY = "127.0.0.1"  # django-ratelimit's "ip" key of every wrk connection

API_PATHS = [
    "/api/v1/prices/?provider=openai", "/api/v1/current-prices/?model=llama-3-70b-instruct",
    "/api/v1/market-prices/", "/api/v1/models/", "/api/v1/providers/", "/api/v1/price-changes/",
    "/api/v1/benchmarks/", "/api/v1/market-segments/",
    "/api/v1/compare/?model=llama-3-70b-instruct&input_tokens=1000&output_tokens=200",
    "/api/v1/disagreements/?ordering=-gap_pct",
]
PAGE_PATHS = [
    "/", "/trends/", "/compare/", "/benchmarks/", "/market/", "/models/", "/providers/", "/sources/",
    "/quality/", "/models/llama-3.3-70b-instruct/", "/providers/groq/",
]


@dataclass
class Kind:
    name: str
    paths: list[str]
    connections: int
    rate_setting: str  # the environment variable of the throttle that holds it
    token: bool = False


@dataclass
class Result:
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    ok_per_window: dict[int, int] = field(default_factory=dict)  # window index -> 2xx in it
    socket_errors: dict[str, int] = field(default_factory=dict)


def manage(*args: str, env: dict[str, str]) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True).stdout


def window_offset(key: str) -> int:
    # django_ratelimit.core._get_window: a window ends at period * n + crc32(key) % period.
    return zlib.crc32(key.encode()) % WINDOW_S


def wait_for_window_start(key: str) -> float:
    """Sleep until the first second of the key's next throttle window; return that time."""
    now = time.time()
    end = math.floor(now) - math.floor(now) % WINDOW_S + window_offset(key)
    while end + 1 <= now + 0.5:  # the current window's first second has passed: take the next one
        end += WINDOW_S
    start = end + 1  # the window ending at `end` holds timestamps end-59 .. end; the next starts here
    time.sleep(start - now)
    return start


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: apt-get install redis-server")
    proc = subprocess.Popen([binary, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit(f"redis-server could not start on 127.0.0.1:{REDIS_PORT}")
        yield f"redis://127.0.0.1:{REDIS_PORT}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def gunicorn(*, workers: int, env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "gunicorn"), "tokenwatch.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", str(workers), "--timeout", "120", "--log-level", "warning"],
            cwd=REPO, env=env, stdout=log_file, stderr=log_file)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/static/tokenwatch/app.css", timeout=2)  # not throttled
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise SystemExit(f"gunicorn did not come up (see {log})")
            yield base
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def wrk_script(paths: list[str], headers: dict[str, str], offset: int) -> str:
    quoted = ", ".join(f'"{p}"' for p in paths)
    header_table = ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items())
    # Each wrk thread counts responses by status and by throttle window (os.time() is whole seconds, as
    # the server's int(time.time())); done() sums the threads' tables.
    return f"""
local paths = {{{quoted}}}
local headers = {{{header_table}}}
local i = 0
local threads = {{}}
counts = {{}}

function setup(thread)
  table.insert(threads, thread)
end

request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end

response = function(status, hdrs, body)
  local w = math.ceil((os.time() - {offset}) / {WINDOW_S})
  local key = status .. ":" .. w
  counts[key] = (counts[key] or 0) + 1
end

done = function(summary, latency, requests)
  local total = {{}}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do
      total[key] = (total[key] or 0) + n
    end
  end
  for key, n in pairs(total) do
    io.write(string.format("COUNT %s %d\\n", key, n))
  end
  io.write(string.format("LATENCY %d %d\\n", latency:percentile(50), latency:percentile(99)))
  local e = summary.errors
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d\\n", e.connect, e.read, e.write, e.timeout))
end
"""


def start_wrk(base: str, kind: Kind, *, duration: int, token: str, offset: int) -> subprocess.Popen:
    headers = {"Authorization": f"Token {token}"} if kind.token else {}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(wrk_script(kind.paths, headers, offset))
    # A page under this load can take seconds; wrk's default 2 s timeout would count that as a socket error.
    return subprocess.Popen(["wrk", "-t1", f"-c{kind.connections}", f"-d{duration}s", "--timeout", "60s",
                             "-s", fh.name, base], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse_wrk(out: str) -> Result:
    result = Result()
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if match is None:
        raise SystemExit(f"wrk failed:\n{out}")
    result.requests = int(match.group(1))
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50, p99 = re.search(r"^LATENCY (\d+) (\d+)$", out, re.M).groups()
    result.p50_ms, result.p99_ms = int(p50) / 1000, int(p99) / 1000
    statuses: dict[int, int] = defaultdict(int)
    for status, window, n in re.findall(r"^COUNT (\d+):(-?\d+) (\d+)$", out, re.M):
        statuses[int(status)] += int(n)
        if 200 <= int(status) < 300:
            result.ok_per_window[int(window)] = result.ok_per_window.get(int(window), 0) + int(n)
    result.statuses = dict(sorted(statuses.items()))
    errors = re.search(r"^ERRORS (.*)$", out, re.M).group(1)
    result.socket_errors = {k: int(v) for k, v in (part.split("=") for part in errors.split())}
    return result


def run_mix(base: str, kinds: list[Kind], *, duration: int, token: str, offsets: dict[str, int],
            align: str | None) -> tuple[dict[str, Result], float, float]:
    """Run the kinds' wrk processes at once (first waiting for the start of client key ``align``'s
    throttle window, if given); their results and the run's start and end times."""
    if align:
        started = wait_for_window_start(align)
        print(f"  started at {time.strftime('%H:%M:%S', time.gmtime(started))} UTC, the first second of "
              f"client {align!r}'s throttle window")
    load_before = os.getloadavg()
    started = time.time()
    procs = {kind.name: start_wrk(base, kind, duration=duration, token=token, offset=offsets[kind.name])
             for kind in kinds}
    outputs = {name: proc.communicate()[0] for name, proc in procs.items()}
    ended = time.time()
    load_after = os.getloadavg()
    print(f"  machine load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"{os.cpu_count()} CPUs shared with other work")
    return {name: parse_wrk(out) for name, out in outputs.items()}, started, ended


def report(results: dict[str, Result], kinds: list[Kind], rates: dict[str, str | None], *,
           offsets: dict[str, int], started: float, ended: float) -> bool:
    """Print the figures; True when the run met its bar (no 5xx, no socket error, full windows at the rate)."""
    ok = True
    total_requests = sum(r.requests for r in results.values())
    total_rps = sum(r.rps for r in results.values())
    print(f"  all kinds: {total_requests:,} requests, {total_rps:.0f} req/s")
    for kind in kinds:
        result = results[kind.name]
        by_class = defaultdict(int)
        for status, n in result.statuses.items():
            by_class["2xx" if status < 300 else "429" if status == 429 else "5xx" if status >= 500 else
                     str(status)] += n
        errors = sum(result.socket_errors.values())
        print(f"  {kind.name:10} {kind.connections:2} conns: {result.requests:7,} requests {result.rps:7.1f} req/s, "
              f"p50 {result.p50_ms:7.1f} ms, p99 {result.p99_ms:7.1f} ms; "
              + ", ".join(f"{label} {n:,}" for label, n in sorted(by_class.items()))
              + f"; socket errors {errors}"
              + (f" ({', '.join(f'{k} {v}' for k, v in result.socket_errors.items() if v)})" if errors else ""))
        ok &= not by_class.get("5xx") and not errors
        rate = rates[kind.rate_setting]
        if rate is None:
            continue
        limit = int(rate.split("/")[0])
        for window, allowed in sorted(result.ok_per_window.items()):
            # Window n holds the whole seconds offset + (n-1)*60 + 1 .. offset + n*60.
            first = offsets[kind.name] + (window - 1) * WINDOW_S + 1
            last = first + WINDOW_S - 1
            inside = max(0, min(last + 1, ended) - max(first, started))
            span = f"{time.strftime('%H:%M:%S', time.gmtime(first))}-{time.strftime('%H:%M:%S', time.gmtime(last))}"
            print(f"      throttle window {span} UTC ({inside:4.1f} s of it in the run): "
                  f"{allowed:5,} allowed of {limit:,}")
            # Over the limit is a failure in any window; under it only in a window the run covered whole.
            ok &= allowed <= limit and (allowed == limit or inside < WINDOW_S - 1)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", choices=["db", "redis"], default="db",
                        help="where the throttle counters live: the database cache table or a throw-away Redis")
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", default="throttled,token,open",
                        help="throttled: the mix at the configured rates; token: the API alone with one token on "
                             "every connection (the mix is too slow to reach 1200/min); open: the mix, throttles off")
    parser.add_argument("--skip-load", action="store_true", help="the database already holds the demo data")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    env = {key: value for key, value in os.environ.items() if key not in {"CACHE_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base", "DATABASE_URL": database_url, "DEBUG": "0",
                "TOKENWATCH_PUBLIC_API": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost",
                # Each 429 would be a logged warning: thousands of lines a second.
                "LOG_LEVEL": "ERROR"})
    if database_url.startswith("postgres"):
        ensure_database(database_url)
    if not args.skip_load:
        started = time.perf_counter()
        manage("migrate", "--noinput", env=env)
        manage("load_demo", env=env)
        print(f"database {database_url}: migrated, demo data loaded in {time.perf_counter() - started:.0f} s")
    manage("shell", "-c", "from django.contrib.auth import get_user_model; "
           "get_user_model().objects.get_or_create(username='load-mix')", env=env)
    token = manage("api_token", "load-mix", env=env).strip()
    # The last line: the shell may print a banner about its automatic imports first.
    token_key = manage("shell", "-c", "from django.contrib.auth import get_user_model; "
                       "print(get_user_model().objects.get(username='load-mix').pk)", env=env).split()[-1]

    third = args.connections // 8
    kinds = [Kind("api-anon", API_PATHS, 3 * third, "TOKENWATCH_API_THROTTLE_ANON"),
             Kind("pages-anon", PAGE_PATHS, 3 * third, "TOKENWATCH_PAGE_THROTTLE_ANON"),
             Kind("api-token", API_PATHS, args.connections - 6 * third, "TOKENWATCH_API_THROTTLE_USER", token=True)]
    configured = {"TOKENWATCH_API_THROTTLE_ANON": os.environ.get("TOKENWATCH_API_THROTTLE_ANON") or "120/min",
                  "TOKENWATCH_PAGE_THROTTLE_ANON": os.environ.get("TOKENWATCH_PAGE_THROTTLE_ANON") or "120/min",
                  "TOKENWATCH_API_THROTTLE_USER": os.environ.get("TOKENWATCH_API_THROTTLE_USER") or "1200/min"}
    if any(not rate.endswith(("/min", "/m", "/minute")) for rate in configured.values()):
        raise SystemExit("the window bookkeeping here assumes per-minute rates")

    failed = False
    offsets = {kind.name: window_offset(token_key if kind.token else ANON_KEY) for kind in kinds}
    with nullcontext() if args.cache == "db" else redis_server() as cache_url:
        if cache_url:
            env["CACHE_URL"] = cache_url
        where = "a throw-away Redis on 127.0.0.1:6395" if cache_url else "the database cache table"
        for run in args.runs.split(","):
            rates = dict.fromkeys(configured) if run == "open" else configured
            run_kinds, align = kinds, ANON_KEY if run == "throttled" else None
            if run == "token":  # the API alone, one token on every connection: fast enough to reach its rate
                run_kinds = [Kind("api-token", API_PATHS, args.connections, "TOKENWATCH_API_THROTTLE_USER", token=True)]
                align = token_key
            run_env = {**env, **{key: rate or "off" for key, rate in rates.items()}}
            log = Path(tempfile.gettempdir()) / f"load_mix-{run}-gunicorn.log"
            shown = ", ".join(f"{key.removeprefix('TOKENWATCH_')}={rate or 'off'}" for key, rate in rates.items())
            print(f"\n{run}: gunicorn {args.workers} workers, {args.connections} connections, {args.duration} s; "
                  f"throttles {shown}; counters in {where}")
            with gunicorn(workers=args.workers, env=run_env, log=log) as base:
                for path in API_PATHS + PAGE_PATHS:  # warm every path (imports, Plotly) before the clock starts
                    httpx.get(base + path, timeout=120)
                results, started, ended = run_mix(base, run_kinds, duration=args.duration, token=token,
                                                  offsets=offsets, align=align)
            failed |= not report(results, run_kinds, rates, offsets=offsets, started=started, ended=ended)
            errors_logged = log.read_text(errors="replace").count("Traceback")
            print(f"  tracebacks in the server log ({log}): {errors_logged}")
            failed |= bool(errors_logged)
    if failed:
        sys.exit("the load mix missed its bar: see above")


if __name__ == "__main__":
    main()
