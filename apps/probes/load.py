"""The load generator: N streamed chat completions at concurrency C, timed per request (LLMPerf-style).

C workers take request numbers from a shared counter until N are sent or the run's wall-time limit passes.
Each worker holds one HTTP/1.1 keep-alive connection and sends its requests on it one after another.

Why an asyncio Protocol of our own and not an HTTP client library: the probe's job is to time tokens, and at
concurrency 32 a general client's per-chunk machinery (a stream reader, a coroutine wake-up and a timer reset
per chunk) was most of tokenwatch's CPU: httpx ~12 ms of CPU per 64-token request, aiohttp ~5-9 ms. Here a
streamed chunk costs one ``time.perf_counter_ns`` call, httptools' C parser (llhttp, the parser aiohttp and
uvicorn use) and one ``orjson.loads`` of the event: the worker's coroutine wakes once per request, not once
per chunk, and the read timeout is one timer per request that re-arms itself instead of a timer reset per
chunk. uvloop, when installed, runs the event loop in C (bench/README.md, "Probes (issue 15)").

Timing: every read is stamped once; each content event in it gets that stamp (events that arrived in one read
reached us together: a gap of 0 between them). TTFT = first content stamp - request sent (a new connection's
connect is part of it, as for any client); inter-token gaps = consecutive stamps; end-to-end = the read that
completed the response - request sent. The figures are made from the stamps once, when the request ends.

Nothing here can hang: a per-request watchdog fails a request after ``read_timeout_s`` of silence (before the
headers: ``timeout``; mid-stream: ``stalled``), connects are bounded by ``connect_timeout_s``, and the whole run
by ``max_wall_s`` (requests still in flight then are cut and recorded as ``wall_limit``).

The SSRF guard: the caller checks the URL first (apps.probes.services.probe_url_check); here the host is
resolved once per run, the fetch layer's guard runs on those addresses (unless the allow-list allowed the
host) and every connection goes to them, so the address checked is the address connected to. No proxies
from the environment, no redirects (a 3xx is an error), no compression (``Accept-Encoding: identity``).

The API key goes into the Authorization header and nowhere else: error details are built from our own
words and the exception's type, and any text that might echo a header is redacted.

This module knows nothing of the database; ``apps.probes.services`` stores what it returns.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

import httptools
from orjson import JSONDecodeError, loads

from scrapers.http import FetchError, guard_url
from scrapers.probe import CUT_AT_WALL_LIMIT, Sample

try:
    import uvloop
except ImportError:  # Linux and macOS only; asyncio's own loop works too, at about twice the CPU per chunk
    uvloop = None

# Token counts without a tokenizer: ~4 characters of English per token (OpenAI's rule of thumb for
# their BPE tokenizers). Used for the prompt's length and, when a response carries no usage, to
# count its output tokens from the text. Usage from the provider always wins when it is given.
CHARS_PER_TOKEN = 4
TOKEN_COUNT_METHOD = f"usage when given, else characters / {CHARS_PER_TOKEN}"

# Words of 3-7 letters: with the space, ~4-8 characters, so the prompt's text is ordinary English-like
# prose whose token count the 4-characters rule estimates well. Deterministic: no randomness.
_TEXT = ("the price of one token depends on which model runs where and how fast it streams to the "
         "user who waits for every word while the meter keeps running under load at peak hours")
_WORDS = tuple(_TEXT.split())


class LimitError(ValueError):
    """A workload beyond the configured hard limits; the message says which limit and how to change it."""


@dataclass(frozen=True)
class Workload:
    requests: int
    concurrency: int
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Limits:
    """Hard limits per run (settings TOKENWATCH_PROBE_*), so a misconfigured target cannot run up a bill."""

    max_requests: int = 1000
    max_concurrency: int = 64
    max_input_tokens: int = 32_000
    max_output_tokens: int = 4096
    max_total_tokens: int = 2_000_000  # (input + output) x requests, per run
    max_wall_s: float = 600.0
    read_timeout_s: float = 30.0  # silence allowed between two chunks (or before the first)
    connect_timeout_s: float = 10.0

    def check(self, workload: Workload) -> None:
        """Raise LimitError naming the first limit the workload exceeds (or a nonsensical value)."""
        for name, value in (("requests", workload.requests), ("concurrency", workload.concurrency),
                            ("input tokens", workload.input_tokens), ("output tokens", workload.output_tokens)):
            if value < 1:
                raise LimitError(f"{name} must be at least 1, got {value}")
        checks = (
            ("requests", workload.requests, self.max_requests, "TOKENWATCH_PROBE_MAX_REQUESTS"),
            ("concurrency", workload.concurrency, self.max_concurrency, "TOKENWATCH_PROBE_MAX_CONCURRENCY"),
            ("input tokens", workload.input_tokens, self.max_input_tokens, "TOKENWATCH_PROBE_MAX_INPUT_TOKENS"),
            ("output tokens", workload.output_tokens, self.max_output_tokens, "TOKENWATCH_PROBE_MAX_OUTPUT_TOKENS"),
            ("tokens per run ((input + output) x requests)",
             (workload.input_tokens + workload.output_tokens) * workload.requests, self.max_total_tokens,
             "TOKENWATCH_PROBE_MAX_TOTAL_TOKENS"),
        )
        for what, value, limit, setting in checks:
            if value > limit:
                raise LimitError(f"{what} {value:,} is over the limit of {limit:,} ({setting})")


@dataclass
class LoadResult:
    samples: list[Sample]
    started_at: datetime
    finished_at: datetime
    wall_s: float
    stopped_at_wall_limit: bool
    requests_not_sent: int
    cpu_s: float = 0.0  # this process's CPU time during the run (bench: tokenwatch's own overhead)
    cpu_user_s: float = 0.0  # of which in Python and libraries (user mode) ...
    cpu_system_s: float = 0.0  # ... and in the kernel (sockets, epoll) on our behalf
    max_in_flight: int = 0
    notes: list[str] = field(default_factory=list)


def prompt_text(input_tokens: int) -> str:
    """A deterministic prompt of about ``input_tokens`` tokens (CHARS_PER_TOKEN characters each)."""
    head = "Repeat the following text back, word for word, then keep writing in the same style. "
    target = max(input_tokens * CHARS_PER_TOKEN, len(head))
    words: list[str] = [head]
    size = len(head)
    i = 0
    while size < target:
        word = _WORDS[i % len(_WORDS)]
        words.append(word + " ")
        size += len(word) + 1
        i += 1
    return "".join(words)[:target]


def count_tokens(text: str) -> int:
    """Output tokens estimated from text when the response gives no usage (see CHARS_PER_TOKEN)."""
    return 0 if not text else max(1, round(len(text) / CHARS_PER_TOKEN))


def chat_completions_url(base_url: str) -> str:
    """``base_url`` may be the server root, ``…/v1`` or the full ``…/v1/chat/completions``."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def redact(text: str, secret: str) -> str:
    return text.replace(secret, "[redacted]") if secret else text



