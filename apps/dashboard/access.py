"""Who may see the dashboard: signed-in analysts and staff; anyone while the demo setting allows it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from apps.api_common.throttling import throttle_anonymous_pages

from .pagecache import cached_page

View = Callable[..., HttpResponse]


def public_allowed() -> bool:
    # Read at request time, so tests and a running demo can switch it without a restart.
    return bool(getattr(settings, "TOKENWATCH_PUBLIC_API", False))


def analyst_view(view: View) -> View:
    """Let signed-in users through; anonymous ones only when TOKENWATCH_PUBLIC_API is on, else to the login page."""

    # Anonymous visitors of a public page count (issue 12), cached pages too; the page itself is computed once per
    # version of the data (issue 14, apps.dashboard.pagecache).
    throttled = throttle_anonymous_pages(cached_page(view))

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated and not public_allowed():
            return redirect_to_login(request.get_full_path())
        return throttled(request, *args, **kwargs)

    return wrapper
