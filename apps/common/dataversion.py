"""The data version: a number that moves whenever a write to the data the pages show is committed.

Pages are pure functions of the data (and of the day), and the data changes only when something writes it: an
ingest, an import, a probe run, a curator in the admin. A cache keyed by the data version therefore never
serves a page computed before the newest committed write, without any time-to-live (issue 14: "computed at
ingest time, not cached by time").

What counts as a write: every INSERT, UPDATE, DELETE or TRUNCATE that Django's cursors send to a table not
in :data:`NOT_DATA` (sessions, throttle counters, Celery beat's bookkeeping, users, watches and their
deliveries: none of them is on a dashboard page). A database execute wrapper, installed on every new
connection, looks at each statement, so no write path can forget to say so: the ORM, ``QuerySet.update``,
raw SQL through ``connection.cursor()``, ``flush``. COPY goes through psycopg's own cursor, so the bulk
writers (apps.common.bulk) call :func:`changed` themselves.

Where the number lives:

- PostgreSQL: a sequence. ``nextval`` takes no lock and is not undone by a rollback, so no writer waits on
  another for it (a counter row would hold a lock from a transaction's first write to its commit and
  serialise every ingest). It moves at the write, so a reader cannot key a page computed from a transaction
  in flight as current: the data the reader sees is older than the number, and the number moves once more
  when the transaction commits (``on_commit``), so that page is never served again. Within one transaction
  the first write draws a number and later writes draw another only when this connection has read the
  version since (:func:`seen`): a reader on another connection does not see the writes until they commit,
  and the commit's number ends every page keyed by a number drawn before it, so more numbers would add only
  round trips (about 30 an ingest, 4 % of its time: bench/README.md, issue 14). A page this connection
  computes inside its own transaction sees its writes so far, and is ended by the next one.
- SQLite (the embedded default): a row of :class:`apps.common.models.DataVersion`, updated in the writing
  transaction itself: SQLite has one writer at a time, and readers see the new number with the new data.
  It is set to at least the wall clock in microseconds, so it never goes back to a number an earlier
  database (flushed, or rolled back in a test) already used.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import Signal

SEQUENCE = "common_data_version_seq"
# Tables whose rows no dashboard page shows: writing them is not a change of the data.
NOT_DATA = ("django_session", "django_celery_beat_", "django_celery_results_", "django_admin_log", "auth_",
            "authtoken_", "tokenwatch_cache", "common_dataversion", "alerts_", "django_migrations")
# Sent after a transaction that wrote data commits on PostgreSQL (where real workers run), with ``using``:
# e.g. the dashboard computes its default pages ahead of the first visitor (apps.dashboard.pagecache.warm).
data_committed = Signal()
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+"?([A-Za-z0-9_]+)', re.I)


def is_data_write(sql: str) -> bool:
    match = _WRITE.match(sql)
    return bool(match) and not match.group(1).lower().startswith(NOT_DATA)


def current(using: str = "default") -> int:
    """The data version now (0 before the first write)."""
    connection = connections[using]
    seen(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # last_value is the newest number any session drew; is_called is false before the first nextval.
            cursor.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {SEQUENCE}")  # noqa: S608
        else:
            cursor.execute("SELECT version FROM common_dataversion WHERE id = 1")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def seen(connection: BaseDatabaseWrapper) -> None:
    """Say that this connection read the data version (to key something by it): its next write of the data
    draws a new number even inside the transaction that drew the last one (see the module's docstring)."""
    connection._data_version_read = True  # type: ignore[attr-defined]


def _bump(connection: BaseDatabaseWrapper) -> None:
    connection._data_version_read = False  # type: ignore[attr-defined]
    # The raw DB-API cursor: this statement is not itself a data write, and must not come back through the
    # wrapper below.
    cursor = connection.connection.cursor()
    try:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{SEQUENCE}')")
        else:
            cursor.execute(
                "INSERT INTO common_dataversion (id, version) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET version = MAX(version + 1, excluded.version)",
                [time.time_ns() // 1000])
    finally:
        cursor.close()


def changed(using: str = "default") -> None:
    """Say that data was written on this connection (called by the execute wrapper and by COPY writers)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        _bump(connection)
        return
    # Once more when the transaction commits (see the module's docstring); once per transaction. A savepoint
    # rolled back takes its callbacks with it, so its writes' successors draw again.
    committing = any(getattr(func, "_data_version_commit", False) for _sids, func, _robust in connection.run_on_commit)
    if not committing or getattr(connection, "_data_version_read", True):
        _bump(connection)
    if not committing:
        def after_commit() -> None:
            _bump(connections[using])
            data_committed.send(sender=None, using=using)

        after_commit._data_version_commit = True  # type: ignore[attr-defined]
        transaction.on_commit(after_commit, using=using)


_migrating: set[str] = set()  # aliases being migrated: the sequence or table may not exist yet


def _wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    alias = context["connection"].alias
    if isinstance(sql, str) and alias not in _migrating and is_data_write(sql):
        changed(alias)
    return result


def _pre_migrate(sender: object, using: str = "default", **kwargs: object) -> None:
    _migrating.add(using)


def _post_migrate(sender: object, using: str = "default", **kwargs: object) -> None:
    # Sent once per app after the run: the first one ends the pause, and says the data may have changed
    # (a data migration writes data too).
    if using in _migrating:
        _migrating.discard(using)
        changed(using)


def _install(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if _wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_wrapper)


def connect_signals() -> None:
    from django.db.models.signals import post_migrate, pre_migrate

    connection_created.connect(_install, dispatch_uid="apps.common.dataversion")
    pre_migrate.connect(_pre_migrate, dispatch_uid="apps.common.dataversion")
    post_migrate.connect(_post_migrate, dispatch_uid="apps.common.dataversion")
