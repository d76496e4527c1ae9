"""Probe bench floor (issue 15): the CPU a bare asyncio Protocol spends on the same load as bench/probe.py.

200 requests at concurrency 32 against the loopback server (64 chunks each), no HTTP parsing, no timing,
no timeouts: only connect, write the request, count reads. What any asyncio client pays here (event loop
and kernel), so bench/probe.py's figure minus this one is the HTTP client's and tokenwatch's own share.
On uvloop by default, the loop the probe runs on (``--loop asyncio`` for asyncio's own).

    .venv/bin/python bench/probe_floor.py [--port 8894 --loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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


async def _load(port: int) -> None:
    body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "x" * 2200}],
                       "max_tokens": 64, "stream": True}).encode()
    request = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
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
    user, kernel = (after.user - before.user) / REQUESTS * 1000, (after.system - before.system) / REQUESTS * 1000
    print(f"bare asyncio Protocol: {cpu / REQUESTS * 1000:.2f} ms CPU per request (user {user:.2f} + kernel "
          f"{kernel:.2f}),"
          f" {sum(reads) / REQUESTS:.1f} reads per request on {type(loop).__module__.split('.')[0]}; "
          f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8894)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "tests.probes.server", "--port", str(args.port)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("ready"):
            sys.exit(f"the loopback server did not start on port {args.port}: {line!r}")
        if args.loop == "uvloop":
            import uvloop

            uvloop.run(_load(args.port))
        else:
            asyncio.run(_load(args.port))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
