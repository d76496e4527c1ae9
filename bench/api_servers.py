"""Issue 14: the same API page under different WSGI servers and worker settings, side by side, alternating.

Every configuration named on the command line is started at once on 127.0.0.1 (its own port, its own
``application_name`` for its PostgreSQL connections); then, each round, wrk loads each in turn (the order
rotated every round) with bench/api_vs_datasette.py's page rotation, and prints req/s, p50/p99 and the CPU per
page of the server's processes and of its own PostgreSQL backends (``/proc``), next to the load average and the
share of the machine used by everything else. Medians at the end. The servers idle while another is loaded, so
each run has the machine to itself but for the neighbours.

Configurations: ``gthread:W:T`` (gunicorn, tokenwatch/gunicorn_conf.py, W workers x T threads), ``sync:W``
(gunicorn sync workers), ``granian:W:T`` (granian's WSGI interface, W workers x T blocking threads; granian is
not in requirements.txt: ``.venv/bin/pip install granian==2.8.7`` to compare). A configuration may end in
``@NAME=VALUE`` (repeatable) for its server's environment, e.g. ``gthread:2:2@DB_SERVER_SIDE_BINDING=0`` or
``gthread:2:2@GUNICORN_REUSE_PORT=0`` (the shared listening socket), and then in ``#CHECKOUT`` to serve another
checkout's code (e.g. a git worktree of the commit before a change) with this one's virtualenv:
``gthread:2:2 gthread:2:2#/work/wt-old`` compares two versions of the code under the same settings.

Usage:
  cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench ../.venv/bin/python api_servers.py \\
      [--rounds 3] [--duration 15] [--connections 16] gthread:2:4 granian:2:4 ...
Only loopback traffic.
"""

from __future__ import annotations

import argparse
import os
import statistics
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
from api_load import DEFAULT_URL, REPO, granian, gunicorn, page_paths, run_wrk
from api_vs_datasette import cpu_ticks, machine_ticks, process_tree


def named(database_url: str, name: str) -> str:
    return f"{database_url}{'&' if '?' in database_url else '?'}application_name={name}"


def backends(database_url: str, name: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("select pid from pg_stat_activity where application_name = %s", [name])]


def app_name(spec: str) -> str:
    """The ``application_name`` of a configuration's PostgreSQL connections (how its backends are found)."""
    return "tw-bench-" + "".join(c if c.isalnum() else "-" for c in spec)


def start(stack: ExitStack, spec: str, database_url: str):
    # ``gthread:2:4@NAME=VALUE@...#CHECKOUT``: the server's environment gets these too (e.g. a setting to
    # compare); CHECKOUT is the code it serves.
    url = named(database_url, app_name(spec))
    spec, _, checkout = spec.partition("#")
    code = Path(checkout).resolve() if checkout else REPO
    if not (code / "manage.py").exists():
        raise SystemExit(f"{code}: not a tokenwatch checkout")
    config, *assignments = spec.split("@")
    env = dict(a.split("=", 1) for a in assignments)
    kind, *numbers = config.split(":")
    workers = int(numbers[0]) if numbers else None
    threads = int(numbers[1]) if len(numbers) > 1 else None
    if kind == "gthread":
        return stack.enter_context(gunicorn(workers=workers, threads=threads, database_url=url, env=env, code=code))
    if kind == "sync":
        return stack.enter_context(gunicorn(workers=workers, sync=True, database_url=url, env=env, code=code))
    if kind == "granian":
        return stack.enter_context(granian(workers=workers, threads=threads, database_url=url, env=env, code=code))
    raise SystemExit(f"unknown configuration {spec!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("configs", nargs="+")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DB_CONN_MAX_AGE", "3600")  # the counted backends live through the run
    paths = page_paths(None)
    runs: dict[str, list[dict]] = {spec: [] for spec in args.configs}
    with ExitStack() as stack:
        servers = {spec: start(stack, spec, database_url) for spec in args.configs}
        for base, _ in servers.values():
            for path in paths:
                httpx.get(base + path, timeout=30).raise_for_status()
            run_wrk(base, paths_list=paths, duration=3, connections=args.connections)  # every thread connects
        print(f"{os.cpu_count()} CPUs; wrk -c{args.connections} -d{args.duration}s, {args.rounds} rounds")
        for n in range(args.rounds):
            print(f"round {n + 1}")
            order = args.configs[n % len(args.configs):] + args.configs[:n % len(args.configs)]
            for spec in order:
                base, proc = servers[spec]
                pids = process_tree(proc.pid)
                pg = backends(database_url, app_name(spec))
                load = os.getloadavg()[0]
                app0, pg0 = cpu_ticks(pids), cpu_ticks(pg)
                busy0, total0 = machine_ticks()
                result = run_wrk(base, paths_list=paths, duration=args.duration, connections=args.connections)
                app, pgt = cpu_ticks(pids) - app0, cpu_ticks(pg) - pg0
                busy, total = machine_ticks()
                others = max(busy - busy0 - app - pgt, 0) / max(total - total0, 1)
                per = 1000 / os.sysconf("SC_CLK_TCK") / max(result["requests"], 1)
                row = {**result, "app_ms": app * per, "pg_ms": pgt * per, "load": load, "others": others}
                runs[spec].append(row)
                print(f"  {spec:13} {row['rps']:7.1f} req/s  p50 {row['p50_ms']:6.1f}  p99 {row['p99_ms']:6.1f} ms  "
                      f"CPU/page server {row['app_ms']:4.2f} + PostgreSQL {row['pg_ms']:4.2f} ms  "
                      f"non-2xx {row['non_2xx']}  | load {load:4.2f}, others' CPU {others:4.0%}", flush=True)
    print("medians:")
    for spec, rows in runs.items():
        def med(key: str, rows: list[dict] = rows) -> float:
            return statistics.median(r[key] for r in rows)
        print(f"  {spec:13} {med('rps'):7.1f} req/s  p50 {med('p50_ms'):6.1f}  p99 {med('p99_ms'):6.1f} ms  "
              f"CPU/page server {med('app_ms'):4.2f} + PostgreSQL {med('pg_ms'):4.2f} ms")


if __name__ == "__main__":
    main()
