"""The one module of tokenwatch that touches the network.

``fetch(url)`` GETs a price sheet and returns its bytes, or raises
``FetchError`` with one plain sentence and a ``permanent`` flag that tells the
caller whether a retry can help. It is deliberately defensive, because the
URLs come from configuration that admins edit and from redirects that remote
servers choose:

* only ``http`` and ``https``;
* every hop (the first request and each redirect) must resolve to public
  addresses only, so a sheet URL or a redirect cannot reach 127.0.0.1, the
  LAN or a cloud metadata service (169.254.169.254) -- unless the caller
  passes ``allow_private=True``;
* the connection goes to an address that was checked: ``GuardedTransport``
  resolves the host once per connection, checks every answer and connects to
  those IPs, keeping the hostname for the Host header, TLS SNI and
  certificate verification, so a DNS server that answers "public" to the
  check and "127.0.0.1" a moment later (DNS rebinding) is refused;
* redirects are followed by hand (at most ``MAX_REDIRECTS``) so that check
  runs on each hop;
* the body is streamed and refused as soon as it passes ``max_bytes``;
* conditional GET (``If-None-Match`` / ``If-Modified-Since``) so an unchanged
  sheet costs a 304 and no body.

It imports nothing from Django, ``apps`` or ``tokenwatch`` (``lint-imports``
enforces that ``scrapers`` stays pure).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpcore
import httpx

__all__ = [
    "DEFAULT_USER_AGENT",
    "MAX_REDIRECTS",
    "FetchError",
    "FetchResult",
    "GuardedTransport",
    "fetch",
    "guard_url",
]

DEFAULT_USER_AGENT = "tokenwatch/0.1 (+https://github.com/tokenwatch; price-sheet fetcher)"

MAX_REDIRECTS = 5

ALLOWED_SCHEMES = frozenset({"http", "https"})

# The redirects we follow (by hand, see fetch). 300 Multiple Choices and 305
# Use Proxy are not followed: they end as permanent "unexpected status" errors.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Retrying can help with these client errors: 408 Request Timeout and
# 429 Too Many Requests are the server asking us to come back later.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 429})

# Only zlib-family codings: their worst-case expansion is about 1000:1, so one
# network chunk (tens of KiB) cannot blow up into gigabytes before the
# streaming size check sees it. Brotli and zstd bombs can expand far more, and
# httpx would advertise them if those optional packages were installed.
ACCEPT_ENCODING = "gzip, deflate"

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class FetchResult:
    """What one successful fetch returned."""

    url: str  # final URL, after redirects: what the validators below belong to
    status: int  # 200 or 304
    content: bytes | None  # None on 304 Not Modified: the caller's copy is current
    etag: str  # raw ETag header, quotes and W/ included; "" if the server sent none
    last_modified: str  # raw Last-Modified header; "" if the server sent none
    content_type: str  # raw Content-Type header; "" if the server sent none
    fetched_at: datetime  # aware UTC, when the response headers arrived


class FetchError(Exception):
    """A fetch failed; ``str(error)`` is one plain sentence naming the URL.

    ``permanent=True`` means retrying cannot help (4xx other than 408/429, a
    bad URL, a blocked host, a body that is too large); ``permanent=False``
    means the failure is transient (timeouts, connection errors, 5xx, 408,
    429) and a later retry may succeed. ``status`` is the HTTP status when the
    failure was an HTTP response, else None.
    """

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status = status


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    max_bytes: int = 20 * 1024 * 1024,
    connect_timeout: float = 5.0,
    read_timeout: float = 30.0,
    allow_private: bool = False,
    user_agent: str = DEFAULT_USER_AGENT,
    transport: httpx.BaseTransport | None = None,
) -> FetchResult:
    """GET ``url`` and return its body, or ``content=None`` if it is unchanged.

    Pass the ``etag`` / ``last_modified`` of the previous ``FetchResult`` to
    make the request conditional. ``transport`` is for tests
    (``httpx.MockTransport``); the address check still runs on each hop's host
    unless ``allow_private`` is set. Without it, requests go through a
    ``GuardedTransport``, which checks again the addresses it connects to.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")

    current = _parse_url(url)
    _check_host(current, allow_private=allow_private)

    headers = {
        "User-Agent": user_agent,
        "Accept": "*/*",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    conditional = bool(etag or last_modified)

    # write/pool are not in the API; bound them by the read/connect budgets so
    # no phase of a request can hang forever.
    timeout = httpx.Timeout(
        connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
    )
    client = httpx.Client(
        headers=headers,
        timeout=timeout,
        follow_redirects=False,  # we follow by hand so every hop is checked
        # No proxy, .netrc or SSL_CERT_* from the environment: what this module
        # sends, and to whom, is decided here and nowhere else (a .netrc would
        # otherwise hand credentials to whichever host a redirect names).
        trust_env=False,
        transport=(
            _BorrowedTransport(transport)
            if transport is not None
            else GuardedTransport(allow_private=allow_private)
        ),
    )
    with client:
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = client.send(client.build_request("GET", current), stream=True)
            except httpx.TimeoutException as exc:
                raise _transient(current, f"timed out ({_timeout_kind(exc)})") from exc
            except httpx.TransportError as exc:
                raise _transient(current, f"connection failed ({_describe(exc)})") from exc
            except httpx.HTTPError as exc:
                raise _transient(current, f"request failed ({_describe(exc)})") from exc
            fetched_at = datetime.now(UTC)
            try:
                status = response.status_code
                if status in REDIRECT_STATUSES:
                    target = _redirect_target(current, response)
                    _check_host(target, allow_private=allow_private, origin=current)
                    current = target
                    continue
                if status == 304:
                    if not conditional:
                        # A 304 to a request without validators leaves the
                        # caller with no body at all; likely a confused cache.
                        raise FetchError(
                            f"{_show(current)}: HTTP 304 Not Modified to an unconditional "
                            "request (transient)",
                            permanent=False,
                            status=status,
                        )
                    return FetchResult(
                        url=str(current),
                        status=304,
                        content=None,
                        # A 304 should repeat the validators; if it does not,
                        # keep the caller's so the next fetch stays conditional.
                        etag=response.headers.get("etag", etag),
                        last_modified=response.headers.get("last-modified", last_modified),
                        content_type=response.headers.get("content-type", ""),
                        fetched_at=fetched_at,
                    )
                if status != 200:
                    raise _status_error(current, response)
                content = _read_capped(current, response, max_bytes)
                return FetchResult(
                    url=str(current),
                    status=200,
                    content=content,
                    etag=response.headers.get("etag", ""),
                    last_modified=response.headers.get("last-modified", ""),
                    content_type=response.headers.get("content-type", ""),
                    fetched_at=fetched_at,
                )
            finally:
                # Unread bodies (redirects, errors) are dropped with the connection.
                response.close()
    # A redirect chain this long is a loop or a misconfiguration; retrying
    # will only walk it again.
    raise FetchError(
        f"{_show(httpx.URL(url))}: more than {MAX_REDIRECTS} redirects (permanent)", permanent=True
    )


# --- URL and address checks -------------------------------------------------


def guard_url(url: str, *, allow_private: bool = False) -> httpx.URL:
    """The same checks ``fetch`` runs on its first hop, for callers that make their own requests
    (probe streams, webhooks): http(s) only, and a host that resolves to public addresses only unless
    ``allow_private``. Returns the parsed URL; raises ``FetchError`` (permanent for a refusal).

    This is a check of the name, not of the connection: a caller that connects must connect to the
    addresses it checked, through ``GuardedTransport`` or by resolving once itself (apps.probes.load)."""
    parsed = _parse_url(url)
    _check_host(parsed, allow_private=allow_private)
    return parsed


def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"{url!r} is not a valid URL ({exc}) (permanent)", permanent=True) from exc
    _check_scheme(parsed)
    return parsed


def _check_scheme(url: httpx.URL, *, origin: httpx.URL | None = None) -> None:
    subject = _subject(url, origin)
    if url.scheme not in ALLOWED_SCHEMES:
        scheme = f"the {url.scheme} scheme" if url.scheme else "a URL without a scheme"
        raise FetchError(
            f"{subject} refused, {scheme} is not http or https (permanent)",
            permanent=True,
        )
    if not url.host:
        raise FetchError(f"{subject} refused, the URL has no host (permanent)", permanent=True)


def _check_host(url: httpx.URL, *, allow_private: bool, origin: httpx.URL | None = None) -> None:
    """Refuse ``url`` if its host is, or resolves to, any non-public address.

    This is the early check, with the URL (or the redirect) in its message and
    before any request is built. It is not what makes the connection safe: a
    hostile DNS server with a zero TTL can answer "public" here and "private"
    a moment later. ``GuardedTransport`` closes that gap by checking again the
    answer it connects to.
    """
    if allow_private:
        return
    subject = _subject(url, origin)
    host = url.raw_host.decode("ascii")  # IDNA-encoded; IPv6 without brackets
    literal = _as_ip(host)
    if literal is not None:
        reason = _non_public_reason(literal)
        if reason:
            raise FetchError(f"{subject} refused, host {host} is {reason} (permanent)", permanent=True)
        return
    port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        # Often NXDOMAIN (permanent), but just as often a resolver hiccup;
        # let the caller's retry budget decide, so call it transient.
        raise FetchError(
            f"{subject} failed, host {host} could not be resolved ({exc}) (transient)",
            permanent=False,
        ) from exc
    addresses = _addresses(infos)
    if not addresses:
        raise FetchError(
            f"{subject} failed, host {host} resolved to no IP address (transient)", permanent=False
        )
    refusal = _refusal(host, addresses)
    if refusal is not None:
        raise FetchError(refusal.sentence(subject), permanent=True)


def _addresses(infos: Iterable[tuple]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The distinct IP addresses of a getaddrinfo answer, in its order (the order to try them in)."""
    found = (_as_ip(str(info[4][0])) for info in infos)
    return list(dict.fromkeys(a for a in found if a is not None))


class _Refused(Exception):
    """A host that resolves to a non-public address (raised at connect time, see _GuardedBackend)."""

    def __init__(self, host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, reason: str) -> None:
        super().__init__(f"host {host} resolves to {address}, {reason}")
        self.host, self.address, self.reason = host, address, reason

    def sentence(self, subject: str) -> str:
        return f"{subject} refused, host {self.host} resolves to {self.address}, {self.reason} (permanent)"


def _refusal(
    host: str, addresses: Iterable[ipaddress.IPv4Address | ipaddress.IPv6Address]
) -> _Refused | None:
    # ANY bad address refuses the host: the connection may use any of them.
    for address in addresses:
        reason = _non_public_reason(address)
        if reason:
            return _Refused(host, address, reason)
    return None


def _as_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        # getaddrinfo may return a scoped IPv6 address ("fe80::1%eth0").
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _non_public_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why ``address`` must not be fetched, or "" if it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1 reaches 127.0.0.1, but before Python 3.13 the IPv6
        # object does not report itself as loopback: judge the IPv4 inside.
        if address.ipv4_mapped is not None:
            return _non_public_reason(address.ipv4_mapped)
        # 6to4 (2002::/16) embeds an IPv4 address too, and Python counts
        # 2002::/16 as global; judge the embedded address as well.
        if address.sixtofour is not None:
            reason = _non_public_reason(address.sixtofour)
            if reason:
                return reason
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),  # before is_private, which also covers 240/4
        ("is_private", "a private address"),
    )
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    # Catches what the flags above miss, e.g. 100.64.0.0/10 (carrier-grade
    # NAT, often the inside of a cloud VPC), which is neither private nor global.
    if not address.is_global:
        return "a non-public address"
    return ""


def _redirect_target(current: httpx.URL, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location", "").strip()
    status = response.status_code
    if not location:
        raise FetchError(
            f"{_show(current)}: HTTP {status} {response.reason_phrase} without a Location (permanent)",
            permanent=True,
            status=status,
        )
    try:
        # Location may be relative ("/v2/prices.json", "//cdn/x"); resolve it
        # against the URL that sent it.
        target = current.join(location)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(
            f"{_show(current)}: HTTP {status} redirect to an invalid URL {location!r} (permanent)",
            permanent=True,
            status=status,
        ) from exc
    # The fragment is client-side only; never send it.
    target = target.copy_with(fragment=None)
    _check_scheme(target, origin=current)
    return target


# --- the connection: to the address that was checked --------------------------


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the address check at connect time.

    httpcore hands ``connect_tcp`` the URL's host; we resolve it once, refuse
    the host if any answer is non-public, and connect to the checked IPs (in
    the resolver's order, each with the connect timeout, as
    ``socket.create_connection`` would). The inner backend gets an IP literal,
    so nothing resolves the name a second time. TLS is started afterwards by
    httpcore on this stream with ``server_hostname`` = the URL's host (or the
    ``sni_hostname`` request extension), so SNI and certificate verification
    are for the name, not the IP.
    """

    def __init__(self, *, allow_private: bool, inner: httpcore.NetworkBackend | None = None) -> None:
        self._allow_private = allow_private
        self._inner = inner if inner is not None else httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self._allow_private:
            # The caller lets this host be anything (an allow-list): nothing to pin.
            return self._inner.connect_tcp(
                host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            # What socket.create_connection's failed lookup became before: a
            # connection error, transient to fetch.
            raise httpcore.ConnectError(str(exc)) from exc
        addresses = _addresses(infos)
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolved to no IP address")
        refusal = _refusal(host, addresses)
        if refusal is not None:
            raise refusal
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used by the guarded transport")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes to an address checked by the SSRF rules.

    ``allow_private=True`` turns the check off (an allow-listed host may be
    anything): the name is then resolved when connecting, as httpx does.
    Certificates are always verified, against the URL's host, with certifi's
    roots unless ``ssl_context`` is given (tests trust their own certificate
    that way); nothing is read from the environment (no proxy, no
    ``SSL_CERT_FILE``). A refusal at connect time raises ``FetchError``
    (permanent), naming the request's URL.
    """

    def __init__(self, *, allow_private: bool = False, ssl_context: ssl.SSLContext | None = None) -> None:
        if ssl_context is None:
            ssl_context = httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx 0.28 builds its httpcore pool without a network_backend
        # argument (encode/httpx#3180), so build the same pool with ours. The
        # pool is a private attribute: httpx is pinned in requirements.txt and
        # the rebinding tests fail loudly if a new httpx stops using it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,  # httpx's default limits
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(allow_private=allow_private),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except _Refused as refused:
            raise FetchError(refused.sentence(f"{_show(request.url)}:"), permanent=True) from None


# --- responses ----------------------------------------------------------------


def _read_capped(url: httpx.URL, response: httpx.Response, max_bytes: int) -> bytes:
    """Read at most ``max_bytes`` of decoded body, refusing anything larger."""
    too_large = f"{_show(url)}: response body is larger than the {max_bytes:,}-byte limit (permanent)"
    declared = response.headers.get("content-length", "")
    # Refuse before reading a byte when the server admits the size. A missing
    # or malformed header is fine: the streaming check below still applies.
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise FetchError(too_large, permanent=True, status=response.status_code)
    chunks: list[bytes] = []
    size = 0
    try:
        # iter_bytes yields *decoded* bytes, so the cap also bounds what a
        # gzip body inflates to (see ACCEPT_ENCODING for the per-chunk bound).
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(too_large, permanent=True, status=response.status_code)
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise _transient(url, f"timed out reading the body ({_timeout_kind(exc)})") from exc
    except httpx.DecodingError as exc:
        # Usually a truncated transfer; a retry may get a whole one.
        raise _transient(url, f"body could not be decoded ({_describe(exc)})") from exc
    except httpx.HTTPError as exc:
        raise _transient(url, f"connection failed while reading the body ({_describe(exc)})") from exc
    return b"".join(chunks)


def _status_error(url: httpx.URL, response: httpx.Response) -> FetchError:
    status = response.status_code
    transient = status >= 500 or status in TRANSIENT_CLIENT_STATUSES
    kind = "transient" if transient else "permanent"
    reason = f" {response.reason_phrase}" if response.reason_phrase else ""
    return FetchError(f"{_show(url)}: HTTP {status}{reason} ({kind})", permanent=not transient, status=status)


# --- helpers -----------------------------------------------------------------


class _BorrowedTransport(httpx.BaseTransport):
    """Wraps a caller's transport so closing our client does not close theirs."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        """The caller owns the inner transport and closes it."""


def _subject(url: httpx.URL, origin: httpx.URL | None) -> str:
    """How a message names what was refused: the URL, or the redirect to it."""
    if origin is None:
        return f"{_show(url)}:"
    return f"{_show(origin)}: redirect to {_show(url)}"


def _transient(url: httpx.URL, problem: str) -> FetchError:
    return FetchError(f"{_show(url)}: {problem} (transient)", permanent=False)


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.ReadTimeout):
        return "read"
    if isinstance(exc, httpx.WriteTimeout):
        return "write"
    return "waiting for a connection"


def _describe(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _show(url: httpx.URL) -> str:
    """The URL for messages, without any user:password that it carries."""
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    return str(url)
