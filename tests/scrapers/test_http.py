"""Tests for scrapers.http.fetch.

Nothing here leaves the machine: HTTP goes to httpx.MockTransport or to a
server on 127.0.0.1, and an autouse guard fails any test that tries to
resolve a real hostname.
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from scrapers import http as http_module
from scrapers.http import DEFAULT_USER_AGENT, MAX_REDIRECTS, FetchError, FetchResult, GuardedTransport, fetch
from tests.scrapers.rebinding import connects, rebinding_dns

# A public-looking literal address: passes the address check with no DNS.
PUBLIC = "http://93.184.216.34"
SHEET = f"{PUBLIC}/prices.json"
BODY = b'{"gpt-4o": {"input_cost_per_token": 2.5e-06}}'
ETAG = '"v1-abc"'
LAST_MODIFIED = "Tue, 01 Apr 2025 12:00:00 GMT"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything resolves a name that is not an IP literal."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else str(host)
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
        except OSError:
            raise AssertionError(f"test tried to resolve {host!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[tuple[str, int]]:
    """Make socket.getaddrinfo answer from ``answers``; returns the lookups made."""
    lookups: list[tuple[str, int]] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        lookups.append((host, port))
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port, 0, 0) if ":" in ip else (ip, port),
            )
            for ip in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def mock(handler: Handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def recording(handler: Handler) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A MockTransport that also keeps every request it was sent."""
    seen: list[httpx.Request] = []

    def wrapped(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.MockTransport(wrapped), seen


def must_not_be_called(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request should have been sent, got {request.url}")


def fetch_error(url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, **kwargs)
    return caught.value


# --- success ---------------------------------------------------------------------


def test_it_returns_the_body_and_validators_on_200() -> None:
    transport, seen = recording(
        lambda request: httpx.Response(
            200,
            content=BODY,
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED, "Content-Type": "application/json"},
        )
    )

    result = fetch(SHEET, transport=transport)

    assert result == FetchResult(
        url=SHEET,
        status=200,
        content=BODY,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
        content_type="application/json",
        fetched_at=result.fetched_at,
    )
    assert result.fetched_at.tzinfo is UTC
    (request,) = seen
    assert request.method == "GET"
    assert request.headers["User-Agent"] == DEFAULT_USER_AGENT
    assert "If-None-Match" not in request.headers
    assert "If-Modified-Since" not in request.headers


def test_it_sends_the_user_agent_and_timeouts_it_is_given() -> None:
    transport, seen = recording(lambda request: httpx.Response(200, content=BODY))

    fetch(SHEET, transport=transport, user_agent="probe/1", connect_timeout=1.5, read_timeout=7.0)

    (request,) = seen
    assert request.headers["User-Agent"] == "probe/1"
    timeout = request.extensions["timeout"]
    assert timeout["connect"] == 1.5
    assert timeout["read"] == 7.0


def test_it_returns_empty_strings_for_missing_headers() -> None:
    result = fetch(SHEET, transport=mock(lambda request: httpx.Response(200, content=b"")))

    assert result.content == b""
    assert (result.etag, result.last_modified, result.content_type) == ("", "", "")


# --- conditional GET ------------------------------------------------------------------


def test_it_sends_conditional_headers_and_returns_no_content_on_304() -> None:
    transport, seen = recording(
        lambda request: httpx.Response(304, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})
    )

    result = fetch(SHEET, etag=ETAG, last_modified=LAST_MODIFIED, transport=transport)

    (request,) = seen
    assert request.headers["If-None-Match"] == ETAG
    assert request.headers["If-Modified-Since"] == LAST_MODIFIED
    assert result.status == 304
    assert result.content is None
    assert result.url == SHEET
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)


def test_it_sends_only_the_validator_it_has() -> None:
    transport, seen = recording(lambda request: httpx.Response(304))

    fetch(SHEET, last_modified=LAST_MODIFIED, transport=transport)

    (request,) = seen
    assert request.headers["If-Modified-Since"] == LAST_MODIFIED
    assert "If-None-Match" not in request.headers


