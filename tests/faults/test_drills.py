"""Fault drills (issue 12): real worker, beat, gunicorn, Redis and PostgreSQL processes on 127.0.0.1, broken on purpose.

After each fault every snapshot must end up ingested within a bounded time (the drill's beat sweeps every
2 s with thresholds of seconds; production sweeps every 5 minutes), no ingest run may be left "running",
and every ingest table must equal a clean, fault-free ingest of the same files; gunicorn must answer no 5xx.

    DATABASE_URL=postgres://... .venv/bin/pytest tests/faults -m faults -q -s

TOKENWATCH_DRILL_TRIALS=N repeats each drill N times (default 1). TOKENWATCH_DRILL_WITHOUT_SWEEP=1 starts no
beat, to watch the drills fail as the faults were first found (runs left running, snapshots left pending).
"""

from __future__ import annotations

import os
import sys
import time

import httpx
import pytest

from .conftest import FILES, Drill, report
from .servers import free_port

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

TRIALS = range(int(os.environ.get("TOKENWATCH_DRILL_TRIALS", "1")))
CHILD_KILLS = 3


def all_snapshots_ok(drill: Drill) -> bool:
    return drill.counts()[0] == {"ok": len(FILES)}


@pytest.mark.parametrize("trial", TRIALS)
def test_it_finishes_every_snapshot_after_worker_children_are_killed_mid_ingest(drill: Drill, trial: int):
    worker = drill.start_worker_and_beat()
    drill.submit()
    kills, last_fault = 0, time.monotonic()
    while kills < CHILD_KILLS and not all_snapshots_ok(drill):
        if not drill.kill_mid_ingest(worker):
            time.sleep(0.05)
            continue
        kills, last_fault = kills + 1, time.monotonic()
        time.sleep(0.5)
    assert kills >= 1, "every snapshot was ingested before a child could be killed"
    recovery = drill.wait_recovered(last_fault)
    _, runs = drill.counts()
    assert runs.get("failed", 0) >= kills, runs  # each killed run was marked failed by the sweep, not left running
    drill.assert_history_is_clean()
    report("worker child kill -9", trial=trial, kills=kills, recovery_s=recovery, runs=runs)


@pytest.mark.parametrize("trial", TRIALS)
def test_it_finishes_every_snapshot_after_the_main_worker_is_killed_mid_ingest_and_restarted(drill: Drill,
                                                                                               trial: int):
    worker = drill.start_worker_and_beat()
    drill.submit()
    drill.wait_mid_ingest()
    worker.kill9()  # its children are orphaned mid-task; its unacknowledged messages sit in Redis
    fault = time.monotonic()
    drill.restart(worker)
    recovery = drill.wait_recovered(fault)
    _, runs = drill.counts()
    drill.assert_history_is_clean()
    report("main worker kill -9 + restart", trial=trial, recovery_s=recovery, runs=runs)


@pytest.mark.parametrize("trial", TRIALS)
def test_it_finishes_every_snapshot_after_redis_restarts_without_persistence(drill: Drill, trial: int):
    drill.start_worker_and_beat()
    drill.submit()
    drill.wait_mid_ingest()
    lost = drill.redis.queued()  # waiting or delivered-unacknowledged: all gone with the restart
    down_s = drill.redis.restart()
    fault = time.monotonic()
    assert lost >= 1, "nothing was queued when Redis restarted"
    recovery = drill.wait_recovered(fault)
    _, runs = drill.counts()
    drill.assert_history_is_clean()
    report("redis restart (no persistence)", trial=trial, messages_lost=lost, redis_down_s=down_s,
           recovery_s=recovery, runs=runs)


@pytest.mark.parametrize("trial", TRIALS)
def test_it_finishes_every_snapshot_after_database_blips_and_a_postgresql_fast_restart_mid_ingest(drill: Drill,
                                                                                                  trial: int):
    drill.start_worker_and_beat()
    # Two waves of files, one fault each; the clean reference runs after both (it would be cut off too).
    # A blip first: the server stays up, the ingest's own connection is terminated mid-transaction.
    drill.submit_and_break(FILES[:2], lambda backend: drill.pg.execute("SELECT pg_terminate_backend(%s)", (backend,)))
    blip = time.monotonic()
    blip_recovery = drill.wait_recovered(blip)
    # Then the whole server: every session is terminated, the worker's persistent ones too.
    # (Once the submit is done: a restart while the files are being stored would break the submit, not an ingest.
    # This wave is six files, two of them large: seconds of ingest.)
    drill.submit(reference=False, files=FILES[2:])
    drill.wait_mid_ingest()
    restart_s = drill.pg.restart_fast()
    fault = time.monotonic()
    recovery = drill.wait_recovered(fault)
    snapshots, runs = drill.counts()
    assert snapshots == {"ok": len(FILES)}
    lost = drill.pg.execute("SELECT count(*) FROM sources_ingestrun WHERE message LIKE %s",
                            ("%connection was lost mid-ingest%",), dbname="tw_drill")[0][0]
    drill.start_reference()
    drill.assert_history_is_clean()
    report("postgresql: a backend terminated, then a fast restart", trial=trial, blip_recovery_s=blip_recovery,
           restart_s=restart_s, recovery_s=recovery, runs=runs, runs_saying_connection_lost=lost)


PATHS = ["/api/v1/sources/", "/api/v1/ingest-runs/", "/api/v1/prices/", "/"]


def start_gunicorn(drill: Drill, name: str, settings: str) -> str:
    port = free_port()
    drill.start(name, [sys.executable, "-m", "gunicorn", "tokenwatch.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
                ready="Booting worker", env={**drill.env, "DJANGO_SETTINGS_MODULE": settings,
                                             "TOKENWATCH_PUBLIC_API": "1", "DB_CONN_MAX_AGE": "600"})
    return f"http://127.0.0.1:{port}"


def requests(base: str, n: int) -> list[int]:
    statuses = []
    for i in range(n):
        # A new connection each time, so both gunicorn workers take requests.
        with httpx.Client(base_url=base, timeout=30) as client:
            statuses.append(client.get(PATHS[i % len(PATHS)]).status_code)
    return statuses


@pytest.mark.parametrize("trial", TRIALS)
def test_it_answers_no_5xx_on_stale_connections_after_a_postgresql_restart(drill: Drill, trial: int):
    served = start_gunicorn(drill, "gunicorn", "tokenwatch.settings.base")
    control = start_gunicorn(drill, "gunicorn-control", "tests.faults.settings_without_health_checks")
    time.sleep(1)  # every worker booted
    for base in (served, control):
        warm = requests(base, 16)  # each worker now holds a persistent connection
        assert all(s < 500 for s in warm), warm
    restart_s = drill.pg.restart_fast()
    after, after_control = requests(served, 16), requests(control, 16)
    errors = [s for s in after if s >= 500]
    assert not errors, f"{len(errors)} of {len(after)} requests failed after the restart: {after}\n{drill.logs()}"
    # Without health checks the same restart costs each worker its first request: the fault was real.
    control_errors = [s for s in after_control if s >= 500]
    assert control_errors, f"the control answered no 5xx: the restart left no stale connection? {after_control}"
    report("stale connections after postgresql restart (gunicorn -w 2)", trial=trial, restart_s=restart_s,
           requests_after=len(after), http_5xx=len(errors), control_http_5xx=len(control_errors))
