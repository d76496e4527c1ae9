"""/api/v1/probe-targets/ and /api/v1/probe-samples/ (mounted by tokenwatch/api_router.py).

A router of their own: probe targets are staff-only, so they stay out of the public lists' registry."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from .views import ProbeSampleViewSet, ProbeTargetViewSet


class Router(SimpleRouter):
    include_format_suffixes = False


router = Router()
router.register("probe-targets", ProbeTargetViewSet, basename="probe-targets")
router.register("probe-samples", ProbeSampleViewSet, basename="probe-samples")
urlpatterns = router.urls
