"""Signed webhook requests: the signature scheme and the one POST, through the fetch layer's SSRF guard.

Headers of every webhook (README "Watches and alerts"), in the manner of Stripe's:

* ``Tokenwatch-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is HMAC-SHA256, keyed with the
  watch's secret, over ``"<t>.<raw body>"``. A receiver recomputes it and compares in constant time, and
  refuses a ``t`` too far from its clock (replays);
* ``Idempotency-Key: <uuid>``: the same on every attempt of one delivery, so a receiver that got a
  request whose answer was lost can tell the retry is a repeat;
* ``Tokenwatch-Delivery``: the delivery id; ``Tokenwatch-Attempt``: 1, 2, ... .

The guard is scrapers.http.guard_url (the same checks as every fetch hop), with the allow-list of
TOKENWATCH_WEBHOOK_ALLOWED_HOSTS, as probes do with theirs; on top, a webhook must be HTTPS unless its
host is listed. The POST goes through scrapers.http.GuardedTransport, which connects only to addresses it
has checked, so a receiver's DNS cannot answer a public address to the guard and 127.0.0.1 to the POST.
Redirects are not followed: a receiver that moved is a configuration to fix.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from scrapers.http import DEFAULT_USER_AGENT, FetchError, GuardedTransport, guard_url

SIGNATURE_HEADER = "Tokenwatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
TRANSIENT_STATUSES = frozenset({408, 425, 429})


class WebhookError(Exception):
    """A webhook that was not accepted; ``permanent``: retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.permanent, self.status = message, permanent, status


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def signature_valid(header: str, secret: str, body: bytes) -> bool:
    """A receiver's check (used by the tests' receiver; a model for users' own)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(parts["t"]), body), parts["v1"])


def _host_allowed(url: str) -> bool:
    """Whether the URL's host is in TOKENWATCH_WEBHOOK_ALLOWED_HOSTS (then it may be plain http and private)."""
    allowed = {host.strip("[]").lower() for host in settings.TOKENWATCH_WEBHOOK_ALLOWED_HOSTS}
    return (urlsplit(url).hostname or "").lower() in allowed


def webhook_url_check(url: str) -> bool:
    """Raise WebhookError (permanent) for a URL the guard refuses: not HTTPS (unless the host is allowed), or
    a host that is or resolves to a private, loopback or otherwise non-public address (unless allowed).
    Returns whether the host is allow-listed (then it may be private: the POST does not check it again)."""
    allowed = _host_allowed(url)
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and allowed):
        raise WebhookError(f"{url} refused: a webhook must be an https:// URL (plain http only to a host in "
                           "TOKENWATCH_WEBHOOK_ALLOWED_HOSTS)", permanent=True)
    try:
        guard_url(url, allow_private=allowed)
    except FetchError as exc:
        raise WebhookError(_refusal_message(exc, allowed=allowed), permanent=exc.permanent) from None
    return allowed


def _refusal_message(exc: FetchError, *, allowed: bool) -> str:
    hint = "" if allowed else " (a host in TOKENWATCH_WEBHOOK_ALLOWED_HOSTS may be private)"
    return f"{exc.message}{hint}"


@dataclass(frozen=True)
class WebhookResponse:
    status: int


def webhook_post(*, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> WebhookResponse:
    """POST a signed body; a 2xx answer is returned, anything else raises WebhookError."""
    allowed = webhook_url_check(url)
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False,
                          transport=GuardedTransport(allow_private=allowed)) as client:
            response = client.post(url, content=body, headers={
                "User-Agent": DEFAULT_USER_AGENT, "Content-Type": "application/json", **headers})
    except FetchError as exc:  # the address connected to was refused (its DNS answer changed after the check)
        raise WebhookError(_refusal_message(exc, allowed=allowed), permanent=exc.permanent) from None
    except httpx.TimeoutException as exc:
        raise WebhookError(f"{url}: timed out ({type(exc).__name__})", permanent=False) from None
    except httpx.HTTPError as exc:
        raise WebhookError(f"{url}: connection failed ({type(exc).__name__}: {exc})", permanent=False) from None
    status = response.status_code
    if 200 <= status < 300:
        return WebhookResponse(status)
    transient = status >= 500 or status in TRANSIENT_STATUSES
    raise WebhookError(f"{url}: HTTP {status}" + (" (will retry)" if transient else ""), permanent=not transient,
                       status=status)
