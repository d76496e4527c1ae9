"""API routes: /api/v1/ resources, /api/schema/, /api/docs/, /api/redoc/, /feeds/.

Resource names are plural and kebab-case; every list answers JSON (cursor-paginated)
and CSV (``?format=csv`` or ``Accept: text/csv``).
"""

from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from apps.alerts.api.urls import urlpatterns as alert_urls
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
from apps.probes.api.urls import urlpatterns as probe_urls
from apps.routing.api.views import AdviceView
from apps.sources.api.views import IngestRunViewSet, RejectionViewSet, SnapshotViewSet, SourceViewSet, UploadView

# Computed endpoints listed on the API root beside the tables (name in the root -> URL name).
COMPUTED = {
    "compare": "compare",
    "advice": "advice",
    "market-projections": "market-projections",
    "economics/self-hosting-costs": "economics-self-hosting-costs",
    "economics/break-even": "economics-break-even",
    "economics/price-trend": "economics-price-trend",
    "economics/market-cagrs": "economics-market-cagrs",
    "uploads": "uploads",
}


# The docs pages may load only from this server (issue 13: they must work offline). The browser enforces it,
# so an asset that reaches out anyway (ReDoc's sidebar always draws Redocly's logo from cdn.redoc.ly) is
# refused on the spot instead of hanging on a machine with no internet. Inline script and style: both
# templates configure the UI inline; ReDoc's search runs in a worker started from a blob: URL.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


class SameOriginDocs:
    """Adds DOCS_CSP to a drf-spectacular docs view's page."""

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(SameOriginDocs, SpectacularSwaggerView):
    pass


class RedocView(SameOriginDocs, SpectacularRedocView):
    # Our template drops drf-spectacular's Google Fonts links (the fonts are the system's: REDOC_UI_SETTINGS).
    template_name = "api/redoc.html"


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
    path("advice/", AdviceView.as_view(), name="advice"),
    path("uploads/", UploadView.as_view(), name="uploads"),
    path("market-projections/", MarketProjectionView.as_view(), name="market-projections"),
    # Token economics (read-only, computed on request).
    path("economics/self-hosting-costs/", SelfHostingCostView.as_view(), name="economics-self-hosting-costs"),
    path("economics/break-even/", BreakEvenView.as_view(), name="economics-break-even"),
    path("economics/price-trend/", PriceTrendView.as_view(), name="economics-price-trend"),
    path("economics/market-cagrs/", MarketCagrView.as_view(), name="economics-market-cagrs"),
    *router.urls,
    *probe_urls,  # apps/probes/api/urls.py: staff-only probe targets, probe samples
    *alert_urls,  # apps/alerts/api/urls.py: one's own watches and their deliveries
    # Last: anything else under /api/v1/ is a JSON 404 (or a redirect to the slash-ended URL).
    re_path(r"^(?P<path>[\s\S]*)$", api_not_found),
]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    # Log in / out links of the browsable API (session auth for the browser).
    path("api/auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("feeds/price-changes/", PriceChangeFeed(), name="feed-price-changes"),
]
