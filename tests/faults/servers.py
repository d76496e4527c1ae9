"""Throw-away servers and processes for the fault drills, all on 127.0.0.1.

Each drill breaks things on purpose (kill -9, restarts), so nothing here may touch
the machine's shared PostgreSQL (5432) or Redis (6379): the drills initdb their own
cluster in a temp dir and start their own redis-server, and every process they start
runs in a session of its own so that it, and any child it leaves orphaned, can be
killed as a group at the end.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("TOKENWATCH_DRILL_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_PORT = int(os.environ.get("TOKENWATCH_DRILL_PG_PORT", "55432"))
REDIS_PORT = int(os.environ.get("TOKENWATCH_DRILL_REDIS_PORT", "6390"))
LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A throw-away server could not be started; the message says why (and shows its log)."""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((LOOPBACK, port)) != 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll until predicate() is true; returns the seconds it took, raises TimeoutError naming what."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


class Process:
    """A subprocess in its own session, logging to a file; stop() kills the whole group."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path, log_dir: Path) -> None:
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.pgids: list[int] = []
        self.log_offset = 0  # every session it ever ran in: a restart leaves orphans of the old one

    def start(self) -> Process:
        # What this run logs starts here (a restarted process appends to the same log).
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.pgids.append(self.proc.pid)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""

    def wait_for_log(self, needle: str, timeout: float = 60) -> None:
        """Wait until this run of the process (since its last start) has logged `needle`."""
        offset = self.log_offset

        def seen() -> bool:
            if not self.alive():
                raise ServerError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_text()}")
            return needle in self.log.read_text(errors="replace")[offset:]

        try:
            wait_until(seen, timeout, f"{self.name} to log {needle!r}", interval=0.2)
        except TimeoutError as exc:
            raise ServerError(f"{exc}\n{self.log_text()}") from exc

    def kill9(self) -> None:
        """SIGKILL the main process only (its children, if any, are left as they would be in a crash)."""
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Kill every process of every session this ever started (they are throw-away: no graceful shutdown)."""
        for pgid in self.pgids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(group_members(pgid) for pgid in self.pgids) and time.monotonic() < deadline:
            time.sleep(0.1)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its closing parenthesis.
    return text[text.rindex(")") + 2:].split()


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def pid_with_local_port(candidates: list[int], port: int) -> int | None:
    """Which of these processes owns the TCP socket whose local port is `port` (its database connection)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in candidates:
        if socket_inodes(pid) & inodes:
            return pid
    return None


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets a process holds open (``socket:[N]`` among its fds), as /proc/net/* prints them."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


class Postgres:
    """A PostgreSQL cluster of our own in a temp dir (initdb refuses root, so as the postgres user then)."""

    def __init__(self, port: int = PG_PORT) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="tw-faults-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self.owner: str | None = None
        if os.geteuid() == 0:
            self.owner = os.environ.get("TOKENWATCH_DRILL_PG_USER", "postgres")
            entry = pwd.getpwnam(self.owner)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(argv)
        if self.owner:
            cmd = ["runuser", "-u", self.owner, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def init(self) -> Postgres:
        if not port_is_free(self.port):
            raise ServerError(f"port {self.port} is taken (set TOKENWATCH_DRILL_PG_PORT to another one)")
        result = self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C", check=False)
        if result.returncode:
            raise ServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        with (self.data / "postgresql.conf").open("a") as conf:
            # Loopback only, sockets in our own dir, and no durability: a drill database is thrown away.
            conf.write(f"listen_addresses = '{LOOPBACK}'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.root}'\nfsync = off\nfull_page_writes = off\n"
                       "synchronous_commit = off\nmax_connections = 100\n")
        return self

    def start(self) -> None:
        result = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                           "start", check=False)
        if result.returncode:
            raise ServerError(f"pg_ctl start failed:\n{result.stdout}{result.stderr}\n{self.log_text()}")

    def restart_fast(self) -> float:
        """pg_ctl restart -m fast: every session is terminated mid-statement. Returns how long it took."""
        start = time.monotonic()
        result = self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                           "-m", "fast", "restart", check=False)
        if result.returncode:
            raise ServerError(f"pg_ctl restart failed:\n{result.stdout}{result.stderr}\n{self.log_text()}")
        return time.monotonic() - start

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        return self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@{LOOPBACK}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(host=LOOPBACK, port=self.port, user="postgres", dbname=dbname, autocommit=True,
                               connect_timeout=5)

    def execute(self, sql: str, params: tuple = (), dbname: str = "postgres") -> list[tuple]:
        with self.connect(dbname) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def recreate(self, dbname: str, template: str | None = None) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.execute(f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else ""))


class Redis:
    """redis-server with no persistence: a restart loses every queued message, as a real one without AOF does."""

    def __init__(self, port: int = REDIS_PORT) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="tw-faults-redis-"))
        self.process: Process | None = None
        self.restarts = 0

    def start(self) -> Redis:
        if not port_is_free(self.port):
            raise ServerError(f"port {self.port} is taken (set TOKENWATCH_DRILL_REDIS_PORT to another one)")
        self.process = Process(
            f"redis-{self.restarts}",
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", LOOPBACK,
             "--save", "", "--appendonly", "no", "--dir", str(self.root)],
            env=dict(os.environ), cwd=self.root, log_dir=self.root,
        ).start()
        try:
            wait_until(self.ping, 20, f"redis on {self.port}")
        except TimeoutError as exc:
            raise ServerError(f"{exc}\n{self.process.log_text()}") from exc
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host=LOOPBACK, port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def queued(self) -> int:
        """Messages waiting in the default queue plus those delivered but not acknowledged."""
        import redis

        client = redis.Redis(host=LOOPBACK, port=self.port, socket_connect_timeout=1)
        return int(client.llen("celery")) + int(client.hlen("unacked"))

    def restart(self) -> float:
        """Stop (SIGKILL, nothing saved) and start again on the same port; returns how long it took."""
        start = time.monotonic()
        assert self.process is not None
        self.process.kill9()
        self.process.stop()
        wait_until(lambda: port_is_free(self.port), 10, f"redis port {self.port} to close")
        self.restarts += 1
        self.start()
        return time.monotonic() - start

    def url(self, db: int = 0) -> str:
        return f"redis://{LOOPBACK}:{self.port}/{db}"

    def destroy(self) -> None:
        if self.process is not None:
            self.process.stop()
        shutil.rmtree(self.root, ignore_errors=True)
