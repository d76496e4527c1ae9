"""PostgreSQL connection set-up: timestamps read by psycopg's C loader.

Django registers its own ``timestamptz`` loader on every psycopg 3 connection
(``django.db.backends.postgresql.psycopg_any.BaseTzLoader``) to attach the
connection's time zone. It subclasses psycopg's *pure-Python* loader, so every
timestamp read goes through Python's string parsing even when psycopg's C
extension is installed: reading 5,724 prices x 4 timestamp columns took 98 ms
that way and 13 ms with the C loader, a large share of a dashboard page, an API
page and an ingest's read-back.

With ``USE_TZ`` and the connection in UTC (tokenwatch's settings: TIME_ZONE =
"UTC"), the C loader returns the same instants with the same ``datetime.UTC``
tzinfo, so Django's loader adds nothing. This one takes its place on those
connections only; any other time zone keeps Django's.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.db.backends.signals import connection_created


def _c_timestamptz_loader() -> type | None:
    """psycopg's C ``timestamptz`` text loader, or None without the C extension."""
    import psycopg
    from psycopg.pq import Format

    if psycopg.pq.__impl__ not in ("c", "binary"):
        return None
    return psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)


def _utc_loader_class(c_loader: type) -> type:
    from psycopg.adapt import Loader

    class UtcTimestamptzLoader(Loader):
        # Django's cursor() compares this with the connection's time zone and, when they agree, keeps the
        # connection's loader rather than registering its own on the cursor.
        timezone = UTC

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            # The C loader's bound method, called directly: no Python frame per value.
            self.load = c_loader(oid, context).load  # type: ignore[method-assign]

        def load(self, data: Any) -> Any:  # replaced per instance in __init__
            raise NotImplementedError

    return UtcTimestamptzLoader


_LOADER: type | None = None


def use_c_timestamp_loader(sender: Any, connection: Any, **kwargs: Any) -> None:
    global _LOADER
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    if _LOADER is None:
        c_loader = _c_timestamptz_loader()
        if c_loader is None:
            return
        _LOADER = _utc_loader_class(c_loader)
    connection.connection.adapters.register_loader("timestamptz", _LOADER)


def connect_signals() -> None:
    connection_created.connect(use_c_timestamp_loader, dispatch_uid="common.c_timestamp_loader")
