"""Database setup shared by the benchmark scripts (each runs against its own PostgreSQL database)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ensure_database(url: str) -> None:
    """Create the database a ``postgres://…/NAME`` URL names, if it does not exist yet (with psql)."""
    base, name = url.rsplit("/", 1)
    exists = subprocess.run(["psql", f"{base}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run(["psql", f"{base}/postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)


def wait_until_up(url: str, proc: subprocess.Popen, *, tries: int = 150) -> None:
    """Poll ``url`` (a server the bench just started as ``proc``) until it answers 200, or stop the bench."""
    import httpx

    for _ in range(tries):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {proc.returncode} (port taken?)")
        time.sleep(0.2)
    raise SystemExit(f"{url}: the server did not come up")


@contextmanager
def serving(proc: subprocess.Popen, base: str, ready_path: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """(``base``, ``proc``) once ``base + ready_path`` answers 200; the server is stopped (SIGTERM) on the way out."""
    try:
        wait_until_up(f"{base}{ready_path}", proc)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process on this host, e.g. a PostgreSQL backend (/proc; None once it has exited): on a
    loaded machine wall time is mostly waiting for a core, and CPU is the figure that holds. 10 ms ticks."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