def test_it_keeps_the_callers_validators_when_a_304_omits_them() -> None:
    result = fetch(
        SHEET,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
        transport=mock(lambda request: httpx.Response(304)),
    )

    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)


def test_it_treats_a_304_to_an_unconditional_request_as_transient() -> None:
    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(304)))

    assert error.permanent is False
    assert error.status == 304


# --- HTTP errors ------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 204])
def test_it_treats_client_errors_and_unexpected_statuses_as_permanent(status: int) -> None:
    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(status)))

    assert error.permanent is True
    assert error.status == status


def test_it_names_the_url_and_status_in_a_404_message() -> None:
    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(404)))

    assert str(error) == f"{SHEET}: HTTP 404 Not Found (permanent)"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_it_treats_5xx_429_and_408_as_transient(status: int) -> None:
    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(status)))

    assert error.permanent is False
    assert error.status == status


def test_it_names_the_url_and_status_in_a_503_message() -> None:
    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(503)))

    assert str(error) == f"{SHEET}: HTTP 503 Service Unavailable (transient)"


@pytest.mark.parametrize(
    ("exception", "kind"),
    [(httpx.ReadTimeout, "read"), (httpx.ConnectTimeout, "connect"), (httpx.PoolTimeout, "waiting")],
)
def test_it_treats_timeouts_as_transient(exception: type[httpx.TimeoutException], kind: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception("timed out", request=request)

    error = fetch_error(SHEET, transport=mock(handler))

    assert error.permanent is False
    assert error.status is None
    assert str(error).startswith(f"{SHEET}: timed out ({kind}")


@pytest.mark.parametrize("exception", [httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError])
def test_it_treats_connection_errors_as_transient(exception: type[httpx.TransportError]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception("connection reset", request=request)

    error = fetch_error(SHEET, transport=mock(handler))

    assert error.permanent is False
    assert str(error).startswith(f"{SHEET}: connection failed")


def test_it_treats_a_timeout_while_reading_the_body_as_transient() -> None:
    def body() -> Iterator[bytes]:
        yield b"partial"
        raise httpx.ReadTimeout("timed out")

    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(200, content=body())))

    assert error.permanent is False
    assert "timed out reading the body" in str(error)


def test_it_hides_credentials_in_error_messages() -> None:
    error = fetch_error(
        "http://scraper:s3cret@93.184.216.34/prices.json",
        transport=mock(lambda request: httpx.Response(404)),
    )

    assert "s3cret" not in str(error)
    assert str(error) == f"{SHEET}: HTTP 404 Not Found (permanent)"


# --- body size -------------------------------------------------------------------


def test_it_accepts_a_body_of_exactly_max_bytes() -> None:
    transport = mock(lambda request: httpx.Response(200, content=BODY))

    result = fetch(SHEET, max_bytes=len(BODY), transport=transport)

    assert result.content == BODY


def test_it_refuses_a_declared_content_length_over_max_bytes_before_reading() -> None:
    pulled: list[bytes] = []

    def body() -> Iterator[bytes]:
        while True:
            pulled.append(b"x" * 1024)
            yield pulled[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(10**9)}, content=body())

    error = fetch_error(SHEET, max_bytes=1000, transport=mock(handler))

    assert error.permanent is True
    assert str(error) == f"{SHEET}: response body is larger than the 1,000-byte limit (permanent)"
    assert pulled == []


def test_it_refuses_a_body_over_max_bytes_with_content_length() -> None:
    error = fetch_error(SHEET, max_bytes=10, transport=mock(lambda request: httpx.Response(200, content=b"x" * 11)))

    assert error.permanent is True
    assert error.status == 200


def test_it_stops_streaming_as_soon_as_a_body_without_content_length_exceeds_max_bytes() -> None:
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        response = httpx.Response(200, content=endless())
        assert "Content-Length" not in response.headers
        return response

    error = fetch_error(SHEET, max_bytes=10 * 1024, transport=mock(handler))

    assert error.permanent is True
    assert "10,240-byte limit" in str(error)
    assert pulled == 11  # the chunk that crossed the limit, and not one more


