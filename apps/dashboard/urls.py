from django.urls import path

from .pages import advice, benchmarks, compare, detail, home, market, models, providers, sources, trends

urlpatterns = [
    path("", home.home, name="home"),
    path("trends/", trends.trends, name="trends"),
    path("compare/", compare.compare, name="compare"),
    path("advice/", advice.advice, name="advice"),
    path("benchmarks/", benchmarks.benchmarks, name="benchmarks"),
    path("market/", market.market, name="market"),
    path("sources/", sources.sources, name="sources"),
    path("models/", models.model_list, name="model-list"),
    path("models/<str:slug>/", detail.model_detail, name="model-detail"),
    path("providers/", providers.provider_list, name="provider-list"),
    path("providers/<slug:slug>/", detail.provider_detail, name="provider-detail"),
    path("snapshots/<int:pk>/raw/", detail.snapshot_raw, name="snapshot-raw"),
]
