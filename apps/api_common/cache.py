"""The embedded default's shared cache: Django's DatabaseCache with an atomic ``incr``.

Throttle counters must be shared by every process that serves requests (gunicorn workers, machines):
a per-process LocMemCache multiplies the limits by the worker count (issue 12). With no Redis
configured, the one thing every process already shares is the database, so the embedded default is
a cache table in it (``createcachetable``, run by ``migrate``; see ``apps.api_common.apps``).
FileBasedCache would share too, but only on one machine, and its ``add``/``incr`` are unlocked
read-modify-writes that lose counts under concurrency.

Django's DatabaseCache ``add`` is already safe between processes (the insert of an existing key
fails on the primary key and returns False), but its ``incr`` is BaseCache's get-then-set: two
workers can read 7 and both write 8 (four processes incrementing one key 600 times left 165 on
PostgreSQL, 304 on SQLite). Here ``incr`` reads the row and writes it back in one transaction that
holds it: ``SELECT ... FOR UPDATE`` where the database has row locks (PostgreSQL), and on SQLite the
``BEGIN IMMEDIATE`` that settings.base asks for, which takes the database's write lock first.
"""

from __future__ import annotations

import base64
import pickle

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


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
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table = quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        # Every worker counting one client waits on this row: hold it for two statements (not the five of
        # BaseCache.incr's get and set, whose set also counts the table for culling) and keep its expiry,
        # which set would have pushed out. Values are stored as DatabaseCache stores them (base64 pickle).
        with transaction.atomic(using=db), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # ... and not for a disk flush at commit: a count lost to a database crash lets a few more
                # requests through, no more.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # The table name is the cache's LOCATION from settings, quoted; key and time are parameters.
            cursor.execute(
                f"SELECT {quote_name('value')} FROM {table} "  # noqa: S608
                f"WHERE {quote_name('cache_key')} = %s AND {quote_name('expires')} >= %s{lock}",
                [cache_key, connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode())) + delta  # noqa: S301
            cursor.execute(
                f"UPDATE {table} SET {quote_name('value')} = %s WHERE {quote_name('cache_key')} = %s",  # noqa: S608
                [base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1"), cache_key],
            )
        return value
