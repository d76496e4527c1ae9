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

# Error pages in the site's frame, JSON under /api/ (tokenwatch/errors.py).
handler400 = "tokenwatch.errors.bad_request"
handler403 = "tokenwatch.errors.permission_denied"
handler404 = "tokenwatch.errors.page_not_found"
handler500 = "tokenwatch.errors.server_error"
