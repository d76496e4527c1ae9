"""Test helpers for DNS rebinding: a resolver that changes its answer, and a record of every connect.

A hostile DNS server with a zero TTL can answer a public address to the SSRF check and 127.0.0.1 to the
connection that follows. ``rebinding_dns`` plays that server through ``socket.getaddrinfo`` (no real DNS);
``connects`` records every ``socket.connect`` and refuses any address that is not loopback, so a test that
goes wrong still sends nothing off the machine.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


def rebinding_dns(monkeypatch: pytest.MonkeyPatch, name: str, answers: list[str]) -> list[str]:
    """Make ``name`` resolve to answers[0] on the first lookup, answers[1] on the second, ... and the last answer
    from then on. Other hosts go to the ``socket.getaddrinfo`` in place before (IP literals need no DNS).
    Returns the answers given, one per lookup of ``name``."""
    before = socket.getaddrinfo
    given: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        text = host.decode() if isinstance(host, bytes) else str(host)
        if text != name:
            return before(host, port, *args, **kwargs)
        ip = answers[min(len(given), len(answers) - 1)]
        given.append(ip)
        if ":" in ip:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return given


def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record the (address, port) of every socket.connect; a connect to anything but loopback fails the test
    before it leaves the machine."""
    real = socket.socket.connect
    seen: list[tuple[str, int]] = []

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            seen.append((address[0], address[1]))
            assert ipaddress.ip_address(address[0]).is_loopback, f"a test tried to connect to {address!r}"
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen
