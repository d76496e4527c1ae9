"""Probe parse bench (issue 15): tokenwatch's own Python per streamed chunk, without the network.

Feeds a recorded response (the loopback server's bytes: headers, 64 one-token SSE chunks, [DONE]) to
apps.probes.load._Connection read by read, as the event loop would, and prints the best of 7 rounds:
the cost of httptools' parser, our callbacks, the SSE parse and the per-request sample. bench/probe.py
measures the same code in a real run (with the event loop and the kernel).

    .venv/bin/python bench/probe_parse.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.probes import load

REQUESTS, ROUNDS = 500, 7


class _NullTransport:
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def main() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = [_chunk(b"data: " + json.dumps({
        "id": "cmpl-loopback", "object": "chat.completion.chunk", "model": "bench",
        "choices": [{"index": 0, "delta": {"content": f"tok{k} "}, "finish_reason": None}]}).encode() + b"\n\n")
        for k in range(64)]
    usage = _chunk(b'data: {"choices": [], "usage": {"completion_tokens": 64}}\n\n')
    done = _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
    loop = asyncio.new_event_loop()
    context = load._RunContext(request=b"", api_key="", run_start_ns=0, read_timeout_s=30.0, samples=[])
    connection = load._Connection(context, loop)
    connection.connection_made(_NullTransport())  # type: ignore[arg-type]
    best = float("inf")
    for _round in range(ROUNDS):
        context.samples.clear()
        started = time.perf_counter()
        for index in range(REQUESTS):
            connection.send(index, 0)
            connection.data_received(head)
            for chunk in chunks:
                connection.data_received(chunk)
            connection.data_received(usage)
            connection.data_received(done)
        best = min(best, (time.perf_counter() - started) / REQUESTS)
    sample = context.samples[0]
    assert not sample.error and sample.output_tokens == 64 and len(sample.inter_token_ms) == 63, sample
    loop.close()
    print(f"{best * 1e6:.0f} us per request, {best / 67 * 1e6:.2f} us per read (67 reads: headers, 64 tokens, "
          f"usage, [DONE]); best of {ROUNDS} x {REQUESTS} requests")


if __name__ == "__main__":
    main()
