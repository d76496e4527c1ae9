"""API routes: /api/v1/ resources, /api/schema/, /api/docs/, /api/redoc/, /feeds/.

Filled in by the API issue.
"""

from django.urls import path  # noqa: F401

urlpatterns: list = []