def _tokens_from_chars(chars: int) -> int:
    """count_tokens() from the text's length alone (what the stream keeps instead of the text)."""
    return 0 if not chars else max(1, round(chars / CHARS_PER_TOKEN))


class _Stream:
    """Parses one server-sent-events body incrementally: bytes in, one timestamp per content event kept."""

    __slots__ = ("buffer", "done", "stamps", "text_chars", "usage_tokens")

    def __init__(self) -> None:
        self.buffer = b""
        self.done = False
        self.usage_tokens: int | None = None
        self.stamps: list[int] = []  # perf_counter_ns of the read that carried each content event
        self.text_chars = 0

    def feed(self, data: bytes, stamp: int = 0) -> int:
        """Consume bytes read at ``stamp``; return how many events with content they completed."""
        # This runs once per streamed token, so the usual event takes the shortest path: one split per read
        # (not a find-and-slice per line), one orjson.loads, choices[0].delta.content read directly; anything
        # else (the usage chunk, [DONE], several choices, odd shapes) takes the general path below.
        if not self.buffer and data[-2:] == b"\n\n" and data.count(b"\n") == 2:
            lines: tuple[bytes, ...] | list[bytes] = (data[:-2],)  # one whole event, the usual read: no split
        else:
            lines = (self.buffer + data if self.buffer else data).split(b"\n")
            self.buffer = lines.pop()  # the unfinished last line, b"" when the read ended on a newline
        content_events = 0
        for line in lines:
            if line[:5] != b"data:":
                continue  # blank separators, comments (": keep-alive"), event:/id: fields
            try:
                event = loads(line[5:])  # JSON allows the surrounding spaces and a trailing \r
            except JSONDecodeError:
                if line[5:].strip() == b"[DONE]":
                    self.done = True
                continue  # a line we cannot read is no token; a broken stream shows as no [DONE]
            try:
                content = event["choices"][0]["delta"]["content"]
            except (KeyError, IndexError, TypeError):
                content = None
            if not (content and isinstance(content, str)):
                content = self._content(event)  # the general path reads the usage too
            elif "usage" in event:
                self._usage(event)
            if content:
                self.stamps.append(stamp)  # the same int object for every event of this read
                self.text_chars += len(content)
                content_events += 1
        return content_events

    def _usage(self, event: dict[str, Any]) -> None:
        usage = event.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.usage_tokens = usage["completion_tokens"]

    def _content(self, event: Any) -> str | None:
        """The general path: the first choice with text content, and the usage if the event carries it."""
        if not isinstance(event, dict):
            return None
        self._usage(event)
        for choice in event.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            content = delta.get("content") if isinstance(delta, dict) else None
            if content and isinstance(content, str):
                return content
        return None


