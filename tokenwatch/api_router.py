"""API routes: /api/v1/ resources, /api/schema/, /api/docs/, /api/redoc/, /feeds/.

Resource names are plural and kebab-case; every list answers JSON (cursor-paginated)
and CSV (``?format=csv`` or ``Accept: text/csv``).
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.api_common.views import api_not_found
from apps.benchmarks.api.views import (
    BenchmarkRunViewSet,
    BreakEvenView,
    HardwarePriceViewSet,
    PriceTrendView,
    SelfHostingCostView,
)
from apps.catalog.api.views import ModelAliasViewSet, ModelViewSet, OfferingViewSet, ProviderViewSet
from apps.market.api.views import MarketCagrView, MarketProjectionView, SegmentViewSet, SizeEstimateViewSet
from apps.pricing.api.views import (
    CompareView,
    CurrentPriceViewSet,
    MarketDisagreementViewSet,
    MarketPriceViewSet,
    PriceChangeViewSet,
    PriceViewSet,
)
from apps.pricing.feeds import PriceChangeFeed
from apps.sources.api.views import IngestRunViewSet, RejectionViewSet, SnapshotViewSet, SourceViewSet, UploadView

# Computed endpoints listed on the API root beside the tables (name in the root -> URL name).
COMPUTED = {
    "compare": "compare",
    "market-projections": "market-projections",
    "economics/self-hosting-costs": "economics-self-hosting-costs",
    "economics/break-even": "economics-break-even",
    "economics/price-trend": "economics-price-trend",
    "economics/market-cagrs": "economics-market-cagrs",
    "uploads": "uploads",
}


class Router(DefaultRouter):
    include_format_suffixes = False  # ?format=csv instead: model slugs contain dots

    def get_api_root_view(self, api_urls=None):
        list_name = self.routes[0].name
        root = {prefix: list_name.format(basename=basename) for prefix, _, basename in self.registry}
        return self.APIRootView.as_view(api_root_dict={**root, **COMPUTED})


router = Router()
for prefix, viewset in [
    ("providers", ProviderViewSet),
    ("models", ModelViewSet),
    ("aliases", ModelAliasViewSet),
    ("offerings", OfferingViewSet),
    ("prices", PriceViewSet),
    ("current-prices", CurrentPriceViewSet),
    ("price-changes", PriceChangeViewSet),
    ("market-prices", MarketPriceViewSet),
    ("disagreements", MarketDisagreementViewSet),
    ("benchmarks", BenchmarkRunViewSet),
    ("hardware-prices", HardwarePriceViewSet),
    ("market-segments", SegmentViewSet),
    ("market-estimates", SizeEstimateViewSet),
    ("sources", SourceViewSet),
    ("snapshots", SnapshotViewSet),
    ("ingest-runs", IngestRunViewSet),
    ("rejections", RejectionViewSet),
]:
    router.register(prefix, viewset, basename=prefix)

api_v1 = [
    path("compare/", CompareView.as_view(), name="compare"),
    path("uploads/", UploadView.as_view(), name="uploads"),
    path("market-projections/", MarketProjectionView.as_view(), name="market-projections"),
    # Token economics (read-only, computed on request).
    path("economics/self-hosting-costs/", SelfHostingCostView.as_view(), name="economics-self-hosting-costs"),
    path("economics/break-even/", BreakEvenView.as_view(), name="economics-break-even"),
    path("economics/price-trend/", PriceTrendView.as_view(), name="economics-price-trend"),
    path("economics/market-cagrs/", MarketCagrView.as_view(), name="economics-market-cagrs"),
    *router.urls,
    # Last: anything else under /api/v1/ is a JSON 404 (or a redirect to the slash-ended URL).
    re_path(r"^(?P<path>[\s\S]*)$", api_not_found),
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    # Log in / out links of the browsable API (session auth for the browser).
    path("api/auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("feeds/price-changes/", PriceChangeFeed(), name="feed-price-changes"),
]
