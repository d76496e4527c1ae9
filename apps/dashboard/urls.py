from django.urls import path

from . import views
from .pages import models

urlpatterns = [
    path("", views.home, name="home"),
    path("trends/", views.trends, name="trends"),
    path("compare/", views.compare, name="compare"),
    path("benchmarks/", views.benchmarks, name="benchmarks"),
    path("market/", views.market, name="market"),
    path("sources/", views.sources, name="sources"),
    path("models/", models.model_list, name="model-list"),
    path("models/<str:slug>/", views.model_detail, name="model-detail"),
    path("providers/", views.provider_list, name="provider-list"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider-detail"),
    path("snapshots/<int:pk>/raw/", views.snapshot_raw, name="snapshot-raw"),
]
