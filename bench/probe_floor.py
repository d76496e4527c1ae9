"""Probe bench floor (issue 15): the CPU a bare client spends on the same load as bench/probe.py.

200 requests at concurrency 32 against the loopback server (64 chunks each), no HTTP parsing, no timeouts:
only connect, write the request, count reads. ``--loop tick`` (the default) is the probe's design bare: epoll,
every ready socket read at once with its kernel receive timestamp (recvmsg, SO_TIMESTAMPNS), then the rest of
a 5 ms tick slept out; ``--loop uvloop`` / ``asyncio`` is an asyncio Protocol woken for every chunk (the
probe's design before). bench/probe.py's figure minus the tick floor is tokenwatch's own share.

    .venv/bin/python bench/probe_floor.py [--port 8894 --loop tick|uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REQUESTS, CONCURRENCY = 200, 32


class _Counting(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[int]) -> None:
        self.done, self.reads = done, 0

    def data_received(self, data: bytes) -> None:
        self.reads += 1
        if data.endswith(b"0\r\n\r\n"):  # the chunked body's end
            self.done.set_result(self.reads)


def _request() -> bytes:
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "x" * 2200}],
                       "max_tokens": 64, "stream": True}).encode()
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def _report(what: str, cpu: float, before: os.times_result, after: os.times_result, reads: float, extra: str) -> None:
    user, kernel = (after.user - before.user) / REQUESTS * 1000, (after.system - before.system) / REQUESTS * 1000
    print(f"{what}: {cpu / REQUESTS * 1000:.2f} ms CPU per request (user {user:.2f} + kernel {kernel:.2f}), "
          f"{reads:.1f} reads{extra} per request; load average {os.getloadavg()[0]:.2f}")


def _tick(port: int, tick_s: float = 0.005) -> None:
    """The probe's receive loop, bare: no HTTP parse, the kernel's stamp read and thrown away."""
    request = _request()
    poller = select.epoll()
    sockets: dict[int, socket.socket] = {}
    buffers = [bytearray(65536)]
    ancillary_size = socket.CMSG_SPACE(16)
    counter = iter(range(REQUESTS))
    reads = wakeups = done = 0
    before, cpu = os.times(), time.process_time()
    for _ in range(CONCURRENCY):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
        sock.setblocking(False)
        sockets[sock.fileno()] = sock
        poller.register(sock.fileno(), select.EPOLLIN)
        if next(counter, None) is not None:
            sock.send(request)
    while done < REQUESTS:
        events = poller.poll(1.0)
        woke = time.perf_counter()
        wakeups += 1
        for fd, _mask in events:
            sock = sockets[fd]
            size, _ancillary, _flags, _address = sock.recvmsg_into(buffers, ancillary_size)
            reads += 1
            if buffers[0][size - 5:size] == b"0\r\n\r\n":  # the chunked body's end
                done += 1
                if next(counter, None) is not None:
                    sock.send(request)
        rest = tick_s - (time.perf_counter() - woke)
        if events and rest > 0:
            time.sleep(rest)
    cpu, after = time.process_time() - cpu, os.times()
    for sock in sockets.values():
        sock.close()
    poller.close()
    _report(f"bare tick loop ({tick_s * 1000:g} ms, kernel stamps)", cpu, before, after, reads / REQUESTS,
            f" and {wakeups / REQUESTS:.1f} wake-ups")


async def _load(port: int) -> None:
    request = _request()
    loop = asyncio.get_running_loop()
    counter = iter(range(REQUESTS))
    reads: list[int] = []

    async def worker() -> None:
        transport = protocol = None
        for _ in counter:
            done: asyncio.Future[int] = loop.create_future()
            if protocol is None:
                transport, protocol = await loop.create_connection(lambda d=done: _Counting(d), "127.0.0.1", port)
            protocol.done, protocol.reads = done, 0
            transport.write(request)
            reads.append(await done)
        if transport is not None:
            transport.close()

    before, cpu = os.times(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    cpu, after = time.process_time() - cpu, os.times()
    _report(f"bare asyncio Protocol on {type(loop).__module__.split('.')[0]}", cpu, before, after,
            sum(reads) / REQUESTS, "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8894)
    parser.add_argument("--loop", choices=("tick", "uvloop", "asyncio"), default="tick")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "tests.probes.server", "--port", str(args.port)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("ready"):
            sys.exit(f"the loopback server did not start on port {args.port}: {line!r}")
        if args.loop == "tick":
            _tick(args.port)
        elif args.loop == "uvloop":
            import uvloop  # not a requirement any more: pip install uvloop to compare

            uvloop.run(_load(args.port))
        else:
            asyncio.run(_load(args.port))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
