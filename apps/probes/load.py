"""The load generator: N streamed chat completions at concurrency C, timed per request (LLMPerf-style).

asyncio + one aiohttp.ClientSession: C coroutines take request numbers from a shared counter until N
are sent or the run's wall-time limit passes. Each request is timed with ``time.perf_counter``:
TTFT (send -> first chunk with content), the gaps between content chunks, end-to-end latency.

Why aiohttp and not httpx (the fetch layer's client): its HTTP parser is C (llhttp) and a streamed chunk
costs a few Python calls, where httpx -> httpcore -> h11 -> anyio cost ~190 us of CPU per chunk; at 64
tokens a request that was ~12 ms of our CPU per request, now ~5 (bench/README.md, "Probes (issue 15)").

Nothing here can hang: aiohttp's ``sock_read`` timeout bounds every single network read (a stalled
stream fails after ``read_timeout_s`` of silence, even mid-stream), and the whole run is bounded by
``max_wall_s`` (requests still in flight then are cut and recorded as ``wall_limit``).

The SSRF guard: the caller checks the URL first (apps.probes.services.probe_url_check); here the
resolver resolves the host once per run, runs the fetch layer's guard on those addresses and pins
them, so the connection goes to the checked address. No proxies from the environment, no redirects.

The API key goes into the Authorization header and nowhere else: error details are built from
our own words and the exception's type, and any text that might echo a header is redacted.

This module knows nothing of the database; ``apps.probes.services`` stores what it returns.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

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


class _Stream:
    """Parses one server-sent-events body incrementally (bytes in, content chunks counted)."""

    __slots__ = ("buffer", "done", "text_chars", "text_parts", "usage_tokens")

    def __init__(self) -> None:
        self.buffer = b""
        self.done = False
        self.usage_tokens: int | None = None
        self.text_parts: list[str] = []
        self.text_chars = 0

    def feed(self, data: bytes) -> int:
        """Consume bytes; return how many events with content they completed."""
        # One split per read (not a find-and-slice per line): this runs once per streamed token.
        lines = (self.buffer + data if self.buffer else data).split(b"\n")
        self.buffer = lines.pop()  # the unfinished last line, b"" when the read ended on a newline
        content_events = 0
        for raw in lines:
            line = raw.strip()
            if not line.startswith(b"data:"):
                continue  # blank separators, comments (": keep-alive"), event:/id: fields
            payload = line[5:].strip()
            if payload == b"[DONE]":
                self.done = True
                continue
            try:
                event = orjson.loads(payload)  # a few times faster than json: this runs once per token
            except orjson.JSONDecodeError:
                continue  # a line we cannot read is no token; a broken stream shows as no [DONE]
            if not isinstance(event, dict):
                continue
            usage = event.get("usage")
            if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
                self.usage_tokens = usage["completion_tokens"]
            for choice in event.get("choices") or ():
                delta = choice.get("delta") if isinstance(choice, dict) else None
                content = delta.get("content") if isinstance(delta, dict) else None
                if content:
                    self.text_parts.append(content)
                    self.text_chars += len(content)
                    content_events += 1
                    break
        return content_events


class _GuardedResolver(ThreadedResolver):
    """Resolves the run's one host once and pins it: every connection of the run goes to these addresses.

    The fetch layer's guard (scrapers/http.py) checks each address the connector will use, right here,
    so the address checked is the address connected to (no second lookup a hostile DNS could answer
    differently). ``allow_private`` is the caller's allow-list answer for this host (probe targets)."""

    def __init__(self, host: str, *, allow_private: bool) -> None:
        super().__init__()
        self.host = host.strip("[]").lower()
        self.allow_private = allow_private
        self.refusal = ""  # our own words, shown as the requests' error detail
        self._lock = asyncio.Lock()
        self._pinned: list[ResolveResult] | None = None

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host.strip("[]").lower() != self.host:  # no redirects are followed: only the target's host
            self.refusal = "refused: not the probe target's host"
            raise OSError(self.refusal)
        async with self._lock:
            if self._pinned is None:
                results = await super().resolve(host, port, family)
                if not self.allow_private:
                    for result in results:
                        literal = f"[{result['host']}]" if ":" in result["host"] else result["host"]
                        try:
                            guard_url(f"http://{literal}/")
                        except FetchError as exc:
                            self.refusal = f"refused: {host} resolves to a non-public address ({exc.message})"
                            raise OSError(self.refusal) from None
                self._pinned = results
        return self._pinned


