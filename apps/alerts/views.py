"""Watch pages (signed-in): list, create, detail with alerts and deliveries, pause/resume, delete.

Another user's watch is a 404 (never a 403 that confirms it exists)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .filtersets import WatchFilterSet
from .forms import WatchForm
from .models import Watch


@login_required
def watch_list(request: HttpRequest) -> HttpResponse:
    filterset = WatchFilterSet(request.GET, queryset=selectors.watches_of(user=request.user))
    return render(request, "alerts/watch_list.html", {"watches": filterset.qs, "filterset": filterset})


@login_required
def watch_create(request: HttpRequest) -> HttpResponse:
    form = WatchForm(request.POST or None, instance=Watch(owner=request.user))
    if request.method == "POST" and form.is_valid():  # is_valid runs Watch.clean (target, condition, guard)
        watch = services.watch_save(watch=form.save(commit=False))
        messages.success(request, f"Watch “{watch}” created.")
        return redirect("alerts:watch-detail", watch.pk)
    return render(request, "alerts/watch_form.html", {"form": form})


@login_required
def watch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(Watch.objects.select_related("model", "provider"), pk=pk, owner=request.user)
    return render(request, "alerts/watch_detail.html", {
        "watch": watch, "alerts": selectors.watch_alerts(watch=watch),
        "deliveries": selectors.watch_deliveries(watch=watch)})


@login_required
@require_POST
def watch_pause(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(Watch, pk=pk, owner=request.user)
    paused = request.POST.get("paused", "1") == "1"
    services.watch_set_paused(watch=watch, paused=paused)
    messages.success(request, f"Watch “{watch}” {'paused' if paused else 'resumed'}.")
    if request.POST.get("next") == "list":
        return redirect("alerts:watch-list")
    return redirect("alerts:watch-detail", watch.pk)


@login_required
def watch_delete(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(Watch, pk=pk, owner=request.user)
    if request.method == "POST":
        name = str(watch)
        services.watch_delete(watch=watch)
        messages.success(request, f"Watch “{name}” deleted.")
        return redirect("alerts:watch-list")
    return render(request, "alerts/watch_delete.html", {"watch": watch})
