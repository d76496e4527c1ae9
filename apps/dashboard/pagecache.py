"""Dashboard pages computed once per version of the data, not once per request (issue 14: every page under
150 ms; "work on data that only changes at ingest can be computed at ingest time ..., not cached by time").

A page is a pure function of the database, the query string, who asks (anonymous, signed in, staff: staff see
curation links) and the time. So its HTML is kept in Django's cache under a key made of

- the data version (apps.common.dataversion): it moves with every committed write of the data, so a page is
  never served after an ingest, an import or a curator's edit that could change it;
- the path and the query string (filters, sort, page, currency: everything a page reads from the URL);
- the kind of user;

and it is served only until the next instant at which the same data reads differently without a write: the
next full hour (ages are shown in hours, "stale" marks and the dates charts run to by day), the next stated
price start or end (a source such as genai-prices announces a price from a future date; the page must show it
from that instant on) and the next moment a source's newest data passes its freshness limit (a dead worker
writes nothing, and that is exactly when the overview must say "stale"). No time-to-live otherwise.

The per-user part of the page (the account corner: the user's name and the sign-out form with its CSRF
token) is rendered for each request into the cached HTML at a marker, so one user's name or token is never
served to another. Downloads (``?download=``) and anything but a 200 HTML answer pass through uncached.
``TOKENWATCH_PAGE_CACHE=0`` turns the cache off.

Computed at ingest time: when a transaction that wrote data commits (on PostgreSQL, with real workers and a
shared cache, i.e. Redis through ``CACHE_URL``), a Celery task computes the pages of the navigation for the
new data version, so the first visitor after an ingest gets a kept page too. Several commits in a row queue
several tasks; each one that finds the data version already moved on leaves the work to the last.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import Min, Q
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import resolve
from django.utils import timezone

from apps.common import dataversion

log = logging.getLogger(__name__)
View = Callable[..., HttpResponse]
# The pages the navigation links to, as a visitor first opens them.
WARM_PATHS = ["/", "/trends/", "/compare/", "/advice/", "/benchmarks/", "/market/", "/models/", "/providers/",
              "/sources/"]
WARM_DELAY_S = 5  # a burst of commits (seven files in a row) is warmed once, after the last
ACCOUNT_MARKER = b"<!--tokenwatch:account-->"
CACHE_ALIAS = "default"


@dataclass(frozen=True)
class CachedPage:
    content: bytes  # with ACCOUNT_MARKER where the account corner goes
    content_type: str
    valid_until: datetime


def enabled() -> bool:
    return bool(getattr(settings, "TOKENWATCH_PAGE_CACHE", True))


def user_kind(request: HttpRequest) -> str:
    user = request.user
    if not user.is_authenticated:
        return "anonymous"
    return "staff" if user.is_staff else "user"


def page_key(request: HttpRequest, version: int) -> str:
    query = "&".join(f"{k}={v}" for k, values in sorted(request.GET.lists()) for v in values)
    raw = f"{version}\n{user_kind(request)}\n{request.path}\n{query}"
    return "page:" + hashlib.sha256(raw.encode()).hexdigest()


def next_change(now: datetime) -> datetime:
    """The next instant after ``now`` at which the stored data reads differently without a write: the next full
    hour, or an earlier stated start or end of a price, or a source's data turning stale."""
    from apps.pricing.models import Price
    from apps.sources.models import Source
    from apps.sources.selectors import sources_freshness

    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    bounds = Price.objects.aggregate(start=Min("effective_from", filter=Q(effective_from__gt=now)),
                                     end=Min("effective_to", filter=Q(effective_to__gt=now)))
    limits = dict(Source.objects.values_list("pk", "freshness_hours"))
    stale_at = [fresh.data_as_of + timedelta(hours=limits[pk]) for pk, fresh in sources_freshness().items()
                if fresh.data_as_of is not None and limits.get(pk) is not None]
    return min([hour, *(b for b in bounds.values() if b is not None), *(t for t in stale_at if t > now)])


def account_html(request: HttpRequest) -> bytes:
    return render_to_string("_account.html", request=request).encode()


def cached_page(view: View) -> View:
    """Serve ``view``'s HTML from the cache while the data version is the same, until :func:`next_change`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not enabled() or request.method not in ("GET", "HEAD") or "download" in request.GET:
            return view(request, *args, **kwargs)
        cache = caches[CACHE_ALIAS]
        key = page_key(request, dataversion.current())
        now = timezone.now()
        hit: CachedPage | None = cache.get(key)
        if hit is not None and now < hit.valid_until:
            response = HttpResponse(hit.content.replace(ACCOUNT_MARKER, account_html(request)),
                                    content_type=hit.content_type)
            response["X-Page-Cache"] = "hit"
            return response
        valid_until = next_change(now)  # before the page reads the data: a boundary passed meanwhile is not missed
        request.page_cache_marker = True  # base.html writes the marker instead of the account corner
        try:
            response = view(request, *args, **kwargs)
        finally:  # a view that raised (a 404) is answered by an error page, which needs its own corner
            request.page_cache_marker = False
        content_type = response.get("Content-Type", "")
        if (response.status_code != 200 or getattr(response, "streaming", False)
                or not content_type.startswith("text/html") or ACCOUNT_MARKER not in response.content):
            if ACCOUNT_MARKER in getattr(response, "content", b""):
                response.content = response.content.replace(ACCOUNT_MARKER, account_html(request))
            return response
        timeout = max(1, int((valid_until - now).total_seconds()) + 1)
        cache.set(key, CachedPage(response.content, content_type, valid_until), timeout)
        response.content = response.content.replace(ACCOUNT_MARKER, account_html(request))
        response["X-Page-Cache"] = "miss"
        return response

    return wrapper


def warm(*, version: int | None = None, paths: list[str] | None = None) -> int:
    """Compute and keep ``paths`` (the navigation's pages) for anonymous visitors (when the pages are public)
    and signed-in analysts, at the current data version; returns how many pages were computed. Skipped when
    the data version is no longer ``version`` (a later commit queued its own warm-up)."""
    if not enabled() or (version is not None and dataversion.current() != version):
        return 0
    # django.test's request builder, imported here: not at start-up of every web process (this module is
    # imported by every page), only by the worker task that warms pages.
    from django.test import RequestFactory

    from .access import public_allowed

    visitors = [get_user_model()(username="page-cache-warm")]  # an unsaved user: signed in, not staff
    if public_allowed():
        visitors.append(AnonymousUser())
    factory, computed = RequestFactory(), 0
    for path in paths or WARM_PATHS:
        match = resolve(path)
        view = cached_page(getattr(match.func, "__wrapped__", match.func))  # past sign-in and throttle
        for user in visitors:
            request = factory.get(path)
            request.user = user
            request.resolver_match = match
            response = view(request, *match.args, **match.kwargs)
            computed += response.get("X-Page-Cache") == "miss"
    return computed


def queue_warm(sender: object, using: str = "default", **kwargs: object) -> None:
    """After data was committed: warm the pages on a worker, where that helps (a cache the web processes
    share, tasks not run in-process)."""
    if (not enabled() or getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
            or isinstance(caches[CACHE_ALIAS], LocMemCache)):
        return
    from .tasks import pages_warm

    try:
        pages_warm.apply_async(kwargs={"version": dataversion.current(using)}, countdown=WARM_DELAY_S)
    except Exception:  # a warm-up is a hint: the broker being down must not fail the commit's caller
        log.warning("could not queue the page warm-up", exc_info=True)
