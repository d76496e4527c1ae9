"""A real Celery worker process for the tests that need one (sources, probes, alerts): started against the
test database and the test broker, stopped afterwards, its log kept for the failure message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from tests.conftest import REPO


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def celery_worker(broker: str, log: Path, *, env: dict[str, str] | None = None,
                  queue: str | None = None) -> Iterator[Celery]:
    """``celery worker`` (2 prefork processes) on ``queue`` (default: Celery's), with ``env`` added; yields a
    client app for ``send_task``. Not the current app: a new Celery() becomes it by default, and every later
    test's shared_task .delay() would go to this broker instead of running eagerly."""
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base", "DATABASE_URL": database_url(),
                "CELERY_BROKER_URL": broker, "DB_CONN_MAX_AGE": "0", **(env or {})}
    command = [sys.executable, "-m", "celery", "-A", "tokenwatch", "worker", "--concurrency", "2", "--pool",
               "prefork", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if queue:
        command += ["-Q", queue]
    client = Celery(broker=broker, set_as_current=False)
    if not queue:
        client.control.purge()  # the default queue may hold an earlier run's messages
    proc = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    try:
        yield client
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def wait_for(predicate: Callable[[], bool], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; worker log:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.25)
