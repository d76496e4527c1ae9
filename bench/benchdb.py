"""Database setup shared by the benchmark scripts (each runs against its own PostgreSQL database)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

# When each bundled LiteLLM file was observed (its commit date upstream): bench/ingest.py and
# bench/ingest_phases.py ingest them at these times, so the market holds what it would (a price dated in the
# future is not current, and would leave the market refresh less to do).
LITELLM_OBSERVED = {
    "model_prices_2024-04-22_tokencost-569280a.json": datetime(2024, 4, 23, 6, 50, tzinfo=UTC),
    "model_prices_2024-09-23_tokencost-50ea0a0.json": datetime(2024, 9, 22, 18, 43, 44, tzinfo=UTC),
    "model_prices_2025-02-06_rocry-b094ffe.json": datetime(2025, 2, 6, 2, 56, 3, tzinfo=UTC),
    "model_prices_2025-05-31_rocry-9716a8b.json": datetime(2025, 5, 31, tzinfo=UTC),
    "model_prices_2025-09-30_rocry-72e074a.json": datetime(2025, 9, 30, tzinfo=UTC),
    "model_prices_2026-01-31_rocry-94b6c3b.json": datetime(2026, 1, 31, tzinfo=UTC),
    "model_prices_2026-07-24_rocry-8442b93.json": datetime(2026, 7, 24, tzinfo=UTC),
}


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
