"""Atom feed of price changes at /feeds/price-changes/, filtered like /api/v1/price-changes/.

``?provider=openai&model=gpt-4o&min_percent_change=10``: the same FilterSet as
the API and the pages, so an invalid parameter is a 400 naming it. Readable by
whoever may read the API (a signed-in user, an API token, or anyone when the
API is public).
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from rest_framework.exceptions import AuthenticationFailed

from apps.api_common.authentication import ApiTokenAuthentication
from apps.api_common.permissions import api_is_public

from .filtersets import PriceChangeFilterSet
from .models import PriceChange
from .selectors import price_changes_recent, price_changes_with_context

FEED_ITEMS = 100


def _may_read(request: HttpRequest) -> bool:
    if api_is_public() or request.user.is_authenticated:
        return True
    try:
        return ApiTokenAuthentication().authenticate(request) is not None
    except AuthenticationFailed:
        return False


class PriceChangeFeed(Feed):
    feed_type = Atom1Feed
    title = "tokenwatch: LLM price changes"
    subtitle = "Each time a token price moved (USD per 1M tokens), newest first, with its source."
    author_name = "tokenwatch"

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _may_read(request):
            response = JsonResponse({"detail": "Sign in or send 'Authorization: Token <key>'."}, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        filterset = PriceChangeFilterSet(request.GET, queryset=PriceChange.objects.all())
        if not filterset.is_valid():
            return JsonResponse({name: [e["message"] for e in errors]
                                 for name, errors in filterset.errors.get_json_data().items()}, status=400)
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request: HttpRequest, *args, **kwargs) -> list[PriceChange]:
        filterset = PriceChangeFilterSet(request.GET, queryset=price_changes_with_context())
        return price_changes_recent(filterset.qs, limit=FEED_ITEMS)

    def link(self) -> str:
        return reverse("feed-price-changes")

    def items(self, obj: list[PriceChange]) -> list[PriceChange]:
        return obj

    def item_title(self, item: PriceChange) -> str:
        offering = item.offering
        percent = f" ({item.percent_change:+}%)" if item.percent_change is not None else ""
        return (f"{offering.provider.name} {offering.source_model_id} {item.component}: "
                f"{_usd(item.old_usd_per_mtok)} → {_usd(item.new_usd_per_mtok)} USD per 1M tokens{percent}")

    def item_description(self, item: PriceChange) -> str:
        offering = item.offering
        model = offering.alias.model.slug if offering.alias.model_id else "unresolved"
        where = ", ".join(p for p in (offering.region, offering.service_tier) if p)
        return (f"{offering.provider.name} ({offering.provider.kind}) {offering.source_model_id} "
                f"[model {model}; {where}]: {item.component} changed on {item.changed_at:%Y-%m-%d} from "
                f"{_usd(item.old_usd_per_mtok)} to {_usd(item.new_usd_per_mtok)} USD per 1M tokens. "
                f"Source: {offering.source.key}, snapshot {item.snapshot_id} observed "
                f"{item.snapshot.observed_at:%Y-%m-%d %H:%M} UTC.")

    def item_link(self, item: PriceChange) -> str:
        return f"{reverse('api:prices-list')}?offering={item.offering_id}"

    def item_guid(self, item: PriceChange) -> str:
        # Stable across history rebuilds (row ids are not): offering, component, moment.
        return f"tag:tokenwatch,2024:price-change/{item.offering_id}/{item.component}/{item.changed_at:%Y%m%dT%H%M%SZ}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: PriceChange):
        return item.changed_at

    def item_updateddate(self, item: PriceChange):
        return item.changed_at


def _usd(value) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
