"""api_common as an app only so that ``migrate`` also creates the cache table the throttles count in."""

from __future__ import annotations

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def _create_cache_table(*, using: str = "default", **kwargs: object) -> None:
    # Idempotent: createcachetable skips tables that exist. Run after every migrate, so a database that
    # switches from Redis (CACHE_URL) to the embedded default gets its table from the next migrate.
    call_command("createcachetable", database=using, verbosity=0)


class ApiCommonConfig(AppConfig):
    name = "apps.api_common"
    label = "api_common"
    verbose_name = "API common"

    def ready(self) -> None:
        # Once per migrate, not once per migrated app.
        post_migrate.connect(_create_cache_table, sender=self, dispatch_uid="api_common.createcachetable")
