"""Loopback "providers" for probe tests: real streaming servers (tests/probes/server.py) in their own processes.

``loopback`` is one server on the default clock (first token at 200 ms, then every 20 ms, 64 tokens),
reset before each test. ``two_providers`` is two servers with different speeds, each a catalog provider
serving one canonical model through a ProbeTarget: the fixture the probe and the routing-advice
end-to-end tests share. Ports come from 8871-8879 (this work's loopback range).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import REPO

PORTS = range(8871, 8880)
API_KEY_ENV = "TW_TEST_PROBE_KEY"
API_KEY = "sk-loopback-SECRET-7f3a9c1e5b"  # a marker string searched for in the database, logs and exports


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@dataclass
class LoopbackServer:
    process: subprocess.Popen
    port: int
    cafile: str | None = None  # served over HTTPS with this self-signed certificate

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        scheme = "https" if self.cafile else "http"
        request = urllib.request.Request(f"{scheme}://127.0.0.1:{self.port}{path}", data=data,  # noqa: S310
                                         headers={"Content-Type": "application/json"})
        context = None
        if self.cafile:  # not create_default_context: a TLS test patches that very function
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(cafile=self.cafile)
        with urllib.request.urlopen(request, timeout=5, context=context) as response:  # noqa: S310 - our loopback
            return json.loads(response.read())

    def control(self, **config: Any) -> dict[str, Any]:
        """Set the clock and failures (unnamed settings go back to their defaults) and reset the counters."""
        return self._call("/_control", config)

    def stats(self) -> dict[str, Any]:
        return self._call("/_stats")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_server(*, ttft_ms: float = 200, itl_ms: float = 20, tokens: int = 64,
                 tls: tuple[str, str] | None = None) -> LoopbackServer:
    """A loopback server process; ``tls`` = (certificate, key) PEM paths serves HTTPS."""
    for _attempt in range(5):
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.probes.server", "--port", str(port), "--ttft-ms", str(ttft_ms),
             "--itl-ms", str(itl_ms), "--tokens", str(tokens),
             *(["--tls-cert", tls[0], "--tls-key", tls[1]] if tls else [])],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        line = process.stdout.readline() if process.stdout else ""
        if line.startswith("ready"):
            return LoopbackServer(process=process, port=port, cafile=tls[0] if tls else None)
        process.kill()  # the port was taken between the check and the bind: try the next
        time.sleep(0.1)
    raise RuntimeError("the loopback server did not start")


@pytest.fixture(scope="session")
def loopback_session() -> Iterator[LoopbackServer]:
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def loopback(loopback_session: LoopbackServer, settings) -> LoopbackServer:
    """The default-clock server, reset; probes may reach 127.0.0.1 (the allow-list)."""
    settings.TOKENWATCH_PROBE_ALLOWED_HOSTS = ["127.0.0.1"]
    loopback_session.control()
    return loopback_session


@pytest.fixture
def api_key(monkeypatch) -> str:
    monkeypatch.setenv(API_KEY_ENV, API_KEY)
    return API_KEY


def make_target(*, name: str, url: str, provider_slug: str, model_slug: str = "llama-3-70b-instruct",
                **workload: int):
    from apps.catalog.models import Model, Provider
    from apps.probes.models import ProbeTarget

    provider, _ = Provider.objects.get_or_create(slug=provider_slug, defaults={
        "name": provider_slug.title(), "kind": Provider.Kind.INFERENCE_CLOUD})
    model, _ = Model.objects.get_or_create(slug=model_slug, defaults={"name": model_slug, "family": "llama"})
    return ProbeTarget.objects.create(name=name, base_url=url, provider=provider, model=model,
                                      api_model_id=f"{provider_slug}/{model_slug}", api_key_env=API_KEY_ENV,
                                      **{"requests": 8, "concurrency": 4, "input_tokens": 100, "output_tokens": 64,
                                         **workload})


@dataclass
class TwoProviders:
    fast: Any  # ProbeTarget
    slow: Any
    fast_server: LoopbackServer
    slow_server: LoopbackServer


# Different speeds: "fast" answers its first token after 100 ms and then every 10 ms; "slow" after 400 ms
# and then every 30 ms. Both 32 tokens, so a run of 8 requests at concurrency 4 takes a second or two.
FAST = {"ttft_ms": 100, "itl_ms": 10, "tokens": 32}
SLOW = {"ttft_ms": 400, "itl_ms": 30, "tokens": 32}


@pytest.fixture(scope="session")
def provider_servers() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    fast, slow = start_server(**FAST), start_server(**SLOW)
    yield fast, slow
    fast.stop()
    slow.stop()


@pytest.fixture
def two_providers(provider_servers, settings, api_key) -> TwoProviders:
    """Two loopback "providers" (catalog providers fast-cloud and slow-cloud) serving llama-3-70b-instruct,
    each behind a ProbeTarget that reads its key from TW_TEST_PROBE_KEY. Needs the database."""
    settings.TOKENWATCH_PROBE_ALLOWED_HOSTS = ["127.0.0.1"]
    fast_server, slow_server = provider_servers
    fast_server.control(**FAST, api_key=API_KEY)
    slow_server.control(**SLOW, api_key=API_KEY)
    fast = make_target(name="fast-cloud-llama", url=fast_server.url, provider_slug="fast-cloud", output_tokens=32)
    slow = make_target(name="slow-cloud-llama", url=slow_server.url, provider_slug="slow-cloud", output_tokens=32)
    return TwoProviders(fast=fast, slow=slow, fast_server=fast_server, slow_server=slow_server)
