"""Fault drills: a throw-away PostgreSQL cluster and Redis per session, a fresh drill database per drill.

The drill database is a copy of a migrated template (CREATE DATABASE ... TEMPLATE), so each
drill starts from the same empty, migrated state in well under a second. The clean reference
is the same files ingested in date order by the command path, with no fault, into a database of its own
while the drill runs: started with the drill's workers, it runs the same code they run (the working tree
may change between drills while others work on it).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_DATA, need

from .servers import PG_BIN, Postgres, Process, Redis, ServerError, children, pid_with_local_port, wait_until

TEMPLATE_DB, CLEAN_DB, DRILL_DB = "tw_template", "tw_clean", "tw_drill"
WORKER_APP = "tw-drill-worker"  # the application_name of the drill worker's PostgreSQL connections (PGAPPNAME)
# The drill's beat sweeps every SWEEP_INTERVAL_S with these thresholds (seconds); production sweeps every
# 5 minutes, fails runs older than 10 minutes and re-queues snapshots pending for 5 (apps/sources/services.py).
SWEEP_INTERVAL_S, RUN_DEADLINE_S, PENDING_GRACE_S = 2, 6, 4
# Every drill must be back to "all ingested, nothing running" within this many seconds of its fault.
RECOVERY_BOUND_S = float(os.environ.get("TOKENWATCH_DRILL_RECOVERY_S", "90"))

# Real files from two sources that name the same canonical models, so both worker processes are busy
# with ingests that touch shared rows: four LiteLLM maps (0.1-0.45 MB, about a second each to ingest, long
# enough to kill mid-way) and four llm-prices vendor files. This set first showed a race with no fault at
# all (concurrent ingests refreshed shared models' modality from their own view; fixed in 71c4d11).
# TOKENWATCH_DRILL_FILES=disjoint: LiteLLM maps and the SkyPilot GPU sheet, which share no rows.
FILE_SETS = {
    "mixed": [
        ("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json", "2024-04-23T06:50:00+00:00"),
        ("litellm", "litellm/model_prices_2024-09-23_tokencost-50ea0a0.json", "2024-09-22T18:43:44+00:00"),
        ("litellm", "litellm/model_prices_2025-02-06_rocry-b094ffe.json", "2025-02-06T02:56:03+00:00"),
        ("litellm", "litellm/model_prices_2025-05-31_rocry-9716a8b.json", "2025-05-31T22:06:56+00:00"),
        ("llm-prices", "llm-prices/anthropic.json", "2026-08-06T01:25:35+00:00"),
        ("llm-prices", "llm-prices/google.json", "2026-08-06T01:25:35+00:00"),
        ("llm-prices", "llm-prices/openai.json", "2026-08-06T01:25:35+00:00"),
        ("llm-prices", "llm-prices/xai.json", "2026-08-06T01:25:35+00:00"),
    ],
    "disjoint": [
        ("litellm", "litellm/model_prices_2024-04-22_tokencost-569280a.json", "2024-04-23T06:50:00+00:00"),
        ("litellm", "litellm/model_prices_2024-09-23_tokencost-50ea0a0.json", "2024-09-22T18:43:44+00:00"),
        ("litellm", "litellm/model_prices_2025-02-06_rocry-b094ffe.json", "2025-02-06T02:56:03+00:00"),
        ("litellm", "litellm/model_prices_2025-05-31_rocry-9716a8b.json", "2025-05-31T22:06:56+00:00"),
        ("gpu-catalog", "gpu-cloud/skypilot_lambda_vms_v8.csv", "2025-06-01T00:00:00+00:00"),
    ],
}
FILES = FILE_SETS[os.environ.get("TOKENWATCH_DRILL_FILES", "mixed")]


def files_arg(files: list[tuple[str, str, str]] | None = None) -> str:
    return json.dumps([[key, str(SHARED_DATA / path), when] for key, path, when in (FILES if files is None else files)])


def process_env(database_url: str, broker_url: str = "", **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CACHE_URL", "CELERY_RESULT_BACKEND"}}
    env.update({"DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base", "DATABASE_URL": database_url,
                "CELERY_BROKER_URL": broker_url, "PYTHONUNBUFFERED": "1", **extra})
    return env


def drillctl(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run([sys.executable, "-m", "tests.faults.drillctl", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode:
        raise AssertionError(f"drillctl {args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


@dataclass
class Cluster:
    pg: Postgres
    redis: Redis


@pytest.fixture(scope="session")
def cluster():
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        need("fault drills run on PostgreSQL + Redis (set DATABASE_URL=postgres://...; they start their own "
             "throw-away cluster and redis-server)")
    if not (PG_BIN / "initdb").exists():
        need(f"PostgreSQL server binaries not found in {PG_BIN} (set TOKENWATCH_DRILL_PG_BIN)")
    if shutil.which("redis-server") is None:
        need("redis-server not found on PATH")
    if not SHARED_DATA.is_dir():
        need(f"shared data not found at {SHARED_DATA}")
    pg = Postgres()
    redis = Redis()
    started = time.monotonic()
    try:
        pg.init().start()
        redis.start()
        pg.recreate(TEMPLATE_DB)
        env = process_env(pg.url(TEMPLATE_DB))
        migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env,
                                 capture_output=True, text=True, timeout=600, check=False)
        assert migrate.returncode == 0, migrate.stderr[-4000:]
        drillctl(env, "configure-sweep", str(SWEEP_INTERVAL_S), str(RUN_DEADLINE_S), str(PENDING_GRACE_S))
        report("setup: initdb, redis-server, migrate", seconds=time.monotonic() - started)
        yield Cluster(pg=pg, redis=redis)
    except ServerError as exc:
        need(f"could not start a throw-away server: {exc}")
    finally:
        redis.destroy()
        pg.destroy()


class Drill:
    """One drill: a fresh copy of the migrated database, an empty Redis, and the processes it starts."""

    def __init__(self, cluster: Cluster, log_dir: Path) -> None:
        self.cluster, self.pg, self.redis, self.log_dir = cluster, cluster.pg, cluster.redis, log_dir
        self.database_url = self.pg.url(DRILL_DB)
        self.env = process_env(self.database_url, self.redis.url())
        self.processes: list[Process] = []
        self.reference: subprocess.Popen | None = None
        self._poll = None  # the connection _ingest_backends polls on
        self.submitted = 0
        self.reference_out = log_dir / "clean.pickle"

    def start_reference(self) -> None:
        """The clean ingest of the same files, in a database of its own, beside the drill."""
        self.pg.recreate(CLEAN_DB, template=TEMPLATE_DB)
        with (self.log_dir / "reference.log").open("wb") as log:
            self.reference = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.drillctl", "reference", files_arg(), str(self.reference_out)],
                cwd=REPO, env=process_env(self.pg.url(CLEAN_DB)), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    # --- processes ---------------------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], ready: str, env: dict[str, str] | None = None,
              wait: bool = True) -> Process:
        process = Process(name, argv, env=env or self.env, cwd=REPO, log_dir=self.log_dir)
        self.processes.append(process)
        process.start()
        if wait:
            process.wait_for_log(ready, timeout=90)
        return process

    def start_worker_and_beat(self) -> Process:
        """A prefork worker with two children, and beat (its sweep every SWEEP_INTERVAL_S); returns the worker."""
        # Persistent connections (DB_CONN_MAX_AGE defaults to 60) as in production: a database restart
        # leaves them stale.
        worker = self.start("worker", [sys.executable, "-m", "celery", "-A", "tokenwatch", "worker", "-n",
                                       "worker@drill", "--concurrency", "2", "--pool", "prefork", "-l", "info",
                                       "--without-gossip", "--without-mingle", "--without-heartbeat"],
                            ready="ready.", wait=False, env={**self.env, "PGAPPNAME": WORKER_APP})
        if os.environ.get("TOKENWATCH_DRILL_WITHOUT_SWEEP") == "1":
            # To see the drills fail without the sweep (the faults of issue 12 as they were found).
            worker.wait_for_log("ready.", timeout=90)
            return worker
        beat = self.start("beat", [sys.executable, "-m", "celery", "-A", "tokenwatch", "beat", "-l", "info",
                                   "--pidfile", str(self.log_dir / "beat.pid"),
                                   "-s", str(self.log_dir / "beat-schedule")], ready="beat: Starting", wait=False)
        # Both start at once (each spends seconds importing Django and Celery); wait for both.
        worker.wait_for_log("ready.", timeout=90)
        beat.wait_for_log("beat: Starting", timeout=90)
        return worker

    def restart(self, process: Process, ready: str = "ready.") -> None:
        process.start().wait_for_log(ready, timeout=90)

    def stop_all(self) -> None:
        if self._poll is not None:
            self._poll.close()
        for process in reversed(self.processes):
            process.stop()
        if self.reference is not None and self.reference.poll() is None:
            os.killpg(self.reference.pid, signal.SIGKILL)
            self.reference.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log_text(3000)}" for p in self.processes)

    # --- the database ----------------------------------------------------------------------------------------
    def submit(self, reference: bool = True, files: list[tuple[str, str, str]] | None = None) -> list[int]:
        """Store the files (all, or some of FILES) and queue their ingest, as uploads do; the clean reference
        of all FILES starts beside it (unless the drill breaks the cluster they share: then start_reference()
        after recovery)."""
        if reference:
            self.start_reference()
        ids = json.loads(drillctl(self.env, "submit", files_arg(files)))
        self.submitted += len(ids)
        return ids

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(snapshots by parse status, runs by status), read straight from the drill database."""
        snapshots = dict(self.pg.execute("SELECT parse_status, count(*) FROM sources_snapshot GROUP BY 1",
                                         dbname=DRILL_DB))
        runs = dict(self.pg.execute("SELECT status, count(*) FROM sources_ingestrun GROUP BY 1", dbname=DRILL_DB))
        return snapshots, runs

    def recovered(self) -> bool:
        try:
            snapshots, runs = self.counts()
        except Exception:  # the database is restarting: not yet
            return False
        return snapshots == {"ok": self.submitted} and not runs.get("running")

    def wait_recovered(self, since: float) -> float:
        """Seconds from `since` (time.monotonic() at the fault) until every snapshot is in and nothing runs."""
        try:
            wait_until(self.recovered, RECOVERY_BOUND_S - (time.monotonic() - since), "recovery", interval=0.2)
        except TimeoutError:
            snapshots, runs = self.counts()
            errors = self.pg.execute("SELECT id, parse_status, error FROM sources_snapshot "
                                     "WHERE parse_status <> 'ok'", dbname=DRILL_DB)
            pytest.fail(f"not recovered within {RECOVERY_BOUND_S:.0f} s: snapshots {snapshots}, runs {runs}, "
                        f"{errors}\n{self.logs()}")
        return time.monotonic() - since

    # An ingest's apply transaction (apps.sources.services.snapshot_apply) first locks its source row FOR UPDATE
    # (RowShareLock on sources_source) and then marks its snapshot (RowExclusiveLock on sources_snapshot), both
    # held until it ends; among the worker's transactions (its connections are named WORKER_APP) no other holds
    # both: the sweep and a run's bookkeeping write runs, the alerts' market task its own tables, and a foreign
    # key's check on the source (RowShareLock too) comes with no write to snapshots. Storing a snapshot does
    # both, but that is the submitting process (drillctl), not the worker. A write under way (backend_xid):
    # the run exists and is "running", and killing its worker fails that run.
    _INGEST_TRANSACTION = (
        "SELECT client_port, pid FROM pg_stat_activity a WHERE datname = %s AND application_name = %s"
        " AND xact_start IS NOT NULL AND backend_xid IS NOT NULL"
        " AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = a.pid"
        "   AND c.relname = 'sources_source' AND l.mode = 'RowShareLock' AND l.granted)"
        " AND EXISTS (SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = a.pid"
        "   AND c.relname = 'sources_snapshot' AND l.mode = 'RowExclusiveLock' AND l.granted)")

    def _ingest_backends(self, backend: int | None = None) -> list[tuple[int, int]]:
        """(client port, backend pid) of each open ingest transaction (or of this backend's, if still open).

        Polled every few milliseconds while an ingest of a small file lasts a tenth of a second on a fast
        machine: one connection kept for the polls (a new one per poll, and scanning /proc for the worker's
        children, made a poll long enough on a loaded machine to miss a whole ingest), opened again after the
        drills restart the server."""
        import psycopg

        sql, params = self._INGEST_TRANSACTION, (DRILL_DB, WORKER_APP)
        if backend is not None:
            sql, params = sql + " AND a.pid = %s", (DRILL_DB, WORKER_APP, backend)
        try:
            if self._poll is None or self._poll.closed:
                self._poll = self.pg.connect(DRILL_DB)
            return self._poll.execute(sql, params).fetchall()
        except psycopg.OperationalError:
            self._poll = None  # the server restarted (or is restarting): nothing seen; the next poll reconnects
            return []

    def ingest_transaction(self, worker: Process) -> tuple[int, int] | None:
        """(worker child pid, its PostgreSQL backend pid) for an open ingest transaction, if any."""
        rows = self._ingest_backends()
        if not rows:
            return None
        kids = children(worker.pid)
        for port, backend in rows:
            pid = pid_with_local_port(kids, port)
            if pid is not None:
                return pid, backend
        return None

    def kill_mid_ingest(self, worker: Process) -> bool:
        """SIGKILL a worker child while it holds an open ingest transaction; False when none was found.

        The child is stopped (SIGSTOP) and its transaction looked for again before the kill: between the first
        look and the kill the ingest could commit and its run end "ok", and a kill counted as failing a run
        would then fail none (the drill asserts one failed run per kill: it failed once with 3 kills, 2 failed).
        A stopped client cannot commit; its backend at most finishes a COMMIT already sent, whose run the
        client could then not finish: the sweep still marks it failed.
        """
        found = self.ingest_transaction(worker)
        if found is None:
            return False
        pid, backend = found
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            return False
        if not self._ingest_backends(backend):
            os.kill(pid, signal.SIGCONT)
            return False
        os.kill(pid, signal.SIGKILL)  # the pool notices, starts a new child, and Redis gets the message back
        return True

    def wait_mid_ingest(self, timeout: float = 60) -> int:
        """Wait until an ingest's apply transaction is open (a write under way); returns its backend's pid."""
        found: list[int] = []

        def writing() -> bool:
            rows = self._ingest_backends()
            if rows:
                found.append(rows[0][1])
            return bool(found)

        try:
            wait_until(writing, timeout, "an ingest under way", interval=0.005)
        except TimeoutError:
            pytest.fail(f"no ingest under way to break: {self.counts()}\n{self.logs()}")
        return found[0]

    def submit_and_break(self, files: list[tuple[str, str, str]], fault: Callable[[int], object]) -> None:
        """Submit these files (no reference) and call ``fault(backend pid)`` the moment one of their ingests is
        under way. The watch starts before the submit: a wave of two small files can be ingested whole before
        the submitting process has even exited on a loaded machine (the drill then failed: nothing to break)."""
        import threading

        failures: list[BaseException] = []

        def watch() -> None:
            try:
                fault(self.wait_mid_ingest())
            except BaseException as exc:  # pytest.fail's Failed too: raised below, in the test's thread
                failures.append(exc)

        watcher = threading.Thread(target=watch, name="drill-watch")
        watcher.start()
        try:
            self.submit(reference=False, files=files)
        finally:
            watcher.join(90)
        if failures:
            raise failures[0]

    def assert_history_is_clean(self) -> None:
        from tests.tables import first_difference

        out = self.log_dir / "drill.pickle"
        drillctl(self.env, "dump", str(out))
        drilled = pickle.loads(out.read_bytes())  # noqa: S301 (our own file)
        assert self.reference is not None
        assert self.reference.wait(timeout=300) == 0, (self.log_dir / "reference.log").read_text()[-4000:]
        clean = pickle.loads(self.reference_out.read_bytes())  # noqa: S301 (our own file)
        if drilled != clean:  # not `assert ==`: pytest would spend minutes diffing two dumps of every table
            pytest.fail(first_difference(clean, drilled))


@pytest.fixture
def drill(cluster, tmp_path):
    cluster.pg.recreate(DRILL_DB, template=TEMPLATE_DB)
    import redis

    redis.Redis(host="127.0.0.1", port=cluster.redis.port).flushall()
    drill = Drill(cluster, tmp_path)
    try:
        yield drill
    finally:
        drill.stop_all()


def report(name: str, **figures: object) -> None:
    """One line per drill for the report (shown with -s)."""
    shown = ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"\n[drill] {name} ({datetime.now().astimezone():%H:%M:%S}): {shown}")
