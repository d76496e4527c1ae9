from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "apps.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        from apps.common.dataversion import data_committed

        from .pagecache import queue_warm

        data_committed.connect(queue_warm, dispatch_uid="apps.dashboard.pagecache.queue_warm")