def test_it_caps_the_decoded_size_of_a_compressed_body() -> None:
    compressed = gzip.compress(b"\0" * 1_000_000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=compressed)

    assert len(compressed) < 10_000
    error = fetch_error(SHEET, max_bytes=10_000, transport=mock(handler))

    assert error.permanent is True


def test_it_decodes_a_gzip_body_within_the_limit() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Accept-Encoding"] == "gzip, deflate"
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=gzip.compress(BODY))

    assert fetch(SHEET, transport=mock(handler)).content == BODY


# --- schemes and literal addresses -------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://93.184.216.34/prices.json", "file:///etc/passwd", "gopher://93.184.216.34/", "prices.json"],
)
def test_it_refuses_non_http_schemes(url: str) -> None:
    error = fetch_error(url, transport=mock(must_not_be_called))

    assert error.permanent is True
    assert "is not http or https" in str(error)


def test_it_names_the_refused_scheme() -> None:
    error = fetch_error("ftp://93.184.216.34/prices.json", transport=mock(must_not_be_called))

    assert str(error) == ("ftp://93.184.216.34/prices.json: refused, the ftp scheme is not http or https (permanent)")


@pytest.mark.parametrize("url", ["http://", "http://[::1", "https:///prices.json"])
def test_it_refuses_malformed_urls(url: str) -> None:
    error = fetch_error(url, transport=mock(must_not_be_called))

    assert error.permanent is True


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 -- a URL host here, not a bind address
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("[::1]", "loopback"),
        ("[::]", "unspecified"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("[::ffff:169.254.169.254]", "link-local"),
        ("[fe80::1]", "link-local"),
        ("[fc00::1]", "private"),
        ("[ff02::1]", "multicast"),
        ("[2002:7f00:1::1]", "loopback"),  # 6to4 wrapping 127.0.0.1
    ],
)
def test_it_refuses_non_public_literal_addresses_without_allow_private(host: str, reason: str) -> None:
    url = f"http://{host}/latest/meta-data/"

    error = fetch_error(url, transport=mock(must_not_be_called))

    assert error.permanent is True
    assert error.status is None
    assert f"{reason} address" in str(error)
    assert str(error).startswith(f"{url}: refused, host ")


def test_it_names_the_url_and_the_reason_for_a_refused_address() -> None:
    error = fetch_error("http://169.254.169.254/latest/meta-data/", transport=mock(must_not_be_called))

    assert str(error) == (
        "http://169.254.169.254/latest/meta-data/: refused, host 169.254.169.254 is a link-local address (permanent)"
    )


def test_it_accepts_an_ipv4_mapped_public_address() -> None:
    result = fetch("http://[::ffff:93.184.216.34]/", transport=mock(lambda request: httpx.Response(200, content=BODY)))

    assert result.content == BODY


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "[::1]", "localhost"])
def test_it_fetches_private_addresses_when_allowed(host: str) -> None:
    result = fetch(
        f"http://{host}/prices.json",
        allow_private=True,
        transport=mock(lambda request: httpx.Response(200, content=BODY)),
    )

    assert result.content == BODY


# --- DNS ---------------------------------------------------------------------------


def test_it_checks_every_resolved_address_even_with_a_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = fake_dns(monkeypatch, {"prices.example.com": ["93.184.216.34", "10.0.0.5"]})

    error = fetch_error("https://prices.example.com/sheet.json", transport=mock(must_not_be_called))

    assert lookups == [("prices.example.com", 443)]
    assert error.permanent is True
    assert str(error) == (
        "https://prices.example.com/sheet.json: refused, host prices.example.com resolves to "
        "10.0.0.5, a private address (permanent)"
    )


def test_it_refuses_a_hostname_that_resolves_to_an_ipv4_mapped_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"sneaky.example.com": ["::ffff:127.0.0.1"]})

    error = fetch_error("http://sneaky.example.com/", transport=mock(must_not_be_called))

    assert error.permanent is True
    assert "loopback address" in str(error)


