"""/api/v1/watches/ and /api/v1/deliveries/ (mounted by tokenwatch/api_router.py)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .views import DeliveryViewSet, WatchViewSet


class Router(SimpleRouter):
    include_format_suffixes = False


router = Router()
router.register("watches", WatchViewSet, basename="watches")
router.register("deliveries", DeliveryViewSet, basename="deliveries")
urlpatterns = router.urls
