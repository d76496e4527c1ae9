"""PostgreSQL timestamps are read by psycopg's C loader, with exactly what Django's own loader gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from apps.common.db import _c_timestamptz_loader

TEXTS = ["2025-02-06 02:56:03+00", "2026-07-24 18:23:43.215560+00", "2024-04-23 06:50:00.000001+05:30",
         "1970-01-01 00:00:00+00", "2099-12-31 23:59:59.999999-08", "0099-06-01 12:00:00+00"]


def _read(cursor, text: str) -> datetime:
    cursor.execute("SELECT %s::timestamptz", [text])
    return cursor.fetchone()[0]


@pytest.mark.django_db
def test_connections_read_timestamps_through_the_c_loader(postgres):
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(1184, 0)
        assert loader.__name__ == "UtcTimestamptzLoader"
        assert not issubclass(loader, BaseTzLoader)
        # Django's cursor() keeps the connection's loader: it says it loads in the connection's zone.
        assert loader.timezone is connection.timezone is UTC
        assert _c_timestamptz_loader() is not None


@pytest.mark.django_db
def test_it_reads_the_same_instants_with_the_same_tzinfo_as_djangos_loader(postgres):
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    with connection.cursor() as cursor:
        fast = [_read(cursor, t) for t in TEXTS]
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own loader, on this cursor only
        assert cursor.cursor.adapters.get_loader(1184, 0).__name__ == "SpecificTzLoader"
        django = [_read(cursor, t) for t in TEXTS]
    assert fast == django
    assert [d.tzinfo for d in fast] == [d.tzinfo for d in django] == [UTC] * len(TEXTS)
    assert [d.isoformat() for d in fast] == [d.isoformat() for d in django]
    assert fast[2] == datetime(2024, 4, 23, 6, 50, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert fast[1].microsecond == 215560


@pytest.mark.django_db
def test_a_null_timestamp_is_none(postgres):
    with connection.cursor() as cursor:
        cursor.execute("SELECT NULL::timestamptz")
        assert cursor.fetchone()[0] is None