def test_it_fetches_a_hostname_that_resolves_to_public_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = fake_dns(monkeypatch, {"prices.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    transport, seen = recording(lambda request: httpx.Response(200, content=BODY))

    result = fetch("http://prices.example.com:8080/sheet.json", transport=transport)

    assert result.content == BODY
    assert lookups == [("prices.example.com", 8080)]
    assert seen[0].url.host == "prices.example.com"


def test_it_treats_an_unresolvable_host_as_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {})

    error = fetch_error("https://nowhere.example.com/x.json", transport=mock(must_not_be_called))

    assert error.permanent is False
    assert str(error).startswith(
        "https://nowhere.example.com/x.json: failed, host nowhere.example.com could not be resolved"
    )


def test_it_skips_dns_when_private_addresses_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = fake_dns(monkeypatch, {})

    fetch(
        "http://intranet.example.com/",
        allow_private=True,
        transport=mock(lambda request: httpx.Response(200, content=BODY)),
    )

    assert lookups == []


# --- redirects ----------------------------------------------------------------------


def redirect(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


def test_it_follows_redirects_and_reports_the_final_url() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/prices.json":
            return redirect("/v2/prices.json", 301)
        if request.url.path == "/v2/prices.json":
            return redirect("http://93.184.216.35/cdn/prices.json#frag", 307)
        return httpx.Response(200, content=BODY, headers={"ETag": '"v2"'})

    transport, seen = recording(handler)

    result = fetch(SHEET, etag=ETAG, transport=transport)

    assert [str(request.url) for request in seen] == [
        SHEET,
        f"{PUBLIC}/v2/prices.json",
        "http://93.184.216.35/cdn/prices.json",
    ]
    assert all(request.headers["If-None-Match"] == ETAG for request in seen)
    assert result.url == "http://93.184.216.35/cdn/prices.json"
    assert result.content == BODY
    assert result.etag == '"v2"'


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]:8000/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_it_refuses_a_redirect_to_a_private_address(location: str) -> None:
    transport, seen = recording(lambda request: redirect(location))

    error = fetch_error(SHEET, transport=transport)

    assert len(seen) == 1  # the private hop was never requested
    assert error.permanent is True
    assert str(error).startswith(f"{SHEET}: redirect to {location} refused, host ")


def test_it_refuses_a_redirect_to_a_hostname_that_resolves_privately(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"metadata.internal": ["169.254.169.254"]})
    transport, seen = recording(lambda request: redirect("http://metadata.internal/computeMetadata/v1/"))

    error = fetch_error(SHEET, transport=transport)

    assert len(seen) == 1
    assert error.permanent is True
    assert "link-local address" in str(error)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://93.184.216.34/prices.json"])
def test_it_refuses_a_redirect_to_a_non_http_scheme(location: str) -> None:
    transport, seen = recording(lambda request: redirect(location))

    error = fetch_error(SHEET, transport=transport)

    assert len(seen) == 1
    assert error.permanent is True
    scheme = location.split(":", 1)[0]
    assert str(error).startswith(f"{SHEET}: redirect to {scheme}:")
    assert f"refused, the {scheme} scheme is not http or https" in str(error)


def test_it_follows_a_redirect_to_a_private_address_when_allowed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "127.0.0.1":
            return httpx.Response(200, content=BODY)
        return redirect("http://127.0.0.1/prices.json")

    result = fetch(SHEET, allow_private=True, transport=mock(handler))

    assert result.url == "http://127.0.0.1/prices.json"


def test_it_follows_up_to_five_redirects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        hop = int(request.url.params.get("hop", "0"))
        if hop < MAX_REDIRECTS:
            return redirect(f"/prices.json?hop={hop + 1}")
        return httpx.Response(200, content=BODY)

    transport, seen = recording(handler)

    result = fetch(SHEET, transport=transport)

    assert MAX_REDIRECTS == 5
    assert len(seen) == 6
    assert result.url == f"{SHEET}?hop=5"


