"""The PostgreSQL backend's health check (apps/common/postgresql): the socket first, SELECT 1 only when the
server said something unasked, so a connection a restart killed is still replaced before a request uses it."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def fresh():
    """A second connection of the project's backend, in autocommit (idle between statements)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def last_query_of(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def test_it_is_the_projects_backend(fresh):
    assert type(fresh).__module__ == "apps.common.postgresql.base"
    assert fresh.settings_dict["CONN_HEALTH_CHECKS"]


def test_it_finds_an_idle_connection_usable_without_a_round_trip(fresh):
    with fresh.cursor() as cursor:
        cursor.execute("SELECT 'the last statement sent'")
    pid = fresh.connection.info.backend_pid
    assert fresh.is_usable()
    assert last_query_of(pid) == "SELECT 'the last statement sent'"


def test_it_finds_a_terminated_connection_unusable_and_the_next_request_gets_a_new_one(fresh):
    pid = fresh.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while fresh.is_usable():  # the termination notice and EOF are on their way
        assert time.monotonic() < deadline, "a terminated connection still looks usable"
        time.sleep(0.05)
    # What Django does at the start of a request's first query (CONN_HEALTH_CHECKS).
    fresh.health_check_done = False
    fresh.close_if_health_check_failed()
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_it_asks_the_server_when_the_connection_is_not_idle(fresh):
    fresh.set_autocommit(False)
    with fresh.cursor() as cursor:
        cursor.execute("SELECT 'in a transaction'")
    pid = fresh.connection.info.backend_pid
    assert fresh.is_usable()
    assert last_query_of(pid) == "SELECT 1"
    fresh.rollback()
    fresh.set_autocommit(True)
