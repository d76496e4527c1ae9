"""A real OpenAI-compatible streaming server for the probe tests and bench (loopback only).

``POST /v1/chat/completions`` with ``"stream": true`` answers server-sent events on a controlled
clock: the first content chunk ``ttft_ms`` after the request arrived, then one every ``itl_ms``,
``tokens`` chunks of one token each (one short word), then a usage chunk and ``[DONE]``. Chunk k
is written at arrival + ttft + k*itl (absolute times, so sleeps do not drift).

Failures are chosen by arrival order (request numbers 1, 2, …), so their counts are exact:
``fail_429_every`` = k answers every k-th request 429; ``cut_every`` closes every k-th stream
after ``cut_after`` tokens without ending it; ``stall_every`` stops sending after ``stall_after``
tokens for ``stall_s`` seconds. ``usage: false`` leaves the usage chunk out; ``api_key`` set
means requests without ``Authorization: Bearer <api_key>`` get 401. ``framing: "close"`` sends the
body with neither a length nor chunks: it ends when the server closes the connection (HTTP/1.1 allows it).

``POST /_control`` with a JSON object changes the settings and resets the counters;
``GET /_stats`` returns the counters, and ``sent``: for each stream that sent every token, when each token
chunk was written (``time.perf_counter_ns()``, the monotonic clock every process on the machine shares), so
a test can hold the probe to what was really sent, however late a busy machine sent it.
Run as a process (its own CPU, its own GIL):

    python -m tests.probes.server --port 8871 [--ttft-ms 200 --itl-ms 20 --tokens 64] [--tls-cert C --tls-key K]

It prints ``ready <port>`` once it listens.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ttft_ms": 200.0, "itl_ms": 20.0, "tokens": 64, "fail_429_every": 0, "cut_every": 0, "cut_after": 10,
    "stall_every": 0, "stall_after": 5, "stall_s": 30.0, "usage": True, "api_key": "", "framing": "chunked",
}


class State:
    def __init__(self, config: dict[str, Any]) -> None:
        self.lock = threading.Lock()
        self.config = dict(config)
        self.wake = threading.Event()  # set on reset: stalled handlers give up at once
        self.reset()

    def reset(self) -> None:
        self.wake.set()
        self.wake = threading.Event()
        self.stats = {"requests": 0, "auth_ok": 0, "in_flight": 0, "max_in_flight": 0, "last_body": {}, "sent": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # every chunk leaves at once: the clock is the test's truth
    server: Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read /_stats, not a log."""

    def _json(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else {}

    def do_GET(self) -> None:
        if self.path == "/_stats":
            with self.server.state.lock:
                self._json(200, {k: v for k, v in self.server.state.stats.items() if k != "last_body"}
                           | {"last_body": self.server.state.stats["last_body"]})
            return
        self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        state = self.server.state
        if self.path == "/_control":
            changes = self._body()
            with state.lock:
                state.config = {**DEFAULTS, **changes}
                state.reset()
            self._json(200, state.config)
            return
        if not self.path.endswith("/v1/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        arrived = time.perf_counter()
        body = self._body()
        with state.lock:
            config = state.config
            state.stats["requests"] += 1
            number = state.stats["requests"]
            wake = state.wake
            authorised = not config["api_key"] or self.headers.get("Authorization") == f"Bearer {config['api_key']}"
            state.stats["auth_ok"] += authorised and bool(config["api_key"])
            state.stats["last_body"] = {k: v for k, v in body.items() if k != "messages"}
        if not authorised:
            self._json(401, {"error": {"message": "invalid api key"}})
            return
        if config["fail_429_every"] and number % config["fail_429_every"] == 0:
            self._json(429, {"error": {"message": "rate limited"}})
            return
        cut = bool(config["cut_every"]) and number % config["cut_every"] == 0
        stall = bool(config["stall_every"]) and number % config["stall_every"] == 0
        with state.lock:
            state.stats["in_flight"] += 1
            state.stats["max_in_flight"] = max(state.stats["max_in_flight"], state.stats["in_flight"])
        try:
            self._stream(config, body, arrived, cut=cut, stall=stall, wake=wake)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a test's timeout): nothing to tell
        finally:
            with state.lock:
                state.stats["in_flight"] -= 1

    def _chunk(self, payload: bytes) -> None:
        if self.close_delimited:
            self.wfile.write(payload)
        else:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def _stream(self, config: dict[str, Any], body: dict[str, Any], arrived: float, *, cut: bool, stall: bool,
                wake: threading.Event) -> None:
        self.close_delimited = config["framing"] == "close"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if self.close_delimited:
            self.close_connection = True
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()
        tokens = min(int(config["tokens"]), int(body.get("max_tokens") or config["tokens"]))
        model = str(body.get("model", "loopback"))
        written: list[int] = []
        for k in range(tokens):
            if cut and k == config["cut_after"]:
                # Close without the terminating chunk: the client sees a truncated body.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if stall and k == config["stall_after"]:
                wake.wait(config["stall_s"])
                self.close_connection = True
                return
            due = arrived + (config["ttft_ms"] + k * config["itl_ms"]) / 1000
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            event = {"id": "cmpl-loopback", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": {"content": f"tok{k} "}, "finish_reason": None}]}
            self._chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            written.append(time.perf_counter_ns())
        if written:
            with self.server.state.lock:
                self.server.state.stats["sent"].append(written)
        finish = {"id": "cmpl-loopback", "object": "chat.completion.chunk", "model": model,
                  "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
        self._chunk(b"data: " + json.dumps(finish).encode() + b"\n\n")
        if config["usage"]:
            usage = {"id": "cmpl-loopback", "object": "chat.completion.chunk", "model": model, "choices": [],
                     "usage": {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": tokens + 10}}
            self._chunk(b"data: " + json.dumps(usage).encode() + b"\n\n")
        self._chunk(b"data: [DONE]\n\n")
        if not self.close_delimited:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], config: dict[str, Any]) -> None:
        super().__init__(address, Handler)
        self.state = State(config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ttft-ms", type=float, default=DEFAULTS["ttft_ms"])
    parser.add_argument("--itl-ms", type=float, default=DEFAULTS["itl_ms"])
    parser.add_argument("--tokens", type=int, default=DEFAULTS["tokens"])
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM) ...")
    parser.add_argument("--tls-key", help="... and this key (PEM)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("loopback only")
    config = {**DEFAULTS, "ttft_ms": args.ttft_ms, "itl_ms": args.itl_ms, "tokens": args.tokens}
    server = Server((args.host, args.port), config)
    if args.tls_cert:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
