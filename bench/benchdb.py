"""Database setup shared by the benchmark scripts (each runs against its own PostgreSQL database)."""

from __future__ import annotations

import subprocess


def ensure_database(url: str) -> None:
    """Create the database a ``postgres://…/NAME`` URL names, if it does not exist yet (with psql)."""
    base, name = url.rsplit("/", 1)
    exists = subprocess.run(["psql", f"{base}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if exists != "1":
        subprocess.run(["psql", f"{base}/postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)
