"""Helpers for the tests of keys checked per statement (apps/common/statementkeys.py): a row copied in with a given
key, and the check that a database refusal names the parent table (tests/pricing/test_keys_per_statement.py,
tests/benchmarks/test_hardware_keys.py)."""

from __future__ import annotations

import psycopg
import pytest
from django.db import IntegrityError, connection, models, transaction

from apps.common.statementkeys import StatementKey


def checked_per_statement(keys: list[StatementKey]) -> None:
    """The children of ``keys`` have no foreign key left, and each key's triggers are in place: the rows' check
    at the end of each statement, and the parent's on a delete or an id change."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY 1",
                       [sorted({key.child for key in keys})])
        assert cursor.fetchall() == []
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        triggers = {row[0] for row in cursor.fetchall()}
    for key in keys:
        assert {f"{key.child}_keys_exist", f"{key.name}_moved", f"{key.name}_unused_delete",
                f"{key.name}_unused_update"} <= triggers, key.name


def refused(statements: list[tuple[str, list]], parent: str) -> None:
    """The statements fail on a key, naming ``parent``, and leave nothing behind."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic(), connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert isinstance(caught.value.__cause__, psycopg.errors.ForeignKeyViolation), caught.value
    assert f"({parent})" in str(caught.value)


def a_row(model: type[models.Model], key: StatementKey) -> tuple[int, tuple]:
    """(id, key values) of a row of ``model`` (``key.child``'s) whose key is set."""
    row = model.objects.exclude(**{f"{key.columns[0]}__isnull": True}).order_by("pk").values_list(
        "pk", *key.columns).first()
    assert row is not None, key
    return row[0], tuple(row[1:])


def missing(key: StatementKey) -> int:
    """An id no row of ``key.parent`` has."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1000 FROM {key.parent}")  # noqa: S608 (names from the keys)
        return cursor.fetchone()[0]


def copy_statements(key: StatementKey, pk: int, values: tuple, unique_again: str) -> list[tuple[str, list]]:
    """Insert a copy of row ``pk`` of ``key.child`` with a new id and its key set to ``values``; ``unique_again``
    (an assignment) makes the copy unique apart from its key, so that only the key can refuse it."""
    assignments = ", ".join(f"{column} = %s" for column in key.columns)
    return [(f"CREATE TEMP TABLE copied ON COMMIT DROP AS SELECT * FROM {key.child} WHERE id = %s", [pk]),  # noqa: S608
            (f"UPDATE copied SET id = id + 1000000, {assignments}, {unique_again}", list(values)),  # noqa: S608
            (f"INSERT INTO {key.child} SELECT * FROM copied", [])]  # noqa: S608


# The checks every key gets (each test module parametrizes them over its keys, with a row of every child table).

def inserted_with_a_missing_parent_is_refused(model: type[models.Model], key: StatementKey, unique_again: str) -> None:
    """A copy of a row naming a missing parent is refused; the same copy naming the row's own parent is written
    (only the key refused it)."""
    pk, values = a_row(model, key)
    refused(copy_statements(key, pk, (missing(key), *values[1:]), unique_again), key.parent)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement, params in copy_statements(key, pk, values, unique_again):
            cursor.execute(statement, params)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)


def copied_in_with_a_missing_parent_is_refused(model: type[models.Model], key: StatementKey,
                                               unique_again: str) -> None:
    """COPY, as ingest and imports write, goes through the same statement check."""
    pk, values = a_row(model, key)
    *prepare, _ = copy_statements(key, pk, (missing(key), *values[1:]), unique_again)
    # The raw psycopg cursor's COPY: its error is psycopg's own, not wrapped by Django.
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match=rf"\({key.parent}\)"), transaction.atomic(), \
            connection.cursor() as cursor:
        for statement, params in prepare:
            cursor.execute(statement, params)
        raw = cursor.cursor
        with raw.copy("COPY copied TO STDOUT") as out:
            data = b"".join(bytes(block) for block in out)
        with raw.copy(f"COPY {key.child} FROM STDIN") as into:
            into.write(data)


def updated_to_a_missing_parent_is_refused(model: type[models.Model], key: StatementKey) -> None:
    pk, _ = a_row(model, key)
    refused([(f"UPDATE {key.child} SET {key.columns[0]} = %s WHERE id = %s", [missing(key), pk])],  # noqa: S608
            key.parent)


def deleting_or_re_keying_a_named_parent_is_refused(model: type[models.Model], key: StatementKey) -> None:
    """Unless the key carries a parent's new key to its rows (``cascade_update``), when only the delete is refused."""
    _, values = a_row(model, key)
    where = " AND ".join(f"{column} = %s" for column in key.parent_columns)
    refused([(f"DELETE FROM {key.parent} WHERE {where}", list(values))], key.parent)  # noqa: S608
    if not key.cascade_update:
        refused([(f"UPDATE {key.parent} SET id = id + 100000 WHERE {where}", list(values))], key.parent)  # noqa: S608
