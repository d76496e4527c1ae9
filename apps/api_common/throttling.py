"""Throttles for the API (per token, per anonymous address) and for anonymous dashboard pages.

Counting is django-ratelimit's fixed window: the first request of a window ``add``s its key, the
others ``incr`` it, so on a cache with an atomic increment (Redis INCR; the embedded default's
``apps.api_common.cache.AtomicDatabaseCache``) concurrent processes cannot lose a count. DRF's own
SimpleRateThrottle keeps a list of timestamps that every request reads, edits and writes back: two
gunicorn workers interleave and both let a request through on the last free place, so its limit
holds only inside one process. A window starts at an offset derived from the client key (the
library's jitter), so clients do not all get their budgets back in the same second.

The counters live in the ``throttle`` cache (settings.CACHES): Redis when CACHE_URL is set, else a
table in the database every process already shares. Rates are read from settings at request time,
so tests and a running demo can change them; a rate of None (``...=off``) turns that throttle off.
A 429 carries ``Retry-After``: the seconds left in the client's window.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_ratelimit.core import get_usage
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

View = Callable[..., HttpResponse]


def by_address(request: HttpRequest | Request) -> str | Callable[..., str]:
    """django-ratelimit's "ip" key: REMOTE_ADDR (IPv6 by /64), or the META key RATELIMIT_IP_META_KEY names.

    Unlike DRF's get_ident it does not believe an X-Forwarded-For the client wrote itself. A peer on a
    unix socket has an empty REMOTE_ADDR, on which django-ratelimit raises (a 500 for every anonymous
    request): such clients share one budget instead, until RATELIMIT_IP_META_KEY names the proxy's header.
    """
    if getattr(settings, "RATELIMIT_IP_META_KEY", None) or request.META.get("REMOTE_ADDR"):
        return "ip"
    return lambda _group, _request: "no-address"


def usage(request: HttpRequest | Request, *, group: str, rate: str | None,
          client: str | Callable[..., str] | None) -> dict[str, Any] | None:
    """Count this request against the client's budget in ``group``; None when the throttle is off."""
    if rate is None or client is None:
        return None
    return get_usage(request, group=group, key=client, rate=rate, increment=True)


def retry_after(found: dict[str, Any]) -> int:
    # The window may end this very second; "retry after 0" would invite an immediate retry.
    return max(int(found["time_left"]), 1)


class _WindowThrottle(BaseThrottle):
    scope = ""

    def client(self, request: Request) -> str | Callable[..., str] | None:
        """django-ratelimit's key for this request's client, None when this throttle does not count it."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: object) -> bool:
        found = usage(request, group=f"api-{self.scope}", rate=settings.TOKENWATCH_API_THROTTLE_RATES.get(self.scope),
                      client=self.client(request))
        self._wait = retry_after(found) if found else None
        return not (found and found["should_limit"])

    def wait(self) -> int | None:
        return self._wait


class AnonThrottle(_WindowThrottle):
    """Anonymous requests, per client address."""

    scope = "anon"

    def client(self, request: Request) -> str | None:
        return None if request.user and request.user.is_authenticated else by_address(request)


class UserThrottle(_WindowThrottle):
    """Authenticated requests, per user (one API token each); anonymous ones are AnonThrottle's alone."""

    scope = "user"

    def client(self, request: Request) -> Callable[..., str] | None:
        if not (request.user and request.user.is_authenticated):
            return None
        pk = str(request.user.pk)
        return lambda _group, _request: pk


def throttle_anonymous_pages(view: View) -> View:
    """Hold anonymous visitors of a page (public demo) to TOKENWATCH_PAGE_THROTTLE_ANON per address.

    Signed-in analysts are not counted: a page is only public to anonymous users while
    TOKENWATCH_PUBLIC_API is on, and that is what a flood would come through.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            found = usage(request, group="page-anon", rate=settings.TOKENWATCH_PAGE_THROTTLE_ANON,
                          client=by_address(request))
            if found and found["should_limit"]:
                seconds = retry_after(found)
                response = HttpResponse(render_to_string("429.html", {"retry_after": seconds}, request=request),
                                        status=429)
                response["Retry-After"] = str(seconds)
                return response
        return view(request, *args, **kwargs)

    return wrapper
