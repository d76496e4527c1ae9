"""Every measure of issue 14 in one run: each bench as its own usage line gives it, one after the other, then
the lines in which each states its figures against its goal, with the time and load average around each bench.

    .venv/bin/python bench/issue14.py [--only ingest,import,api,export,chart,pages] [--quick]

The benches and their references (all alternate the two sides and print the load beside each figure):

- ``ingest``: bench/ingest.py, the newest LiteLLM file and all seven into an empty database, against COPY of the
  rows they wrote (goals: at most 4x and 8x);
- ``import``: bench/csv_import.py, a 100,000-row benchmarks CSV, against COPY (under 3 s, at most 5x);
- ``api``: bench/api_vs_datasette.py, a filtered /api/v1/prices/ page of the 1M-row database under 16
  connections, against Datasette on a SQLite copy (at least 3x its req/s, p99 under 50 ms);
- ``export``: bench/csv_export.py, the 1M-row CSV export, against psql's ``\\copy`` (at least 0.7, memory flat);
- ``chart``: bench/first_chart.py, the first chart drawn in a cold Chromium (under 1 s);
- ``pages``: bench/pages.py, every dashboard page's server time on the demo data (p95 under 150 ms).

Each bench's whole output is kept in var/bench/issue14-<UTC time>/<name>.log. What a bench needs and cannot make
itself is checked before anything runs, and named with the command that provides it: the 1M-row price database
(bench/api_gen_prices.py, ~1 min), Datasette in var/bench-datasette, wrk and psql, Debian's chromium. ``--quick``
runs fewer rounds (a check that everything runs, not figures to report). The databases are the ones each usage line
names, on PostgreSQL at 127.0.0.1:5432 (``--server`` to change); the first chart is timed on the app's embedded
default database, as ``make run`` serves it. Only loopback traffic, to servers the benches start.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
DATASETTE = REPO / "var" / "bench-datasette" / "bin" / "datasette"


@dataclass(frozen=True)
class Measure:
    name: str
    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    database: str | None  # None: the app's embedded default (DATABASE_URL unset)
    summary: re.Pattern[str]  # the lines of its output that state a figure against a goal


MEASURES = (
    Measure("ingest", "bench/ingest.py", ("--repeat", "5"), ("--repeat", "1"), "tokenwatch_ingestbench",
            re.compile(r"goal|CPU \(Python")),
    Measure("import", "bench/csv_import.py", ("--repeat", "3"), ("--repeat", "1"), "tokenwatch_bench",
            re.compile(r"^\s*benchmarks\b|goal")),  # the hardware import beside it has no issue-14 goal
    Measure("api", "bench/api_vs_datasette.py", ("--rounds", "5", "--duration", "20"),
            ("--rounds", "1", "--duration", "5"), "tw_api",
            re.compile(r"^median|^  (API|Datasette|ratio)\b|goal")),
    Measure("export", "bench/csv_export.py", ("--rounds", "3"), ("--rounds", "1"), "tw_api",
            re.compile(r"goal|median|RSS", re.IGNORECASE)),
    Measure("chart", "bench/first_chart.py", ("--runs", "5"), ("--runs", "1"), None,
            re.compile(r"goal|^\s*/", re.IGNORECASE)),
    Measure("pages", "bench/pages.py", ("--repeat", "30"), ("--repeat", "3"), "tokenwatch_dash",
            re.compile(r"^goal")),  # the table of every page is in the log
)


def missing_prerequisites(chosen: list[Measure], server: str) -> list[str]:
    """What the chosen benches need and cannot make themselves, each with the command that provides it."""
    problems = []
    tools = {"psql": "apt-get install -y postgresql-client"}
    if any(m.name in ("api", "export") for m in chosen):
        tools["wrk"] = "apt-get install -y wrk"
        tools["curl"] = "apt-get install -y curl"
    if any(m.name == "chart" for m in chosen):
        tools["chromium"] = "apt-get install -y chromium"
    problems += [f"{tool} is not installed: {how}" for tool, how in tools.items() if shutil.which(tool) is None]
    if any(m.name == "api" for m in chosen) and not DATASETTE.exists():
        problems.append("Datasette is not in var/bench-datasette: python3 -m venv var/bench-datasette && "
                        "var/bench-datasette/bin/pip install datasette")
    if any(m.name in ("api", "export") for m in chosen) and shutil.which("psql"):
        count = subprocess.run(["psql", f"{server}/tw_api", "-tAc", "SELECT count(*) FROM pricing_price"],
                               capture_output=True, text=True)
        if count.returncode != 0 or int(count.stdout.strip() or 0) < 1_000_000:
            problems.append(f"the 1M-row price database is not there: DATABASE_URL={server}/tw_api "
                            ".venv/bin/python bench/api_gen_prices.py")
    if any(m.name == "chart" for m in chosen) and not demo_loaded():
        problems.append(f"the demo database (the embedded default, {embedded_database()}) has no prices: "
                        "env -u DATABASE_URL make demo")
    return problems


def demo_loaded() -> bool:
    """Whether the embedded default database holds prices (the chart bench serves its pages from it; an empty
    file, which any earlier start of the app leaves, answers every page with a 500)."""
    path = embedded_database()
    if not path.exists():
        return False
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return db.execute("SELECT EXISTS (SELECT 1 FROM pricing_price)").fetchone()[0] == 1
    except sqlite3.Error:  # no such table: never migrated
        return False


def embedded_database() -> Path:
    """The file the settings name for the embedded default (``TOKENWATCH_VAR_DIR`` honoured), read from them
    rather than written here again. The settings module is constants from the environment: importing it sets
    up no Django (at most it creates var/, as any start of the app does)."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tokenwatch.settings.base import EMBEDDED_DATABASE

    return EMBEDDED_DATABASE


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (5 min {five:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(m.name for m in MEASURES),
                        help="comma-separated: " + ", ".join(m.name for m in MEASURES))
    parser.add_argument("--quick", action="store_true", help="fewer rounds: that everything runs, not figures")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - {m.name for m in MEASURES})
    if unknown:
        parser.error(f"unknown measure(s): {', '.join(unknown)}")
    chosen = [m for m in MEASURES if m.name in names]
    problems = missing_prerequisites(chosen, args.server)
    if problems:
        raise SystemExit("Not ready:\n  " + "\n  ".join(problems))

    out_dir = REPO / "var" / "bench" / f"issue14-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out_dir.mkdir(parents=True)
    git = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True, text=True)
    print(f"code {git.stdout.strip() or '?'}; {os.cpu_count()} CPUs; logs in {out_dir.relative_to(REPO)}/", flush=True)
    summaries: list[tuple[str, list[str]]] = []  # per bench: its heading, its lines stating figures against goals
    codes: list[int] = []
    for measure in chosen:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        if measure.database is not None:
            env["DATABASE_URL"] = f"{args.server}/{measure.database}"
        command = [str(PYTHON), measure.script, *(measure.quick_args if args.quick else measure.args)]
        before, started = load(), time.monotonic()
        print(f"\n== {measure.name}: {' '.join(command[1:])} ({before}, {datetime.now(UTC):%H:%M:%S} UTC)",
              flush=True)
        stated: list[str] = []
        with (out_dir / f"{measure.name}.log").open("w") as log:
            proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
            assert proc.stdout is not None
            for line in proc.stdout:  # shown as it comes (a bench runs for minutes) and kept whole
                log.write(line)
                print(f"  {line}", end="", flush=True)
                if measure.summary.search(line):
                    stated.append(line.strip())
            code = proc.wait()
        codes.append(code)
        status = "" if code == 0 else f"; EXITED WITH {code}, see {measure.name}.log"
        summaries.append((f"{measure.name} ({measure.script}; {time.monotonic() - started:.0f} s; "
                          f"{before} -> {load()}{status})", stated))

    print("\n== issue 14, every measure in this run")
    for heading, stated in summaries:
        print(f"\n{heading}")
        for line in stated or ["(no line stated a goal: see the log)"]:
            print(f"  {line}")
    sys.exit(max(codes, default=0))


if __name__ == "__main__":
    main()
