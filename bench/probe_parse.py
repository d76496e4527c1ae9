"""Probe parse bench (issue 15): tokenwatch's own Python per streamed chunk, without the network.

Replays a recorded response (the loopback server's bytes: headers, 64 one-token SSE chunks, usage, [DONE])
through apps.probes.load._Connection read by read, as the receive loop would: each read comes from a stand-in
socket whose ``recvmsg_into`` copies the next recorded read into the run's buffer and hands back a kernel
timestamp. Prints the best of 7 rounds: the cost of the read path (the stamp, httptools' parser), the bulk SSE
parse and the per-request sample; bench/probe.py measures the same code in a real run (with the system calls,
the wake-ups and the kernel).

    .venv/bin/python bench/probe_parse.py
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.probes import load

REQUESTS, ROUNDS = 500, 7


class _Replay:
    """A socket that returns recorded reads, each with the same kernel timestamp."""

    def __init__(self, reads: list[bytes]) -> None:
        self.reads, self.next = reads, 0
        self.ancillary = [(socket.SOL_SOCKET, load._SO_TIMESTAMPNS, struct.pack("@ll", 0, 0))]

    def recvmsg_into(self, buffers: list[bytearray], _ancillary_size: int) -> tuple[int, list, int, None]:
        data = self.reads[self.next]
        self.next = (self.next + 1) % len(self.reads)
        buffers[0][:len(data)] = data
        return len(data), self.ancillary, 0, None

    def send(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None: ...


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
    reads = [head, *chunks, usage, done]
    run = load._Run(request=b"", api_key="", addresses=[], refusal="", host="", ssl_context=None,
                    requests=REQUESTS * ROUNDS, limits=load.Limits())
    run.deadline_ns = run.woke_ns = 2**62
    run.offset_ns = -time.perf_counter_ns() - 10**12  # every stamp lands after the request was sent
    connection = load._Connection(run)
    connection.sock = _Replay(reads)  # type: ignore[assignment]
    connection.state = load._OPEN
    connection.parser = load.httptools.HttpResponseParser(connection)
    best = float("inf")
    for _round in range(ROUNDS):
        run.samples.clear()
        started = time.perf_counter()
        for _request in range(REQUESTS):
            connection.next_request()
            for _read in reads:
                connection.ready(load._READ)
            run.ready.clear()
        best = min(best, (time.perf_counter() - started) / REQUESTS)
    replay, buffers, stand_in = connection.sock, run.buffers, float("inf")
    for _round in range(ROUNDS):
        started = time.perf_counter()
        for _request in range(REQUESTS):
            for _read in reads:
                replay.recvmsg_into(buffers, 0)  # type: ignore[union-attr]
        stand_in = min(stand_in, (time.perf_counter() - started) / REQUESTS)
    sample = run.samples[0]
    assert not sample.error and sample.output_tokens == 64 and len(sample.inter_token_ms) == 63, sample
    run.poller.close()
    print(f"{best * 1e6:.0f} us per request, {best / len(reads) * 1e6:.2f} us per read ({len(reads)} reads: headers, "
          f"64 tokens, usage, [DONE]); best of {ROUNDS} x {REQUESTS} requests; of which the stand-in socket "
          f"{stand_in * 1e6:.0f} us")


if __name__ == "__main__":
    main()
