"""The error pages: 400, 403, 404 and 500 in the site's own frame, JSON under /api/.

Django's defaults are a bare "Not Found" with no way back and without the reason our views give
(``Http404("No canonical model 'x'.")``). Here a page says what was not found or refused, offers the
nearest real pages when the view named them (``apps.dashboard.errors.Missing``), and keeps the
navigation. Under /api/ a program gets ``{"detail": ...}`` with the status, as from DRF. A 404 from the
URL resolver (no such path) shows no reason: its message is Django's internals, not ours.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404
from django.views.decorators.csrf import requires_csrf_token
from rest_framework import exceptions as api

API_PREFIXES = ("/api/",)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def _reason(exception: Exception | None) -> str:
    """The message a view wrote for the reader, or "" (the resolver's and Django's own are not for readers)."""
    if exception is None or isinstance(exception, Resolver404) or not exception.args:
        return ""
    message = exception.args[0]
    return message if isinstance(message, str) else ""


def _detail(default: object, reason: str = "") -> dict[str, str]:
    """The API's error body, with DRF's own wording when the view gave no reason."""
    return {"detail": reason or str(default)}


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    reason = _reason(exception)
    if _wants_json(request):
        return JsonResponse(_detail(api.NotFound.default_detail, reason), status=404)
    return render(request, "404.html", {"reason": reason, "suggestions": getattr(exception, "suggestions", []),
                                        "request_path": request.path}, status=404)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # SuspiciousOperation and its kin (a disallowed Host, too many query fields): their messages name
    # settings and internals, so the reader gets what to do, not the message.
    if _wants_json(request):
        return JsonResponse(_detail(api.ParseError.default_detail), status=400)
    return render(request, "400.html", status=400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    reason = _reason(exception)
    if _wants_json(request):
        return JsonResponse(_detail(api.PermissionDenied.default_detail, reason), status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered with no context processors and nothing from the database: whatever failed may fail again.
    if _wants_json(request):
        return JsonResponse({"detail": "Server error: tokenwatch could not answer this request. It has been "
                                       "logged; try again, and report it if it persists."}, status=500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