@dataclass
class _RunContext:
    """What every connection of one run shares."""

    request: bytes  # the whole HTTP request: the same bytes for every request of the run
    api_key: str
    run_start_ns: int
    read_timeout_s: float
    samples: list[Sample]


def _failure(context: _RunContext, index: int, sent_ns: int, error: str, detail: str) -> None:
    """A request that ended before it had a connection (connect failed or refused, cut while connecting)."""
    context.samples.append(Sample(
        index=index, offset_ms=(sent_ns - context.run_start_ns) / 1e6, ttft_ms=None, e2e_ms=None,
        inter_token_ms=(), output_tokens=0, tokens_from_usage=False, error=error, http_status=None,
        detail=redact(detail, context.api_key)[:500]))


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time. httptools calls the on_* methods."""

    def __init__(self, context: _RunContext, loop: asyncio.AbstractEventLoop) -> None:
        self.context = context
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.active = False  # a request is in progress
        self.waiter: asyncio.Future[None] | None = None
        self.watchdog: asyncio.TimerHandle | None = None
        self._begin(-1, 0)

    def _begin(self, index: int, sent_ns: int) -> None:
        self.index = index
        self.sent_ns = self.last_read_ns = sent_ns
        self.status: int | None = None
        self.reason = b""
        self.length_known = False  # Content-Length or Transfer-Encoding: else the body ends when the server closes
        self.stream = _Stream()

    # --- the worker's side ---
    def send(self, index: int, sent_ns: int) -> asyncio.Future[None]:
        """Send the run's request; the future is done when the request's sample is recorded."""
        self._begin(index, sent_ns)
        self.active = True
        self.waiter = self.loop.create_future()
        self.watchdog = self.loop.call_later(self.context.read_timeout_s, self._watch)
        assert self.transport is not None
        self.transport.write(self.context.request)
        return self.waiter

    def cut(self, error: str, detail: str) -> None:
        """End the request in progress from outside (the run's wall limit) and drop the connection."""
        self._finish(error, detail)
        self.close(abort=True)

    def close(self, *, abort: bool = False) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort() if abort else self.transport.close()

    # --- asyncio's side ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last_read_ns = time.perf_counter_ns()  # the one timestamp of this read
        if not self.active:
            self.close()  # bytes nobody asked for: the connection's state is unknown, do not reuse it
            return
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._finish("broken_stream", f"the response is malformed ({type(exc).__name__})")
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost decides what the end means

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.active:
            return
        if self.status == 200 and not self.length_known:
            self._end_of_body()  # a body without a length ends when the server closes: that is its end
        elif self.status is None:
            self._finish("broken_stream", "the connection closed before the response "
                                          f"({type(exc).__name__ if exc else 'closed by the server'})")
        else:
            self._finish("broken_stream", "the connection broke mid-stream "
                                          f"({type(exc).__name__ if exc else 'closed by the server'})")

    # --- httptools' side ---
    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.length_known = True

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200:
            return  # 1xx (103 Early Hints…): the real response follows
        self.status = status
        if status != 200:
            reason = self.reason.decode("latin-1").strip()
            self._finish(f"http_{status}", f"HTTP {status} {reason}".strip())
            self.close()  # its body is of no interest; a fresh connection is cheaper than reading it

    def on_body(self, body: bytes) -> None:
        if self.active:
            self.stream.feed(body, self.last_read_ns)

    def on_message_complete(self) -> None:
        if self.status is None:
            return  # the end of a 1xx
        keep_alive = self.parser.should_keep_alive()
        if self.active:
            self._end_of_body()
        if not keep_alive:
            self.close()

    # --- the request's end ---
    def _end_of_body(self) -> None:
        if not self.stream.done:
            self._finish("broken_stream", "the stream ended without its [DONE] event")
        elif not self.stream.stamps:
            self._finish("empty_response", "the stream carried no content")
        else:
            self._finish("", "", end_ns=self.last_read_ns)

    def _watch(self) -> None:
        """The read timeout: one timer per request, re-armed only when data came since it was set."""
        self.watchdog = None
        if not self.active:
            return
        remaining_s = self.context.read_timeout_s - (time.perf_counter_ns() - self.last_read_ns) / 1e9
        if remaining_s > 0.001:
            self.watchdog = self.loop.call_later(remaining_s, self._watch)
            return
        if self.status is None:
            self._finish("timeout", "no response headers within the read timeout")
        else:
            self._finish("stalled", "the stream stalled: no data within the read timeout")
        self.close(abort=True)

    def _finish(self, error: str, detail: str, *, end_ns: int = 0) -> None:
        """Record the request's sample (once) and wake its worker."""
        if not self.active:
            return
        self.active = False
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        stream, sent = self.stream, self.sent_ns
        stamps = stream.stamps
        if stream.usage_tokens is not None:
            tokens, from_usage = stream.usage_tokens, True
        else:
            tokens, from_usage = _tokens_from_chars(stream.text_chars), False
        self.context.samples.append(Sample(
            index=self.index, offset_ms=(sent - self.context.run_start_ns) / 1e6,
            ttft_ms=(stamps[0] - sent) / 1e6 if stamps else None,
            e2e_ms=(end_ns - sent) / 1e6 if not error else None,
            inter_token_ms=tuple([(b - a) / 1e6 for a, b in pairwise(stamps)]),
            output_tokens=tokens, tokens_from_usage=from_usage, error=error, http_status=self.status,
            detail=redact(detail, self.context.api_key)[:500] if detail else "",
        ))
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _request_bytes(parts: SplitResult, *, body: bytes, api_key: str) -> bytes:
    """The run's HTTP/1.1 request, built once."""
    if any(char in api_key for char in "\r\n\0"):
        raise ValueError("the API key contains a line break or NUL; check the environment variable")
    host = (parts.hostname or "").encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    if parts.port and parts.port != default_port:
        host = f"{host}:{parts.port}"
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~") + (f"?{parts.query}" if parts.query else "")
    headers = [f"POST {target} HTTP/1.1", f"Host: {host}", "User-Agent: tokenwatch-probe",
               "Content-Type: application/json", "Accept: text/event-stream",
               # identity: a compressed event stream would be held back by the decompressor, shifting the timings
               "Accept-Encoding: identity", f"Content-Length: {len(body)}"]
    if api_key:
        headers.append(f"Authorization: Bearer {api_key}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


async def _resolve(host: str, port: int, *, allow_private: bool) -> tuple[list[tuple[Any, ...]], str]:
    """The host's addresses, looked up once for the whole run, and our refusal ("" when they may be used)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.run_in_executor(None, socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    except OSError as exc:
        return [], f"connection failed ({type(exc).__name__})"
    addresses = [(family, sockaddr) for family, _type, _proto, _name, sockaddr in infos]
    if not allow_private:
        for family, sockaddr in addresses:
            literal = f"[{sockaddr[0]}]" if family == socket.AF_INET6 else sockaddr[0]
            try:
                guard_url(f"http://{literal}/")
            except FetchError as exc:
                return [], f"refused: {host} resolves to a non-public address ({exc.message})"
    return addresses, ""


async def _connect(factory: Callable[[], _Connection], addresses: list[tuple[Any, ...]], *, host: str,
                   ssl_context: ssl.SSLContext | None, timeout_s: float) -> _Connection:
    """A connection to the first of the run's pinned addresses that answers (no second lookup)."""
    loop = asyncio.get_running_loop()
    error: BaseException = OSError("no address")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await asyncio.wait_for(loop.sock_connect(sock, sockaddr), timeout_s)
            _transport, connection = await loop.create_connection(
                factory, sock=sock, ssl=ssl_context, server_hostname=host if ssl_context else None,
                ssl_handshake_timeout=timeout_s if ssl_context else None)
            return connection
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
    raise error


async def run_load(*, base_url: str, api_key: str, model_id: str, workload: Workload, limits: Limits,
                   allow_private: bool = True) -> LoadResult:
    """Send ``workload`` to ``base_url`` and time every request. The URL must already have passed the guard
    (``apps.probes.services.probe_url_check``); ``allow_private`` is that check's allow-list answer, and the
    addresses the host resolves to are checked again here, and are the ones connected to."""
    limits.check(workload)
    url = chat_completions_url(base_url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url}")
    body = json.dumps({
        "model": model_id,
        "messages": [{"role": "user", "content": prompt_text(workload.input_tokens)}],
        "max_tokens": workload.output_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }).encode()
    # Set-up before the clock starts (our work, not the provider's latency): the request's bytes, the TLS
    # context, the one lookup of the host.
    request = _request_bytes(parts, body=body, api_key=api_key)
    ssl_context = ssl.create_default_context() if parts.scheme == "https" else None
    host = parts.hostname
    addresses, refusal = await _resolve(host, parts.port or (443 if ssl_context else 80),
                                        allow_private=allow_private)
    loop = asyncio.get_running_loop()
    samples: list[Sample] = []
    counter = iter(range(workload.requests))
    in_flight = 0
    max_in_flight = 0

    run_start = time.perf_counter_ns()
    deadline = run_start + int(limits.max_wall_s * 1e9)
    context = _RunContext(request=request, api_key=api_key, run_start_ns=run_start,
                          read_timeout_s=limits.read_timeout_s, samples=samples)
    cpu_start = time.process_time()
    times_start = os.times()
    started_at = datetime.now(UTC)

    def factory() -> _Connection:
        return _Connection(context, loop)

    async def exchange(connection: _Connection | None, index: int) -> _Connection | None:
        """One request on the worker's connection (a new one when it has none); returns the connection."""
        sent = time.perf_counter_ns()
        if connection is None or connection.closed:
            if not addresses:
                _failure(context, index, sent, "connect", refusal)
                return None
            try:
                connection = await _connect(factory, addresses, host=host, ssl_context=ssl_context,
                                            timeout_s=limits.connect_timeout_s)
            except asyncio.CancelledError:
                _failure(context, index, sent, CUT_AT_WALL_LIMIT, "cut: the run reached its wall-time limit")
                raise
            except TimeoutError:
                _failure(context, index, sent, "connect", "timed out connecting")
                return None
            except OSError as exc:
                _failure(context, index, sent, "connect", f"connection failed ({type(exc).__name__})")
                return None
        waiter = connection.send(index, sent)
        try:
            await waiter
        except asyncio.CancelledError:
            connection.cut(CUT_AT_WALL_LIMIT, "cut: the run reached its wall-time limit")
            raise
        return connection

    async def worker() -> None:
        nonlocal in_flight, max_in_flight
        connection: _Connection | None = None
        try:
            for index in counter:
                if time.perf_counter_ns() >= deadline:
                    return
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
                try:
                    connection = await exchange(connection, index)
                finally:
                    in_flight -= 1
        finally:
            if connection is not None:
                connection.close()

    tasks = [asyncio.create_task(worker()) for _ in range(workload.concurrency)]
    _done, pending = await asyncio.wait(tasks, timeout=limits.max_wall_s)
    stopped = bool(pending)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    cpu_s = time.process_time() - cpu_start
    times_end = os.times()
    wall_s = (time.perf_counter_ns() - run_start) / 1e9
    stopped = stopped or len(samples) < workload.requests
    samples.sort(key=lambda s: s.index)
    notes = []
    if stopped:
        cut = sum(1 for s in samples if s.error == CUT_AT_WALL_LIMIT)
        notes.append(f"stopped at the wall-time limit of {limits.max_wall_s:g} s: {cut} request(s) cut, "
                     f"{workload.requests - len(samples)} not sent")
    return LoadResult(samples=samples, started_at=started_at, finished_at=datetime.now(UTC), wall_s=wall_s,
                      stopped_at_wall_limit=stopped, requests_not_sent=workload.requests - len(samples),
                      cpu_s=cpu_s, cpu_user_s=times_end.user - times_start.user,
                      cpu_system_s=times_end.system - times_start.system, max_in_flight=max_in_flight, notes=notes)


def run(**kwargs: Any) -> LoadResult:
    """``run_load`` from synchronous code (the Celery task, the command), on uvloop when it is installed."""
    if uvloop is not None:
        return uvloop.run(run_load(**kwargs))
    return asyncio.run(run_load(**kwargs))