def test_it_gives_up_after_five_redirects() -> None:
    transport, seen = recording(lambda request: redirect("/prices.json"))

    error = fetch_error(SHEET, transport=transport)

    assert len(seen) == 6  # the first request and five redirects
    assert error.permanent is True
    assert str(error) == f"{SHEET}: more than 5 redirects (permanent)"


def test_it_refuses_a_redirect_without_a_location() -> None:
    error = fetch_error(SHEET, transport=mock(lambda request: httpx.Response(302)))

    assert error.permanent is True
    assert error.status == 302
    assert str(error) == f"{SHEET}: HTTP 302 Found without a Location (permanent)"


def test_it_leaves_a_borrowed_transport_open() -> None:
    closed: list[bool] = []

    class Transport(httpx.MockTransport):
        def close(self) -> None:
            closed.append(True)

    fetch(SHEET, transport=Transport(lambda request: httpx.Response(200, content=BODY)))

    assert closed == []


# --- a real socket, on loopback only --------------------------------------------------


class _SheetHandler(BaseHTTPRequestHandler):
    body = BODY
    etag = '"loopback-1"'
    requests: list[dict[str, str]]

    def do_GET(self) -> None:
        self.requests.append(dict(self.headers.items()))
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.send_header("ETag", self.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", self.etag)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@contextmanager
def _sheet_server(wrap: Callable[[socket.socket], socket.socket] | None = None
                  ) -> Iterator[tuple[ThreadingHTTPServer, list[dict[str, str]]]]:
    """The sheet server on 127.0.0.1 in a thread (its socket wrapped, e.g. in TLS); yields it and the requests
    it answered, and stops it."""
    requests: list[dict[str, str]] = []
    handler = type("Handler", (_SheetHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if wrap is not None:
        server.socket = wrap(server.socket)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def loopback_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    with _sheet_server() as (server, requests):
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}/prices.json", requests


def test_it_fetches_from_a_real_loopback_server_and_revalidates_with_the_etag(
    loopback_server: tuple[str, list[dict[str, str]]],
) -> None:
    url, requests = loopback_server

    first = fetch(url, allow_private=True, connect_timeout=2, read_timeout=5)
    second = fetch(url, etag=first.etag, allow_private=True, connect_timeout=2, read_timeout=5)

    assert (first.status, first.content, first.etag) == (200, BODY, '"loopback-1"')
    assert first.content_type == "application/json"
    assert (second.status, second.content, second.etag) == (304, None, '"loopback-1"')
    assert requests[0]["User-Agent"] == DEFAULT_USER_AGENT
    assert "If-None-Match" not in requests[0]
    assert requests[1]["If-None-Match"] == '"loopback-1"'


def test_it_refuses_the_real_loopback_server_without_allow_private(
    loopback_server: tuple[str, list[dict[str, str]]],
) -> None:
    url, requests = loopback_server

    error = fetch_error(url)

    assert error.permanent is True
    assert requests == []  # refused before any connection was made


# --- DNS rebinding: the connection goes to the address that was checked -------------------


def test_it_does_not_connect_to_a_second_dns_answer_that_differs_from_the_checked_one(
    loopback_server: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, requests = loopback_server
    port = httpx.URL(url).port
    # The check is told a public address; whatever looks the name up next is told loopback.
    answers = rebinding_dns(monkeypatch, "rebind.example.test", ["93.184.216.34", "127.0.0.1"])
    connected = connects(monkeypatch)

    error = fetch_error(f"http://rebind.example.test:{port}/prices.json", connect_timeout=2, read_timeout=5)

    assert error.permanent is True
    assert str(error) == (
        f"http://rebind.example.test:{port}/prices.json: refused, host rebind.example.test resolves to "
        "127.0.0.1, a loopback address (permanent)"
    )
    assert answers == ["93.184.216.34", "127.0.0.1"]
    assert connected == [] and requests == []


@pytest.fixture
def loopback_counts_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let 127.0.0.1 pass the address check, so a server the test starts can stand in for a public one."""
    real = http_module._non_public_reason
    monkeypatch.setattr(
        http_module, "_non_public_reason", lambda address: "" if str(address) == "127.0.0.1" else real(address)
    )


def test_it_connects_to_the_checked_address_and_keeps_the_hostname_in_the_host_header(
    loopback_server: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch, loopback_counts_as_public: None
) -> None:
    url, requests = loopback_server
    port = httpx.URL(url).port
    answers = rebinding_dns(monkeypatch, "sheet.example.test", ["127.0.0.1"])
    connected = connects(monkeypatch)

    result = fetch(f"http://sheet.example.test:{port}/prices.json", connect_timeout=2, read_timeout=5)

    assert result.content == BODY
    # One lookup for the early check, one by the transport for the connection; httpcore never resolves the name.
    assert answers == ["127.0.0.1", "127.0.0.1"]
    assert connected == [("127.0.0.1", port)]
    assert requests[0]["Host"] == f"sheet.example.test:{port}"


def test_a_failed_lookup_at_connect_time_is_a_transient_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    before = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "flaky.example.test":
            return before(host, port, *args, **kwargs)
        lookups.append(host)
        if len(lookups) > 1:  # the check's lookup worked; the connection's fails
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    connected = connects(monkeypatch)

    error = fetch_error("http://flaky.example.test/prices.json", connect_timeout=2, read_timeout=5)

    assert error.permanent is False
    assert str(error) == (
        "http://flaky.example.test/prices.json: connection failed "
        "(ConnectError: [Errno -3] Temporary failure in name resolution) (transient)"
    )
    assert len(lookups) == 2 and connected == []


# --- TLS: verified for the hostname, while connected to the checked IP ---------------------


@pytest.fixture(scope="module")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for sheet.example.test (made by the openssl CLI), and its key."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=sheet.example.test", "-addext", "subjectAltName=DNS:sheet.example.test",
         "-keyout", key, "-out", cert],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(tls_certificate: tuple[str, str]) -> Iterator[tuple[int, list[dict[str, str]]]]:
    """The sheet server over HTTPS on 127.0.0.1; yields its port and the requests it answered."""
    import ssl

    cert, key = tls_certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # A refused handshake is dropped quietly.
    with _sheet_server(lambda sock: context.wrap_socket(sock, server_side=True)) as (server, requests):
        yield server.server_address[1], requests


def test_tls_is_verified_for_the_hostname_while_the_connection_goes_to_the_checked_ip(
    tls_server: tuple[int, list[dict[str, str]]],
    tls_certificate: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    loopback_counts_as_public: None,
) -> None:
    import ssl

    port, requests = tls_server
    answers = rebinding_dns(monkeypatch, "sheet.example.test", ["127.0.0.1"])
    rebinding_dns(monkeypatch, "other.example.test", ["127.0.0.1"])
    connected = connects(monkeypatch)
    trusted = ssl.create_default_context(cafile=tls_certificate[0])  # as a real CA's certificate is trusted

    with httpx.Client(transport=GuardedTransport(ssl_context=trusted), trust_env=False, timeout=5) as client:
        response = client.get(f"https://sheet.example.test:{port}/prices.json")
        # The same server under a name its certificate does not carry: refused, though the IP is the same.
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            client.get(f"https://other.example.test:{port}/prices.json")

    assert (response.status_code, response.content) == (200, BODY)
    assert requests[0]["Host"] == f"sheet.example.test:{port}"
    assert answers == ["127.0.0.1"]  # the transport's one lookup: nothing else resolved the name
    assert connected == [("127.0.0.1", port), ("127.0.0.1", port)]


def test_fetch_refuses_a_certificate_it_cannot_verify(
    tls_server: tuple[int, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, requests = tls_server
    rebinding_dns(monkeypatch, "sheet.example.test", ["127.0.0.1"])
    connects(monkeypatch)

    # The allow-list lets the host be loopback; it does not turn certificate checks off (certifi does not
    # know the test's self-signed certificate).
    error = fetch_error(f"https://sheet.example.test:{port}/prices.json", allow_private=True, connect_timeout=2)

    assert error.permanent is False
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert requests == []
