"""apps.common as an app: its database connection set-up (apps.common.db, apps.common.dataversion) is connected
once, and the data version's table and sequence are migrated."""

from __future__ import annotations

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "apps.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from . import dataversion, lookups
        from .db import connect_signals

        connect_signals()
        dataversion.connect_signals()
        lookups.register()
