"""Throttles across processes (issue 12, finding 4): with the counters in each process, two gunicorn
servers of two workers each let 4x the configured rate through. Here they share the test database
(the embedded default: a cache table in it) or a throw-away Redis (CACHE_URL), and the combined
allowed count must equal the rate, under concurrent requests spread over both servers.

Real processes on 127.0.0.1 only: gunicorn servers and a redis-server started by the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.conftest import need

REPO = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.django_db(transaction=True)

# Per hour, so that a test never straddles two windows (see fresh_window).
API_ANON, API_USER, PAGE_ANON = 10, 8, 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database the servers must share with this process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "CACHE_URL"}
    env.update({
        "DJANGO_SETTINGS_MODULE": "tokenwatch.settings.base", "DATABASE_URL": database_url(), "DEBUG": "0",
        "TOKENWATCH_PUBLIC_API": "1", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
        "TOKENWATCH_API_THROTTLE_ANON": f"{API_ANON}/hour", "TOKENWATCH_API_THROTTLE_USER": f"{API_USER}/hour",
        "TOKENWATCH_PAGE_THROTTLE_ANON": f"{PAGE_ANON}/hour",
    })
    env.update(extra)
    return env


@contextmanager
def servers(env: dict[str, str], *, count: int = 2, workers: int = 2) -> Iterator[list[str]]:
    """``count`` gunicorn servers of ``workers`` processes each, on loopback ports of their own."""
    ports = [free_port() for _ in range(count)]
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "tokenwatch.wsgi:application",
                               "-b", f"127.0.0.1:{port}", "-w", str(workers), "--log-level", "warning"],
                              cwd=REPO, env=env)
             for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, proc in zip(bases, procs, strict=True):
            for _ in range(150):
                if proc.poll() is not None:
                    raise AssertionError(f"gunicorn exited with {proc.returncode}")
                try:
                    # Not a throttled URL: the count starts with the test's own requests.
                    httpx.get(f"{base}/static/tokenwatch/app.css", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise AssertionError("gunicorn did not come up")
        yield bases
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


@pytest.fixture
def redis_cache_url() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (never the shared one)."""
    binary = shutil.which("redis-server")
    if binary is None:
        need("needs redis-server (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def fresh_window(client_key: str, period: int = 3600, margin: int = 30) -> None:
    """Wait if the client's fixed window (django-ratelimit: aligned to the period plus a jitter of
    crc32(key) % period) ends within ``margin`` seconds, so every request of the test falls in one window."""
    now = int(time.time())
    end = now - now % period + zlib.crc32(client_key.encode()) % period
    if end < now:
        end += period
    if end - now < margin:
        time.sleep(end - now + 1)


def hammer(bases: list[str], path: str, requests: int, headers: dict[str, str] | None = None) -> Counter[int]:
    """``requests`` GETs of ``path``, 8 at a time, alternating between the servers; status code counts."""
    def get(n: int) -> int:
        return httpx.get(bases[n % len(bases)] + path, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        return Counter(pool.map(get, range(requests)))


def assert_combined_rates(bases: list[str], token: str) -> None:
    fresh_window("127.0.0.1")
    assert hammer(bases, "/api/v1/", 4 * API_ANON) == {200: API_ANON, 429: 3 * API_ANON}
    assert hammer(bases, "/", 4 * PAGE_ANON) == {200: PAGE_ANON, 429: 3 * PAGE_ANON}
    assert hammer(bases, "/api/v1/", 4 * API_USER, {"Authorization": f"Token {token}"}) == {
        200: API_USER, 429: 3 * API_USER}


@pytest.fixture
def token(django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user("bi-tool", password="pw-bi-tool-1")
    fresh_window(str(user.pk))
    return Token.objects.create(user=user).key


def test_it_holds_the_combined_rate_across_processes_with_the_database_cache(token):
    with servers(server_env()) as bases:
        assert_combined_rates(bases, token)


def test_it_holds_the_combined_rate_across_processes_with_redis(token, redis_cache_url):
    with servers(server_env(CACHE_URL=redis_cache_url)) as bases:
        assert_combined_rates(bases, token)


def test_it_loses_no_increment_between_processes_in_the_database_cache():
    """Four processes incr one key 150 times each at once: Django's DatabaseCache.incr (get, then set)
    loses counts here (165 of 600 left on PostgreSQL, 304 on SQLite); the throttles' AtomicDatabaseCache
    must end at exactly 600."""
    from apps.api_common.cache import AtomicDatabaseCache

    start_at = time.time() + 4  # every process past Django's start-up before the first incr
    script = (
        "import time\n"
        "from django.core.cache import caches\n"
        "cache = caches['throttle']\n"
        "cache.add('race', 0, 600)\n"
        f"time.sleep(max(0, {start_at} - time.time()))\n"
        "for _ in range(150):\n"
        "    cache.incr('race')\n"
    )
    procs = [subprocess.Popen([sys.executable, "manage.py", "shell", "-c", script], cwd=REPO, env=server_env())
             for _ in range(4)]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0, 0, 0]
    # The servers' cache table (server_env has no CACHE_URL), whatever this process's settings say.
    assert AtomicDatabaseCache("tokenwatch_cache", {}).get("race") == 600
