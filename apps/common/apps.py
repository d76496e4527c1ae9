"""apps.common as an app only so that its database connection set-up (apps.common.db) is connected once."""

from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from .db import connect_signals

        connect_signals()
