"""The load generator: N streamed chat completions at concurrency C, timed per request (LLMPerf-style).

C workers take request numbers from a shared counter until N are sent or the run's wall-time limit passes.
Each worker holds one HTTP/1.1 keep-alive connection and sends its requests on it one after another.

Why a receive loop of our own and not an HTTP client library or an event loop: the probe's job is to time
tokens, and at concurrency 32 a client's per-chunk machinery was most of tokenwatch's CPU (httpx ~12 ms of
CPU per 64-token request, aiohttp ~5-9 ms, our own asyncio Protocol on uvloop ~3-4 ms), and a loop that wakes
once per chunk cannot go below ~2 ms on a small VM however little it does per chunk (bench/README.md,
"Probes (issue 15)"). Here one thread sleeps on epoll, reads every ready socket at once, and sleeps out the rest
of a short tick; each read's time is the kernel's receive timestamp (SO_TIMESTAMPNS), so batching the wake-ups
costs no accuracy (see "The receive loop" below). Per read: one recvmsg, httptools' C parser (llhttp, the
parser aiohttp and uvicorn use) and one ``orjson.loads`` of the event.

Timing: every read is stamped once; each content event in it gets that stamp (events that arrived in one read
reached us together: a gap of 0 between them). TTFT = first content stamp - request sent (a new connection's
connect is part of it, as for any client); inter-token gaps = consecutive stamps; end-to-end = the read that
completed the response - request sent. The figures are made from the stamps once, when the request ends.

Nothing here can hang: the loop checks every connection for silence longer than ``read_timeout_s`` (before the
headers: ``timeout``; mid-stream: ``stalled``), connects (and TLS handshakes) are bounded by
``connect_timeout_s``, and the whole run by ``max_wall_s`` (requests still in flight then are cut and recorded as
``wall_limit``).

The SSRF guard: the caller checks the URL first (apps.probes.services.probe_url_check); here the host is
resolved once per run, the fetch layer's guard runs on those addresses (unless the allow-list allowed the
host) and every connection goes to them, so the address checked is the address connected to. No proxies
from the environment, no redirects (a 3xx is an error), no compression (``Accept-Encoding: identity``).
TLS is the standard library's (``ssl.SSLObject`` over memory buffers, the default context: certificates and
host names verified), so the raw socket stays ours to read with its timestamps.

The API key goes into the Authorization header and nowhere else: error details are built from our own
words and the exception's type, and any text that might echo a header is redacted.

This module knows nothing of the database; ``apps.probes.services`` stores what it returns.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import socket
import ssl
import struct
import sys
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
    reads: int = 0  # socket reads with data (or the end) ...
    wakeups: int = 0  # ... and the times the loop woke to do them
    kernel_stamps: bool = False  # reads timed by the kernel's receive timestamps (else by the read's own time)
    tick_ms: float = 0.0  # the tick at the end of the run (TICK_S, or less when tokens came faster)
    unstamped_reads: int = 0  # reads timed by the probe because the kernel's stamp was missing or out of order
    notes: list[str] = field(default_factory=list)
    # time.perf_counter_ns() when the run began: each sample's offset_ms counts from it. CLOCK_MONOTONIC on
    # Linux, one clock for every process, so a test can set the server's own send times against the samples.
    run_start_ns: int = 0


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

    def feed_reads(self, pieces: list[int | bytes]) -> None:
        """Consume a response's body as read: [stamp, piece, …, stamp, piece, …], each piece after the stamp
        of the read it came in (apps.probes.load._Connection.bodies)."""
        # The usual piece is one whole content event, "data: {…}\n\n", with nothing left over from the last
        # piece: it is read here without a call per piece. Anything else (split or several events, the usage
        # chunk, [DONE], odd shapes) goes to feed() untouched, which parses it from scratch.
        stamp = 0
        stamps, feed = self.stamps, self.feed
        for piece in pieces:
            if piece.__class__ is int:
                stamp = piece  # type: ignore[assignment]
                continue
            if self.buffer or piece[-2:] != b"\n\n" or piece[:5] != b"data:" or piece.count(b"\n") != 2:  # type: ignore[index,union-attr]
                feed(piece, stamp)  # type: ignore[arg-type]
                continue
            try:
                event = loads(piece[5:])  # type: ignore[index]
                content = event["choices"][0]["delta"]["content"]
            except (JSONDecodeError, KeyError, IndexError, TypeError):
                feed(piece, stamp)  # type: ignore[arg-type]
                continue
            if content.__class__ is str and content and event.get("usage") is None:
                stamps.append(stamp)
                self.text_chars += len(content)
            else:
                feed(piece, stamp)  # type: ignore[arg-type]

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


# ---------------------------------------------------------------------------------------------------------------
# The receive loop. Why not an event loop library: at concurrency 32 a loop that wakes for every streamed chunk
# (asyncio, uvloop) spends most of its CPU waking up (one epoll_wait and one context switch per chunk, ~2 ms per
# 64-token request on a 2-vCPU VM even for a Protocol that parses nothing). Here the loop sleeps on epoll until
# some socket is ready, reads every ready socket, then sleeps out the rest of a short tick: at most one wake-up
# per tick, however many streams are open. The tick costs no accuracy because every read's time is the
# kernel's: SO_TIMESTAMPNS on the TCP socket makes recvmsg() hand back when the data reached the socket (for
# a read spanning several segments, the last one's). So a token is timed at its arrival, not when we got round
# to it. The tick stays well below the time between two tokens, so that two tokens of one stream are not read
# together (the kernel stamps a read with its last segment's arrival): it starts at none (a wake-up per
# arrival) and, at every check for silence, becomes a quarter of the fastest open stream's mean gap over its
# last 8 tokens, at most TICK_S. Without kernel stamps (not Linux, or a read that comes without a usable one)
# each read is timed when the loop gets it, and the loop stops batching for the rest of the run.
# ---------------------------------------------------------------------------------------------------------------

TICK_S = 0.005  # at most one wake-up per 5 ms (for streams with 20 ms or more between tokens)
_TICK_GAPS = 8  # the gaps a stream's mean gap is taken over
_CLOCK_SLACK_NS = 1_000_000  # how far a kernel stamp may seem out of order before it is taken for a clock step
_READ_SIZE = 65536
_KERNEL_STAMPS = sys.platform == "linux"
# SO_TIMESTAMPNS: not in Python's socket module; 35 in Linux's asm-generic/socket.h (x86, arm, riscv…; alpha,
# mips, parisc and sparc number it otherwise, and there the option is refused or gives no stamp: read time).
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("@ll")  # struct timespec: seconds, nanoseconds (C longs)
_ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)

class _Poll:
    """poll(2) behind epoll's interface (a timeout in seconds), where there is no epoll: macOS and the BSDs."""

    def __init__(self) -> None:
        self.poll_object = select.poll()
        self.register, self.modify = self.poll_object.register, self.poll_object.modify
        self.unregister = self.poll_object.unregister

    def poll(self, timeout_s: float) -> list[tuple[int, int]]:
        return self.poll_object.poll(max(0, int(timeout_s * 1000 + 0.999)))

    def close(self) -> None:
        """Nothing to close: poll(2) keeps no descriptor."""


