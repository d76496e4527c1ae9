"""The project's URLs plus two views that fail, to see the 500 pages (tests/dashboard/test_error_pages.py)."""

from django.urls import path

from tokenwatch.urls import handler400, handler403, handler404, handler500  # noqa: F401  (read from ROOT_URLCONF)
from tokenwatch.urls import urlpatterns as project


def boom(request):
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [path("boom/", boom), path("api/v1/boom/", boom), *project]
