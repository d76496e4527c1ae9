"""Throttles per token (user) and per anonymous client, rates read from settings at request time.

State lives in Django's cache framework (LocMemCache by default, Redis when
CACHE_URL is set), so a 429 carries ``Retry-After`` and nothing needs Redis.
A rate of None (``TOKENWATCH_API_THROTTLE_*=off``) turns that throttle off.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonThrottle(AnonRateThrottle):
    """Anonymous requests, per client address."""

    def get_rate(self) -> str | None:
        return settings.TOKENWATCH_API_THROTTLE_RATES.get(self.scope)


class UserThrottle(UserRateThrottle):
    """Authenticated requests, per user (one API token each); anonymous ones are AnonThrottle's alone."""

    def get_rate(self) -> str | None:
        return settings.TOKENWATCH_API_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        # DRF's UserRateThrottle also counts anonymous clients by address, which would hold them to
        # the lower of the two rates.
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)