async def _one_request(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str],
                       index: int, run_start: float, api_key: str, samples: list[Sample],
                       resolver: _GuardedResolver) -> None:
    sent = time.perf_counter()
    first: float | None = None
    last = 0.0
    gaps: list[float] = []
    stream = _Stream()
    status: int | None = None

    def record(error: str = "", detail: str = "") -> None:
        now = time.perf_counter()
        if stream.usage_tokens is not None:
            tokens, from_usage = stream.usage_tokens, True
        else:
            tokens, from_usage = count_tokens("".join(stream.text_parts)), False
        samples.append(Sample(
            index=index, offset_ms=(sent - run_start) * 1000,
            ttft_ms=None if first is None else (first - sent) * 1000,
            e2e_ms=(now - sent) * 1000 if not error else None,
            inter_token_ms=tuple(gaps), output_tokens=tokens, tokens_from_usage=from_usage,
            error=error, http_status=status, detail=redact(detail, api_key)[:500],
        ))

    try:
        async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
            status = response.status
            if status != 200:
                record(f"http_{status}", f"HTTP {status} {response.reason or ''}".strip())
                return
            # readany() hands over everything buffered at once: one call per socket read, like aiter_raw.
            async for data in response.content.iter_any():
                events = stream.feed(data)
                if events:
                    now = time.perf_counter()
                    if first is None:
                        first = now
                        events -= 1
                    else:
                        gaps.append((now - last) * 1000)
                        events -= 1
                    # Chunks that arrived in one read reached the client together: no gap between them.
                    gaps.extend([0.0] * events)
                    last = now
            if not stream.done:
                record("broken_stream", "the stream ended without its [DONE] event")
                return
            if first is None:
                record("empty_response", "the stream carried no content")
                return
            record()
    except asyncio.CancelledError:
        record(CUT_AT_WALL_LIMIT, "cut: the run reached its wall-time limit")
        raise
    # Order matters: aiohttp's exceptions subclass each other (a DNS error is a connector error is an
    # OSError; a socket timeout is a server timeout is a TimeoutError).
    except aiohttp.ConnectionTimeoutError:
        record("connect", "timed out connecting")
    except aiohttp.SocketTimeoutError:
        if status is None:
            record("timeout", "no response headers within the read timeout")
        else:
            record("stalled", "the stream stalled: no data within the read timeout")
    except TimeoutError as exc:
        record("timeout", f"timed out ({type(exc).__name__})")
    except aiohttp.ClientConnectorDNSError as exc:
        record("connect", resolver.refusal or f"connection failed ({type(exc).__name__})")
    except aiohttp.ClientConnectorError as exc:
        record("connect", f"connection failed ({type(exc).__name__})")
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError,
            aiohttp.ClientResponseError) as exc:
        # A malformed response (ClientResponseError from the parser) is a broken stream, as with httpx.
        record("broken_stream", f"the connection broke mid-stream ({type(exc).__name__})")
    except aiohttp.ClientError as exc:
        record("request_failed", f"request failed ({type(exc).__name__})")


async def run_load(*, base_url: str, api_key: str, model_id: str, workload: Workload, limits: Limits,
                   allow_private: bool = True) -> LoadResult:
    """Send ``workload`` to ``base_url`` and time every request. The URL must already have passed the guard
    (``apps.probes.services.probe_url_check``); ``allow_private`` is that check's allow-list answer, and the
    resolver checks again, on the very addresses it connects to."""
    limits.check(workload)
    url = chat_completions_url(base_url)
    body = json.dumps({
        "model": model_id,
        "messages": [{"role": "user", "content": prompt_text(workload.input_tokens)}],
        "max_tokens": workload.output_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }).encode()
    # identity: a compressed event stream would be held back by the decompressor, shifting the timings.
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", "Accept-Encoding": "identity"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    # sock_read bounds every single read (headers and each chunk): a stalled stream fails after
    # read_timeout_s of silence. No total: the run's wall limit bounds it. Waiting for a pooled connection
    # cannot happen (one connection per worker).
    timeout = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=limits.connect_timeout_s,
                                    sock_read=limits.read_timeout_s)
    samples: list[Sample] = []
    counter = iter(range(workload.requests))
    in_flight = 0
    max_in_flight = 0
    resolver = _GuardedResolver(urlsplit(url).hostname or "", allow_private=allow_private)
    # The session (its connector, SSL context) is made before the clock starts: that is our set-up, not
    # the provider's latency. No proxies from the environment, no redirects, raw bytes (no decompression).
    connector = aiohttp.TCPConnector(limit=workload.concurrency, limit_per_host=workload.concurrency,
                                     resolver=resolver, use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                     auto_decompress=False, raise_for_status=False) as session:
        run_start = time.perf_counter()
        deadline = run_start + limits.max_wall_s
        cpu_start = time.process_time()
        times_start = os.times()
        started_at = datetime.now(UTC)

        async def worker() -> None:
            nonlocal in_flight, max_in_flight
            for index in counter:
                if time.perf_counter() >= deadline:
                    return
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
                try:
                    await _one_request(session, url, body, headers, index, run_start, api_key, samples, resolver)
                finally:
                    in_flight -= 1

        tasks = [asyncio.create_task(worker()) for _ in range(workload.concurrency)]
        _done, pending = await asyncio.wait(tasks, timeout=limits.max_wall_s)
        stopped = bool(pending)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    cpu_s = time.process_time() - cpu_start
    times_end = os.times()
    wall_s = time.perf_counter() - run_start
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


def run(**kwargs: object) -> LoadResult:
    """``run_load`` from synchronous code (the Celery task, the command)."""
    return asyncio.run(run_load(**kwargs))  # type: ignore[arg-type]
