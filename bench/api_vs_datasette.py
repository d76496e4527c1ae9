"""Issue 14: the filtered price page of the API against Datasette serving the same rows, alternating.

The reference is Datasette (its own virtualenv, var/bench-datasette) on a SQLite copy of the tables the
page reads (prices, offerings, providers, aliases, models, sources: the same rows, the same indexes),
asked the same question as a canned query: one provider's prices since 2024-01-01 in id order, 101 rows
(a page and the one that says there is a next page), with the provider named by its slug. It is served
``--immutable`` (Datasette's fastest mode for a file that does not change) with its default thread pool.
The SQLite copy holds timestamps and decimals already as the text the API writes, so Datasette formats
nothing: if anything, the reference is flattered.

Both servers run side by side on 127.0.0.1; wrk (16 connections by default, the same duration, the
same rotation over the 60 providers) loads one, then the other, the order swapped every round. Each
run prints req/s, p50 and p99 next to the machine's 1-minute load average before it and the share
of the machine's CPU time spent outside the measured processes (other sessions' work) during it.
The summary gives medians over the rounds, the ratio of req/s and the goals:
at least 3x Datasette's req/s, API p99 < 50 ms (on a quiet machine).

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/api_gen_prices.py
  python3 -m venv var/bench-datasette && var/bench-datasette/bin/pip install datasette
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/api_vs_datasette.py \\
      [--rounds 3] [--duration 20] [--connections 16] [--workers N] [--threads N] [--sync] [--server granian]
The SQLite copy is var/bench/prices.sqlite3, rebuilt when the PostgreSQL row count or newest
price id differs (--reexport to force it). Only loopback traffic.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from api_load import DEFAULT_URL, free_port, granian, gunicorn, page_paths, run_wrk
from benchdb import serving

REPO = Path(__file__).resolve().parent.parent
DATASETTE = REPO / "var" / "bench-datasette" / "bin" / "datasette"
SQLITE_PATH = REPO / "var" / "bench" / "prices.sqlite3"  # Datasette names the database "prices"
AFTER = "2024-01-01"

# Columns as the API's price rows show them: text for timestamps (the API's one format) and for decimals
# (exact, trailing zeros trimmed), so the copy needs no formatting on the Datasette side.
TS = "to_char(({c}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
DEC = "trim_scale({c})::text"
TABLES: dict[str, list[tuple[str, str, str]]] = {  # table: (column, SQLite type, PostgreSQL expression)
    "sources_source": [("id", "INTEGER PRIMARY KEY", "id"), ("key", "TEXT", "key")],
    "catalog_provider": [("id", "INTEGER PRIMARY KEY", "id"), ("slug", "TEXT", "slug"), ("name", "TEXT", "name"),
                         ("kind", "TEXT", "kind")],
    "catalog_model": [("id", "INTEGER PRIMARY KEY", "id"), ("slug", "TEXT", "slug"), ("family", "TEXT", "family")],
    "catalog_modelalias": [("id", "INTEGER PRIMARY KEY", "id"), ("model_id", "INTEGER", "model_id")],
    "catalog_offering": [("id", "INTEGER PRIMARY KEY", "id"), ("provider_id", "INTEGER", "provider_id"),
                         ("alias_id", "INTEGER", "alias_id"), ("source_id", "INTEGER", "source_id"),
                         ("source_model_id", "TEXT", "source_model_id"), ("region", "TEXT", "region"),
                         ("service_tier", "TEXT", "service_tier"), ("min_prompt_tokens", "INTEGER",
                                                                    "min_prompt_tokens"),
                         ("mode", "TEXT", "mode")],
    "pricing_price": [("id", "INTEGER PRIMARY KEY", "id"), ("offering_id", "INTEGER", "offering_id"),
                      ("provider_id", "INTEGER", "provider_id"), ("snapshot_id", "INTEGER", "snapshot_id"),
                      *((c, "TEXT", TS.format(c=c)) for c in ("effective_from", "effective_to", "first_seen_at",
                                                              "last_confirmed_at")),
                      *((c, "TEXT", DEC.format(c=c)) for c in ("input_usd_per_mtok", "output_usd_per_mtok",
                                                               "cached_input_usd_per_mtok",
                                                               "cache_write_usd_per_mtok",
                                                               "reasoning_usd_per_mtok")),
                      ("unit_prices", "TEXT", "unit_prices::text"), ("price_label", "TEXT", "price_label"),
                      ("basis", "TEXT", "basis")],
}

# The API page's question in SQL, as Datasette runs it (a canned query with :provider and :after).
PAGE_SQL = """
select p.id, p.offering_id as offering, pr.slug as provider, pr.name as provider_name, pr.kind as provider_kind,
  m.slug as model, nullif(m.family, '') as family, o.source_model_id, nullif(o.region, '') as region,
  o.service_tier, o.min_prompt_tokens, nullif(o.mode, '') as mode, p.effective_from, p.effective_to,
  p.input_usd_per_mtok, p.output_usd_per_mtok, p.cached_input_usd_per_mtok, p.cache_write_usd_per_mtok,
  p.reasoning_usd_per_mtok, p.unit_prices, nullif(p.price_label, '') as price_label, p.basis,
  p.first_seen_at, p.last_confirmed_at, s.key as source, p.snapshot_id as snapshot