def _no_poller() -> Any:
    raise OSError("probing needs epoll or poll(2): Linux, macOS or a BSD")


if hasattr(select, "epoll"):
    _READ, _WRITE = select.EPOLLIN, select.EPOLLOUT
    _poller: Callable[[], Any] = select.epoll
elif hasattr(select, "poll"):
    _READ, _WRITE = select.POLLIN, select.POLLOUT
    _poller = _Poll
else:  # Windows: importable, but a run says why it cannot start
    _READ, _WRITE = 1, 4
    _poller = _no_poller

_CONNECTING, _HANDSHAKE, _OPEN, _CLOSED = range(4)


class _Run:
    """What every connection of one run shares, and the loop that drives them."""

    def __init__(self, *, request: bytes, api_key: str, addresses: list[tuple[Any, ...]], refusal: str, host: str,
                 ssl_context: ssl.SSLContext | None, requests: int, limits: Limits) -> None:
        self.request, self.api_key = request, api_key
        self.addresses, self.refusal, self.host, self.ssl_context = addresses, refusal, host, ssl_context
        self.counter = iter(range(requests))
        self.read_timeout_ns = int(limits.read_timeout_s * 1e9)
        self.connect_timeout_ns = int(limits.connect_timeout_s * 1e9)
        # Silence is checked on this period (a stall is reported within a twentieth of the timeout of its end).
        self.scan_ns = int(min(max(min(limits.read_timeout_s, limits.connect_timeout_s) / 20, 0.01), 0.25) * 1e9)
        self.max_wall_ns = int(limits.max_wall_s * 1e9)
        self.poller = _poller()
        self.buffer = bytearray(_READ_SIZE)  # every read goes here first (one thread: one read at a time)
        self.buffers, self.view = [self.buffer], memoryview(self.buffer)
        self.by_fd: dict[int, _Connection] = {}
        self.ready: list[_Connection] = []  # connections whose request ended: each starts the next
        self.samples: list[Sample] = []
        self.kernel_stamps = _KERNEL_STAMPS
        self.tick_ns = 0  # none until the streams' pace is known (set_tick)
        self.woke_ns = self.offset_ns = 0  # when the loop last woke; CLOCK_REALTIME - perf_counter then
        self.in_flight = self.max_in_flight = self.reads = self.wakeups = self.unstamped_reads = 0
        self.run_start_ns = self.deadline_ns = 0

    def loop(self, concurrency: int) -> bool:
        """Send every request and read every answer; True when the wall-time limit stopped the run."""
        now = self.run_start_ns = time.perf_counter_ns()
        self.deadline_ns = now + self.max_wall_ns
        connections = [_Connection(self) for _ in range(concurrency)]
        self.ready.extend(reversed(connections))
        next_scan = now + self.scan_ns
        poll, by_fd, perf_ns = self.poller.poll, self.by_fd, time.perf_counter_ns
        self.set_offset()
        try:
            while True:
                while self.ready:
                    self.ready.pop().next_request()
                if not self.in_flight:
                    return False  # every request sent and answered (or the counter ran out at the deadline)
                now = perf_ns()
                if now >= self.deadline_ns:
                    return True
                events = poll(max(0, min(next_scan, self.deadline_ns) - now) / 1e9)
                self.woke_ns = woke = perf_ns()
                self.wakeups += 1
                for fd, mask in events:
                    connection = by_fd.get(fd)
                    if connection is not None:
                        connection.ready(mask)
                if woke >= next_scan:
                    next_scan = woke + self.scan_ns
                    for connection in connections:
                        connection.check_silence(woke)
                    self.set_tick(connections)
                    self.set_offset()
                if events and self.tick_ns:
                    # Sleep out the tick (the data that comes meanwhile waits in the kernel with its stamp).
                    rest_ns = min(woke + self.tick_ns, self.deadline_ns) - perf_ns()
                    if rest_ns > 0:
                        time.sleep(rest_ns / 1e9)
        finally:
            for connection in connections:
                if connection.active:
                    connection.cut(CUT_AT_WALL_LIMIT, "cut: the run reached its wall-time limit")
                connection.close()
            self.poller.close()

    def record(self, sample: Sample) -> None:
        self.samples.append(sample)
        self.in_flight -= 1

    def set_offset(self) -> None:
        """CLOCK_REALTIME (the kernel's stamps) minus perf_counter (our clock), read between two perf_counter
        reads (the closest of three tries: a pause between the reads would skew it). Taken again at every
        check for silence: NTP slews the wall clock by at most 0.5 ms a second."""
        perf_ns, real_ns = time.perf_counter_ns, time.time_ns
        best = None
        for _try in range(3):
            before = perf_ns()
            real = real_ns()
            after = perf_ns()
            if best is None or after - before < best[0]:
                best = (after - before, real - (before + after) // 2)
        self.offset_ns = best[1]  # type: ignore[index]

    def set_tick(self, connections: list[_Connection]) -> None:
        """A quarter of the open streams' pace (at most TICK_S): reads of one stream then stay a token apart.
        A stream's pace is its mean gap over its last _TICK_GAPS tokens (the mean holds even when a tick was
        too long and two tokens shared a read: a 0 and a double gap); the run's is the median of its streams'
        (all stream the same model from the same endpoint; one stream's burst of late tokens does not count)."""
        if not self.kernel_stamps:
            return
        paces = []
        for connection in connections:
            if connection.active:
                connection.parse_bodies()
                stamps = connection.stream.stamps
                if len(stamps) > _TICK_GAPS:
                    paces.append((stamps[-1] - stamps[-1 - _TICK_GAPS]) // _TICK_GAPS)
        if paces:
            paces.sort()
            self.tick_ns = min(int(TICK_S * 1e9), paces[len(paces) // 2] // 4)

    def unstamped_read(self) -> None:
        """A read without a usable kernel stamp: its time is the read's own, so the loop stops batching."""
        self.tick_ns = 0
        self.kernel_stamps = False
        self.unstamped_reads += 1


class _Connection:
    """One worker's keep-alive HTTP/1.1 connection (redialled when it closes); one request at a time.
    httptools calls the on_* methods."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.sock: socket.socket | None = None
        self.fd = -1
        self.state = _CLOSED
        self.tls: ssl.SSLObject | None = None
        self.tls_in = self.tls_out = None
        self.pending = b""  # request bytes the socket did not take yet
        self.addresses: list[tuple[Any, ...]] = []
        self.dial_error = ""
        self.connect_deadline_ns = 0
        self.active = False  # a request is in progress
        # httptools hands each piece of body straight to this list (a C call, no Python frame per read), after
        # the stamp of the read it came in: [stamp, body, …, stamp, body, …]. The SSE parse runs over it in
        # bulk (parse_bodies): when the response ends, and at each check for silence (the tick needs the pace).
        self.bodies: list[int | bytes] = []
        self.on_body = self.bodies.append
        self._begin(-1, 0)

    def _begin(self, index: int, sent_ns: int) -> None:
        self.index = index
        self.sent_ns = self.last_read_ns = sent_ns
        self.status: int | None = None
        self.reason = b""
        self.length_known = False  # Content-Length or Transfer-Encoding: else the body ends when the server closes
        self.stream = _Stream()
        self.bodies.clear()

    # --- requests ---
    def next_request(self) -> None:
        """Start the run's next request, unless all are sent or the wall-time limit has come."""
        run = self.run
        sent = time.perf_counter_ns()
        if sent >= run.deadline_ns:
            return
        index = next(run.counter, None)
        if index is None:
            return
        self._begin(index, sent)
        self.active = True
        run.in_flight += 1
        run.max_in_flight = max(run.max_in_flight, run.in_flight)
        if self.state == _OPEN:
            self._send(run.request)
        elif not run.addresses:
            self._connect_failed(run.refusal)
        else:
            self.addresses = list(run.addresses)  # the run's pinned addresses, in order: no second lookup
            self.dial_error = "connection failed (no address)"
            self._dial()

    def _dial(self) -> None:
        """Connect (non-blocking) to the next of the run's addresses; the loop reports when it is done."""
        self.close()
        while self.addresses:
            family, sockaddr = self.addresses.pop(0)
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if _KERNEL_STAMPS:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                    except OSError:
                        self.run.unstamped_read()
                error = sock.connect_ex(sockaddr)
            except OSError as exc:
                error = exc.errno or -1
            if error not in (0, errno.EINPROGRESS):
                sock.close()
                self.dial_error = f"connection failed ({type(OSError(error, '')).__name__})"
                continue
            self.sock, self.fd, self.state = sock, sock.fileno(), _CONNECTING
            self.parser = httptools.HttpResponseParser(self)
            self.connect_deadline_ns = time.perf_counter_ns() + self.run.connect_timeout_ns
            self.run.by_fd[self.fd] = self
            self.run.poller.register(self.fd, _WRITE)
            return
        self._connect_failed(self.dial_error)

    def _connected(self) -> None:
        assert self.sock is not None
        error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self.dial_error = f"connection failed ({type(OSError(error, '')).__name__})"
            self._dial()
            return
        if self.run.ssl_context is None:
            self.state = _OPEN
            self.run.poller.modify(self.fd, _READ)
            self._send(self.run.request)
            return
        self.state = _HANDSHAKE
        self.connect_deadline_ns = time.perf_counter_ns() + self.run.connect_timeout_ns  # the handshake's own
        self.tls_in, self.tls_out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = self.run.ssl_context.wrap_bio(self.tls_in, self.tls_out, server_hostname=self.run.host)
        self.run.poller.modify(self.fd, _READ)
        self._handshake(b"")

    def _handshake(self, data: bytes | memoryview) -> None:
        assert self.tls is not None and self.tls_in is not None
        if data:
            self.tls_in.write(data)
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            self._flush_tls()
            return
        except (ssl.SSLError, OSError) as exc:  # the certificate refused, a protocol error…
            self._connect_failed(f"connection failed ({type(exc).__name__})")
            return
        self.state = _OPEN
        self._send(self.run.request)

    def _flush_tls(self) -> None:
        assert self.tls_out is not None
        if self.tls_out.pending:
            self._send(b"", raw=self.tls_out.read())

    def _send(self, data: bytes, *, raw: bytes = b"") -> None:
        """Write ``data`` (through TLS when the connection has it) or ``raw`` bytes; what the socket does not
        take now is written when it is writable again."""
        if data and self.tls is not None:
            self.tls.write(data)
            raw = self.tls_out.read()  # type: ignore[union-attr]
        elif data:
            raw = data
        if self.pending:
            self.pending += raw
            return
        assert self.sock is not None
        try:
            sent = self.sock.send(raw)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._lost(exc)
            return
        if sent < len(raw):
            self.pending = raw[sent:]
            self.run.poller.modify(self.fd, _READ | _WRITE)

    def _writable(self) -> None:
        assert self.sock is not None
        try:
            sent = self.sock.send(self.pending)
        except BlockingIOError:
            return
        except OSError as exc:
            self._lost(exc)
            return
        self.pending = self.pending[sent:]
        if not self.pending:
            self.run.poller.modify(self.fd, _READ)

    # --- the loop's side ---
    def ready(self, mask: int) -> None:
        """The loop's call when this connection's socket is readable (the usual), writable, or in error."""
        if self.state == _CONNECTING:
            self._connected()
            return
        if mask & _WRITE:
            if self.pending:
                self._writable()
            if self.state == _CLOSED or not mask & ~_WRITE:
                return
        # One read: its bytes and the kernel's time of their arrival (the stamp every event in them gets).
        # This runs once per streamed chunk, so it is written out here rather than in helper calls, and it
        # reads into the run's one buffer (a fresh 64 KiB bytes per read cost more than the system call).
        run = self.run
        try:
            size, ancillary, _flags, _address = self.sock.recvmsg_into(run.buffers, _ANCILLARY_SIZE)  # type: ignore[union-attr]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(exc)
            return
        run.reads += 1
        if not size:
            self._lost(None)
            return
        if ancillary and ancillary[0][1] == _SO_TIMESTAMPNS:
            seconds, nanoseconds = _TIMESPEC.unpack_from(ancillary[0][2])
            stamp = seconds * 1_000_000_000 + nanoseconds - run.offset_ns
            # Not before the request's last read nor after now (data may come after the wake-up, before this
            # read): a wall clock stepped since the offset was taken (the kernel stamps in CLOCK_REALTIME) gives
            # the read's own time, not a nonsense interval. Within _CLOCK_SLACK_NS it is the offset's own error.
            if stamp < self.last_read_ns:
                if stamp < self.last_read_ns - _CLOCK_SLACK_NS:
                    stamp = run.woke_ns
                    run.unstamped_read()
                else:
                    stamp = self.last_read_ns
            elif stamp > run.woke_ns and stamp > time.perf_counter_ns() + _CLOCK_SLACK_NS:
                stamp = run.woke_ns
                run.unstamped_read()
        else:
            stamp = run.woke_ns
            if _KERNEL_STAMPS:
                run.unstamped_read()
        self.last_read_ns = stamp
        data = run.view[:size]  # httptools hands its callbacks copies: the buffer is free again after this
        if self.tls is not None:
            if self.state == _HANDSHAKE:
                self._handshake(data)
            else:
                self._decrypt(data)
        elif self.active:
            self.bodies.append(stamp)
            try:
                self.parser.feed_data(data)
            except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
                self._finish("broken_stream", f"the response is malformed ({type(exc).__name__})")
                self.close()
        else:
            self.close()  # bytes nobody asked for: the connection's state is unknown, do not reuse it

    def _decrypt(self, data: bytes | memoryview) -> None:
        assert self.tls is not None and self.tls_in is not None
        self.tls_in.write(data)
        while self.state == _OPEN:
            try:
                plain = self.tls.read(_READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:  # the server's close_notify: the end of the connection
                self._lost(None)
                return
            except ssl.SSLError as exc:
                self._lost(exc)
                return
            self._received(plain)
        if self.state == _OPEN:
            self._flush_tls()  # TLS 1.3 may answer a key update

    def _received(self, data: bytes | memoryview) -> None:
        """Plaintext from TLS (the plain path does the same inline)."""
        if not self.active:
            self.close()  # bytes nobody asked for: the connection's state is unknown, do not reuse it
            return
        self.bodies.append(self.last_read_ns)
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            self._finish("broken_stream", f"the response is malformed ({type(exc).__name__})")
            self.close()

    def check_silence(self, now_ns: int) -> None:
        """The timeouts: connecting (or the TLS handshake) too long, or silence for longer than the read timeout."""
        if not self.active:
            return
        if self.state in (_CONNECTING, _HANDSHAKE):
            if now_ns >= self.connect_deadline_ns:
                self.dial_error = "timed out connecting"
                if self.state == _HANDSHAKE:
                    self.addresses = []
                self._dial()
        elif now_ns - self.last_read_ns >= self.run.read_timeout_ns:
            if self.status is None:
                self._finish("timeout", "no response headers within the read timeout")
            else:
                self._finish("stalled", "the stream stalled: no data within the read timeout")
            self.close()

    def _lost(self, exc: Exception | None) -> None:
        """The connection ended (closed by the server, reset, or a TLS error)."""
        if self.state == _HANDSHAKE:
            self._connect_failed(f"connection failed ({type(exc).__name__ if exc else 'closed by the server'})")
            return
        self.close()
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

    def close(self) -> None:
        if self.sock is not None:
            self.run.by_fd.pop(self.fd, None)
            with contextlib.suppress(OSError, KeyError, ValueError):  # already gone
                self.run.poller.unregister(self.fd)
            self.sock.close()
        self.sock, self.fd, self.state = None, -1, _CLOSED
        self.tls = self.tls_in = self.tls_out = None
        self.pending = b""

    def cut(self, error: str, detail: str) -> None:
        """End the request in progress from outside (the run's wall limit)."""
        if self.state in (_CONNECTING, _HANDSHAKE):
            self._connect_failed(detail, error=error)
        else:
            self._finish(error, detail)
        self.close()

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

    def parse_bodies(self) -> None:
        """Feed the body read so far to the SSE parser, each piece with its read's stamp."""
        if self.bodies:
            self.stream.feed_reads(self.bodies)
            self.bodies.clear()

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
        self.parse_bodies()
        if not self.stream.done:
            self._finish("broken_stream", "the stream ended without its [DONE] event")
        elif not self.stream.stamps:
            self._finish("empty_response", "the stream carried no content")
        else:
            self._finish("", "", end_ns=self.last_read_ns)

    def _connect_failed(self, detail: str, *, error: str = "connect") -> None:
        """A request that ended before it had a connection (connect failed or refused, cut while connecting)."""
        self.close()
        if not self.active:
            return
        self.active = False
        run = self.run
        run.record(Sample(
            index=self.index, offset_ms=(self.sent_ns - run.run_start_ns) / 1e6, ttft_ms=None, e2e_ms=None,
            inter_token_ms=(), output_tokens=0, tokens_from_usage=False, error=error, http_status=None,
            detail=redact(detail, run.api_key)[:500]))
        run.ready.append(self)

    def _finish(self, error: str, detail: str, *, end_ns: int = 0) -> None:
        """Record the request's sample (once); the loop then starts this worker's next request."""
        if not self.active:
            return
        self.active = False
        self.parse_bodies()
        run = self.run
        stream, sent = self.stream, self.sent_ns
        stamps = stream.stamps
        if stream.usage_tokens is not None:
            tokens, from_usage = stream.usage_tokens, True
        else:
            tokens, from_usage = _tokens_from_chars(stream.text_chars), False
        run.record(Sample(
            index=self.index, offset_ms=(sent - run.run_start_ns) / 1e6,
            ttft_ms=(stamps[0] - sent) / 1e6 if stamps else None,
            e2e_ms=(end_ns - sent) / 1e6 if not error else None,
            inter_token_ms=tuple([(b - a) / 1e6 for a, b in pairwise(stamps)]),
            output_tokens=tokens, tokens_from_usage=from_usage, error=error, http_status=self.status,
            detail=redact(detail, run.api_key)[:500] if detail else "",
        ))
        run.ready.append(self)  # not from here: httptools may still be inside this read


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


def _stamps_on() -> list[socket.socket]:
    """Linux stamps received packets only while some socket asks for it, and turns that on in a deferred work
    item: the first segments after the first socket's setsockopt may come unstamped (the loop would then stop
    batching for the whole run). So before the clock starts, a loopback TCP pair that asks for stamps is opened
    and tried until a segment comes stamped (at most ~0.2 s), and held open for the run. Best effort: without
    it the per-read check still keeps the timing right."""
    if not _KERNEL_STAMPS:
        return []
    held: list[socket.socket] = []
    try:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.append(listener)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        sender = socket.create_connection(listener.getsockname(), timeout=1.0)
        held.append(sender)
        receiver, _address = listener.accept()
        held.append(receiver)
        receiver.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        receiver.settimeout(1.0)
        for _try in range(100):
            sender.send(b".")
            _data, ancillary, _flags, _address = receiver.recvmsg(1, _ANCILLARY_SIZE)
            if ancillary and ancillary[0][1] == _SO_TIMESTAMPNS:
                break
            time.sleep(0.002)
    except OSError:
        pass  # no loopback to try on: the per-read check decides
    return held


def _resolve(host: str, port: int, *, allow_private: bool) -> tuple[list[tuple[Any, ...]], str]:
    """The host's addresses, looked up once for the whole run, and our refusal ("" when they may be used)."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
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


def run(*, base_url: str, api_key: str, model_id: str, workload: Workload, limits: Limits,
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
    addresses, refusal = _resolve(host, parts.port or (443 if ssl_context else 80), allow_private=allow_private)
    state = _Run(request=request, api_key=api_key, addresses=addresses, refusal=refusal, host=host,
                 ssl_context=ssl_context, requests=workload.requests, limits=limits)
    cpu_start = time.process_time()
    times_start = os.times()
    started_at = datetime.now(UTC)
    keeper = _stamps_on()
    try:
        stopped = state.loop(workload.concurrency)
    finally:
        for sock in keeper:
            sock.close()
    cpu_s = time.process_time() - cpu_start
    times_end = os.times()
    wall_s = (time.perf_counter_ns() - state.run_start_ns) / 1e9
    samples = state.samples
    stopped = stopped or len(samples) < workload.requests
    samples.sort(key=lambda s: s.index)
    notes = []
    if state.unstamped_reads:
        notes.append(f"{state.unstamped_reads} read(s) came without a usable kernel timestamp and were timed by the "
                     "probe when it read them; it stopped batching wake-ups from the first")
    if stopped:
        cut = sum(1 for s in samples if s.error == CUT_AT_WALL_LIMIT)
        notes.append(f"stopped at the wall-time limit of {limits.max_wall_s:g} s: {cut} request(s) cut, "
                     f"{workload.requests - len(samples)} not sent")
    return LoadResult(samples=samples, started_at=started_at, finished_at=datetime.now(UTC), wall_s=wall_s,
                      stopped_at_wall_limit=stopped, requests_not_sent=workload.requests - len(samples),
                      cpu_s=cpu_s, cpu_user_s=times_end.user - times_start.user,
                      cpu_system_s=times_end.system - times_start.system, max_in_flight=state.max_in_flight,
                      reads=state.reads, wakeups=state.wakeups, kernel_stamps=state.kernel_stamps,
                      tick_ms=state.tick_ns / 1e6, unstamped_reads=state.unstamped_reads, notes=notes,
                      run_start_ns=state.run_start_ns)
