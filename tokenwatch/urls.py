from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # REST API, OpenAPI schema and docs, Atom feeds (tokenwatch/api_router.py).
    path("", include("tokenwatch.api_router")),
    path("", include("apps.quality.urls")),
    path("", include("apps.alerts.urls")),
    path("", include("apps.dashboard.urls")),
]