from pricing_price p
  join catalog_offering o on o.id = p.offering_id
  join catalog_provider pr on pr.id = o.provider_id
  join catalog_modelalias a on a.id = o.alias_id
  left join catalog_model m on m.id = a.model_id
  join sources_source s on s.id = o.source_id
where p.provider_id = (select id from catalog_provider where slug = :provider)
  and p.effective_from >= :after
order by p.id
limit 101
"""


def pg_indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, bool, list[str], str | None]]:
    """(name, unique, columns, partial predicate) of each plain-column index but the primary key."""
    return conn.execute("""
        select i.relname, ix.indisunique, array_agg(a.attname order by k.n), pg_get_expr(ix.indpred, ix.indrelid)
        from pg_index ix join pg_class i on i.oid = ix.indexrelid join pg_class t on t.oid = ix.indrelid
          cross join lateral unnest(ix.indkey) with ordinality k(attnum, n)
          join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
        where t.relname = %s and not ix.indisprimary
        group by i.relname, ix.indisunique, ix.indpred, ix.indrelid order by i.relname""", [table]).fetchall()


def export(database_url: str, *, force: bool) -> None:
    """The tables the page reads, from PostgreSQL into SQLite, with the same indexes (rebuilt if stale)."""
    with psycopg.connect(database_url) as conn:
        count, newest = conn.execute("select count(*), max(id) from pricing_price").fetchone()
        stamp = f"{count}:{newest}"
        if SQLITE_PATH.exists() and not force:
            with sqlite3.connect(SQLITE_PATH) as lite:
                try:
                    if lite.execute("select stamp from bench_stamp").fetchone()[0] == stamp:
                        return
                except sqlite3.Error:
                    pass
        began = time.perf_counter()
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        tmp = SQLITE_PATH.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        lite = sqlite3.connect(tmp)
        lite.execute("pragma journal_mode = off")
        lite.execute("pragma synchronous = off")
        for table, columns in TABLES.items():
            names = [c[0] for c in columns]
            lite.execute(f"create table {table} ({', '.join(f'{n} {t}' for n, t, _ in columns)})")
            insert = f"insert into {table} values ({', '.join('?' * len(columns))})"
            with conn.cursor(name=f"export_{table}") as cursor:
                cursor.itersize = 20_000
                cursor.execute(f"select {', '.join(e for _, _, e in columns)} from {table} order by id")
                while rows := cursor.fetchmany(20_000):
                    lite.executemany(insert, rows)
            for name, unique, index_columns, predicate in pg_indexes(conn, table):
                if not set(index_columns) <= set(names):
                    continue
                lite.execute(f"create {'unique ' if unique else ''}index {name} on {table} "
                             f"({', '.join(index_columns)}){f' where {predicate}' if predicate else ''}")
        lite.execute("create table bench_stamp (stamp text)")
        lite.execute("insert into bench_stamp values (?)", [stamp])
        lite.commit()
        lite.execute("analyze")
        lite.commit()
        lite.close()
        tmp.replace(SQLITE_PATH)
        print(f"SQLite copy: {count:,} prices in {time.perf_counter() - began:.0f} s -> {SQLITE_PATH}")


@contextmanager
def datasette():
    if not DATASETTE.exists():
        raise SystemExit(f"{DATASETTE} missing: python3 -m venv var/bench-datasette && "
                         "var/bench-datasette/bin/pip install datasette")
    port = free_port()
    metadata = SQLITE_PATH.with_name("datasette-metadata.json")
    metadata.write_text(json.dumps({"databases": {"prices": {"queries": {"page": {"sql": PAGE_SQL}}}}}))
    proc = subprocess.Popen(
        [str(DATASETTE), "serve", "--immutable", str(SQLITE_PATH), "-h", "127.0.0.1", "-p", str(port),
         "--metadata", str(metadata),
         # Under 16 clients a page can wait past the default 1 s limit; a timeout would count as an error.
         "--setting", "sql_time_limit_ms", "30000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with serving(proc, f"http://127.0.0.1:{port}", "/-/versions.json") as served:
        yield served


def datasette_paths() -> list[str]:
    return [f"/prices/page.json?_shape=objects&provider=bench-provider-{n}&after={AFTER}" for n in range(60)]


def process_tree(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    children = [int(p) for p in out.split()]
    return [pid, *(c for child in children for c in process_tree(child))]


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# The API's connections name themselves, so the PostgreSQL CPU counted as the API's is its own backends' only
# (not another session's work on the same database during the run).
APPLICATION_NAME = "tw-bench-api"


def with_application_name(database_url: str) -> str:
    return f"{database_url}{'&' if '?' in database_url else '?'}application_name={APPLICATION_NAME}"


def postgres_backend_pids(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        return [r[0] for r in conn.execute("select pid from pg_stat_activity where application_name = %s",
                                           [APPLICATION_NAME])]


def measured(label: str, base: str, paths: list[str], *, server_pids: list[int], database_url: str | None,
             duration: int, connections: int) -> dict[str, float | str]:
    load = os.getloadavg()[0]
    pg_pids = postgres_backend_pids(database_url) if database_url else []
    app_before, pg_before = cpu_ticks(server_pids), cpu_ticks(pg_pids)
    busy_before, total_before = machine_ticks()
    result = run_wrk(base, paths_list=paths, duration=duration, connections=connections)
    app, pg = cpu_ticks(server_pids) - app_before, cpu_ticks(pg_pids) - pg_before
    busy, total = machine_ticks()
    # wrk's own CPU is not counted as the servers'; it is part of "others" (about the same for both sides).
    others = max(busy - busy_before - app - pg, 0) / max(total - total_before, 1)
    per_request = 1000 / os.sysconf("SC_CLK_TCK") / max(result["requests"], 1)
    cpu_ms = (app + pg) * per_request
    split = f" (PostgreSQL {pg * per_request:4.2f})" if pg_pids else ""
    print(f"  {label:9} {result['rps']:7.1f} req/s  p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
          f"server CPU {cpu_ms:4.2f} ms/req{split}  non-2xx {result['non_2xx']}  | load {load:4.2f}, "
          f"others' CPU {others:4.0%}", flush=True)
    return {**result, "load": load, "others": others, "cpu_ms": cpu_ms}


def server_label(args: argparse.Namespace) -> str:
    if args.server == "granian":
        return (f"granian --interface wsgi --workers {args.workers or 2}"
                f"{f' --blocking-threads {args.threads}' if args.threads else ''}")
    conf = (args.code / "tokenwatch" / "gunicorn_conf.py").exists()
    return "gunicorn " + " ".join([*(["-c python:tokenwatch.gunicorn_conf"] if conf else []),
                                   *([f"-w {args.workers}"] if args.workers else []),
                                   *([f"--threads {args.threads}"] if args.threads else []),
                                   *(["-k sync"] if args.sync else [])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn_conf's)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: gunicorn_conf's)")
    parser.add_argument("--sync", action="store_true", help="gunicorn's sync workers (no keep-alive) instead")
    parser.add_argument("--server", choices=("gunicorn", "granian"), default="gunicorn",
                        help="the API's WSGI server (--workers/--threads: granian's workers and blocking threads)")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="serve the API from this checkout (e.g. `git worktree add /tmp/before HEAD~3`)")
    parser.add_argument("--reexport", action="store_true", help="rebuild the SQLite copy")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    # Connections live through the whole run (production's 60 s would replace them mid-run), so the
    # PostgreSQL backends whose CPU is counted as the API's are the ones serving it.
    os.environ.setdefault("DB_CONN_MAX_AGE", "3600")
    export(database_url, force=args.reexport)
    api_paths, ds_paths = page_paths(None), datasette_paths()

    if args.server == "granian":
        api_server = granian(workers=args.workers, threads=args.threads, code=args.code,
                             database_url=with_application_name(database_url))
    else:
        api_server = gunicorn(workers=args.workers, threads=args.threads, sync=args.sync, code=args.code,
                              database_url=with_application_name(database_url))
    with api_server as (api, api_proc), datasette() as (ds, ds_proc):
        # The same rows on both sides (ids of one page), then every path once on each to warm them.
        ours = [r["id"] for r in httpx.get(api + api_paths[7], timeout=30).json()["results"]]
        theirs = [r["id"] for r in httpx.get(ds + ds_paths[7], timeout=30).json()["rows"]]
        if ours != theirs[:100] or len(theirs) != 101:
            raise SystemExit(f"the two sides disagree on the page: {ours[:3]}… vs {theirs[:3]}…")
        for _ in range(2):
            for a, d in zip(api_paths, ds_paths, strict=True):
                httpx.get(api + a, timeout=30).raise_for_status()
                httpx.get(ds + d, timeout=30).raise_for_status()
        # Then a few seconds at the measured concurrency: every gunicorn thread opens its database connection
        # here, not in the first round (whose PostgreSQL CPU counts only the backends that exist when it starts,
        # so it read low: 0.97-0.99 ms against 1.7-2.0 in the later rounds).
        for base, paths in ((api, api_paths), (ds, ds_paths)):
            run_wrk(base, paths_list=paths, duration=3, connections=args.connections)
        print(f"code {args.code}; {os.cpu_count()} CPUs; wrk -c{args.connections} -d{args.duration}s, "
              f"{args.rounds} rounds; "
              f"API: {server_label(args)}; Datasette --immutable on "
              f"{SQLITE_PATH.name}")
        api_pids, ds_pids = process_tree(api_proc.pid), process_tree(ds_proc.pid)
        runs: dict[str, list[dict]] = {"api": [], "datasette": []}
        for n in range(args.rounds):
            print(f"round {n + 1}")
            order = ["api", "datasette"] if n % 2 == 0 else ["datasette", "api"]
            for side in order:
                if side == "api":
                    runs[side].append(measured("API", api, api_paths, server_pids=api_pids,
                                               database_url=database_url, duration=args.duration,
                                               connections=args.connections))
                else:
                    runs[side].append(measured("Datasette", ds, ds_paths, server_pids=ds_pids, database_url=None,
                                               duration=args.duration, connections=args.connections))

    def median(side: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[side])

    ratios = [a["rps"] / d["rps"] for a, d in zip(runs["api"], runs["datasette"], strict=True)]
    ratio = statistics.median(ratios)
    api_p99 = median("api", "p99_ms")
    print(f"median over {args.rounds} rounds (load average {min(r['load'] for v in runs.values() for r in v):.2f}"
          f"–{max(r['load'] for v in runs.values() for r in v):.2f}):")
    for side, label in (("api", "API"), ("datasette", "Datasette")):
        print(f"  {label:9} {median(side, 'rps'):7.1f} req/s  p50 {median(side, 'p50_ms'):6.1f} ms  "
              f"p99 {median(side, 'p99_ms'):6.1f} ms  server CPU {median(side, 'cpu_ms'):4.2f} ms/req")
    print(f"  ratio {ratio:.2f}x Datasette's req/s (each round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"goal >= 3x: {'met' if ratio >= 3 else 'MISSED'})")
    print(f"  API p99 {api_p99:.1f} ms (goal < 50 ms: {'met' if api_p99 < 50 else 'MISSED'})")
    if any(r["non_2xx"] for v in runs.values() for r in v):
        sys.exit("some requests failed")


if __name__ == "__main__":
    main()
