"""The embedded default's shared cache: Django's DatabaseCache with an atomic ``incr``.

Throttle counters must be shared by every process that serves requests (gunicorn workers, machines):
a per-process LocMemCache multiplies the limits by the worker count (issue 12). With no Redis
configured, the one thing every process already shares is the database, so the embedded default is
a cache table in it (``createcachetable``, run by ``migrate``; see ``apps.api_common.apps``).
FileBasedCache would share too, but only on one machine, and its ``add``/``incr`` are unlocked
read-modify-writes that lose counts under concurrency.

Django's DatabaseCache ``add`` is already safe between processes (the insert of an existing key
fails on the primary key and returns False), but its ``incr`` is BaseCache's get-then-set: two
workers can read 7 and both write 8. Here ``incr`` runs in one transaction that holds the row: a
``SELECT ... FOR UPDATE`` where the database has row locks (PostgreSQL), and on SQLite the
``BEGIN IMMEDIATE`` that settings.base asks for, which takes the database's write lock first.
"""

from __future__ import annotations

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


class AtomicDatabaseCache(DatabaseCache):
    """DatabaseCache whose ``incr`` cannot lose an increment to a concurrent one."""

    def add(self, key: str, value: object, timeout: float | None = DEFAULT_TIMEOUT,
            version: int | None = None) -> bool:
        # Django's add INSERTs over a live key and lets the primary key refuse it: on every throttled request
        # after a window's first, a failed statement (an ERROR line in PostgreSQL's log) and a rollback. A
        # look first; two processes racing past it on a new window still meet the primary key.
        if self.has_key(key, version=version):
            return False
        return super().add(key, value, timeout, version=version)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        with transaction.atomic(using=db):
            if connection.features.has_select_for_update:
                quote_name = connection.ops.quote_name
                with connection.cursor() as cursor:
                    # The table name is the cache's LOCATION from settings, quoted; the key is a parameter.
                    cursor.execute(
                        f"SELECT 1 FROM {quote_name(self._table)} WHERE {quote_name('cache_key')} = %s FOR UPDATE",  # noqa: S608
                        [self.make_and_validate_key(key, version=version)],
                    )
            # Under the lock, BaseCache's get-then-set is one step for every other process.
            return super().incr(key, delta, version=version)
