"""Who may do what: reads need a user unless the API is public; writes are for staff."""

from __future__ import annotations

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


def api_is_public() -> bool:
    # Read at request time, so a deployment flag (and override_settings in tests) applies at once.
    return bool(getattr(settings, "TOKENWATCH_PUBLIC_API", False))


class PublicReadStaffWrite(BasePermission):
    """Reads: any authenticated user, or anyone when TOKENWATCH_PUBLIC_API is on. Writes: staff only."""

    message = "Sign in or send 'Authorization: Token <key>' (python manage.py api_token USERNAME prints one)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if request.method in SAFE_METHODS:
            return api_is_public() or bool(user and user.is_authenticated)
        return bool(user and user.is_authenticated and user.is_staff)


class StaffRead(BasePermission):
    """Reads for staff only, even on a public demo: whole third-party documents (raw snapshots), whose
    licences tokenwatch may not redistribute. Anonymous: 401; a signed-in non-staff user: 403."""

    message = "Downloading raw snapshots is for staff (a signed-in staff user or a staff user's API token)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and request.method in SAFE_METHODS)


class StaffOnly(BasePermission):
    message = "Only staff may do this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
