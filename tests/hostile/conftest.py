"""The API's staff client for upload tests (and its per-test throttle reset)."""

from tests.api.conftest import _fresh_throttles, client_staff, staff

__all__ = ["_fresh_throttles", "client_staff", "staff"]
