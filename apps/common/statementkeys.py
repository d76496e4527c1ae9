"""Foreign keys checked once per statement, a set at a time, in place of PostgreSQL's one check per written row.

A foreign key queues one check per row it covers, run at COMMIT when deferred (Django's keys are): ~5 us each,
and an ingest of the newest LiteLLM file queued ~28,000 of them on the price tables, the largest single block of
its PostgreSQL time (bench/README.md, "ingest, seventh pass"). Checking a statement's rows as one set costs about
what one statement does. benchmarks 0006/0007 did this by hand for benchmark runs; this module writes the same
SQL for any (child columns) -> (parent columns) key, so the price tables' migrations share it.

What the database still refuses, as the key did:

* a row written (INSERT, COPY) whose key names no parent row, when the statement ends (a deferred key waited for
  COMMIT: nothing in the project writes a child before its parent), and an UPDATE that changes the key to one
  that names no parent (a row trigger whose WHEN looks at the key's columns: the ingest's ordinary updates, the
  confirmations of every open price, queue nothing);
* deleting a parent row that a child names, or changing its key columns (row trigger, WHEN on those columns);
  with ``cascade_update`` the change is carried to the children instead (a key's ON UPDATE CASCADE).

MATCH SIMPLE, as Django's keys: a key with a null column is not checked. Each referenced parent is locked FOR
KEY SHARE, as a key's own check locks it: a concurrent transaction cannot delete it until this one ends, and one
deleted meanwhile is not returned, so the counts differ and the statement fails. The parent side reads the
children with a fresh snapshot per statement (READ COMMITTED, Django's default), so a child committed while the
DELETE waited for it is seen. Not covered, unlike a key: TRUNCATE of a parent table alone (TRUNCATE ... CASCADE
no longer reaches these children: name them too; Django's flush truncates every table at once), and a parent
deleted under REPEATABLE READ while a child naming it commits (a key's check would cross-check; nothing here
deletes so).

Django's on_delete is applied by its collector, which deletes (or nulls) the children before their parents, and
is unchanged; the fields stay ForeignKeys in the models. SQLite keeps its foreign keys.
"""

# SQL is built from the migrations' constants (table and column names), never from input.
# ruff: noqa: S608

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .pgkeys import foreign_key_names, foreign_keys_drop


@dataclass(frozen=True)
class StatementKey:
    """``child``(``columns``) -> ``parent``(``parent_columns``), checked per statement; ``name`` (at most 40
    characters, unique in the database) names its functions and triggers; ``what`` is the parent in words
    ("an offering"), for the error message."""

    name: str
    child: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    what: str
    # ON UPDATE CASCADE: a parent's changed key is carried to the rows that name it, instead of being refused.
    cascade_update: bool = False

    def __post_init__(self) -> None:
        if len(self.name) > 40 or len(self.columns) != len(self.parent_columns):
            raise ValueError(f"bad statement key {self!r}")

    @property
    def missing(self) -> str:
        """The error of a row naming no parent (INSERT, COPY, or an UPDATE that moves its key)."""
        return f"{self.child} names {self.what} that does not exist ({self.parent})"


def _tuple(prefix: str, columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"{prefix}{column}" for column in columns) + ")"


def _set_check(key: StatementKey) -> str:
    """The statement's distinct non-null keys (rows of ``written``) against the parents found and locked."""
    columns = ", ".join(key.columns)
    present = " AND ".join(f"{column} IS NOT NULL" for column in key.columns)
    return f"""
    IF (SELECT count(*) FROM (SELECT DISTINCT {columns} FROM written WHERE {present}) AS wanted)
       <> (SELECT count(*) FROM (SELECT 1 FROM {key.parent} p
                                 WHERE {_tuple("p.", key.parent_columns)} IN (SELECT {columns} FROM written)
                                 FOR KEY SHARE OF p) AS locked) THEN
        RAISE foreign_key_violation USING MESSAGE = '{key.missing}';
    END IF;"""


def _child_sql(child: str, keys: list[StatementKey]) -> list[str]:
    checks = "".join(_set_check(key) for key in keys)
    function = f"{child}_keys_exist"
    statements = [f"""
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{checks}
    RETURN NULL;
END
$$""", f"CREATE TRIGGER {function} AFTER INSERT ON {child} REFERENCING NEW TABLE AS written "
       f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"]
    for key in keys:
        # An UPDATE that moves a key checks that row alone; the transition table of an UPDATE trigger cannot be
        # limited to some columns, and would copy every confirmed price of every sighting.
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in key.columns)
        statements += [f"""
CREATE FUNCTION {key.name}_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {" AND ".join(f"NEW.{column} IS NOT NULL" for column in key.columns)} AND NOT EXISTS (
        SELECT 1 FROM {key.parent} p WHERE {_tuple("p.", key.parent_columns)} = {_tuple("NEW.", key.columns)}
        FOR KEY SHARE OF p) THEN
        RAISE foreign_key_violation USING MESSAGE = '{key.missing}';
    END IF;
    RETURN NULL;
END
$$""", f"CREATE TRIGGER {key.name}_moved AFTER UPDATE OF {', '.join(key.columns)} ON {child} FOR EACH ROW "
       f"WHEN ({changed}) EXECUTE FUNCTION {key.name}_moved()"]
    return statements


def _parent_sql(key: StatementKey) -> list[str]:
    message = f"{key.what} that {key.child} names cannot be deleted or given another key ({key.parent})"
    children = f"SELECT 1 FROM {key.child} c WHERE {_tuple('c.', key.columns)}"
    changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in key.parent_columns)
    if key.cascade_update:
        # The rows follow their parent's new key; their own check (the row trigger above) then finds it.
        carried = ", ".join(f"{column} = NEW.{parent_column}"
                            for column, parent_column in zip(key.columns, key.parent_columns, strict=True))
        on_update = f"""
    ELSE
        UPDATE {key.child} SET {carried} WHERE {_tuple("", key.columns)} = {_tuple("OLD.", key.parent_columns)};"""
    else:
        on_update = f"""
    ELSIF EXISTS ({children} = {_tuple("OLD.", key.parent_columns)}) THEN
        RAISE foreign_key_violation USING MESSAGE = '{message}';"""
    return [f"""
CREATE FUNCTION {key.name}_unused() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS ({children} IN (SELECT {", ".join(key.parent_columns)} FROM gone)) THEN
            RAISE foreign_key_violation USING MESSAGE = '{message}';
        END IF;{on_update}
    END IF;
    RETURN NULL;
END
$$""", f"CREATE TRIGGER {key.name}_unused_delete AFTER DELETE ON {key.parent} REFERENCING OLD TABLE AS gone "
       f"FOR EACH STATEMENT EXECUTE FUNCTION {key.name}_unused()",
            f"CREATE TRIGGER {key.name}_unused_update AFTER UPDATE OF {', '.join(key.parent_columns)} ON {key.parent} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {key.name}_unused()"]


def create_sql(keys: list[StatementKey]) -> list[str]:
    """The functions and triggers that check ``keys`` (one INSERT trigger per child table, for all its keys)."""
    by_child: dict[str, list[StatementKey]] = defaultdict(list)
    for key in keys:
        by_child[key.child].append(key)
    statements = [sql for child, own in by_child.items() for sql in _child_sql(child, own)]
    return statements + [sql for key in keys for sql in _parent_sql(key)]


def drop_sql(keys: list[StatementKey]) -> list[str]:
    statements = []
    for child in dict.fromkeys(key.child for key in keys):
        statements += [f"DROP TRIGGER IF EXISTS {child}_keys_exist ON {child}",
                       f"DROP FUNCTION IF EXISTS {child}_keys_exist()"]
    for key in keys:
        statements += [f"DROP TRIGGER IF EXISTS {key.name}_moved ON {key.child}",
                       f"DROP FUNCTION IF EXISTS {key.name}_moved()",
                       f"DROP TRIGGER IF EXISTS {key.name}_unused_delete ON {key.parent}",
                       f"DROP TRIGGER IF EXISTS {key.name}_unused_update ON {key.parent}",
                       f"DROP FUNCTION IF EXISTS {key.name}_unused()"]
    return statements


def statements_drop(schema_editor: Any, keys: list[StatementKey]) -> bool:
    """Backwards (PostgreSQL only; False elsewhere): drop the statement checks of ``keys``; the caller then
    restores the foreign keys they replaced."""
    if schema_editor.connection.vendor != "postgresql":
        return False
    for sql in drop_sql(keys):
        schema_editor.execute(sql)
    return True


def keys_to_statements(schema_editor: Any, keys: list[StatementKey]) -> None:
    """Forwards (PostgreSQL only): create the statement checks, then drop the foreign keys they replace."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred checks
    for sql in create_sql(keys):
        schema_editor.execute(sql)
    for key in keys:
        foreign_keys_drop(schema_editor, key.child,
                          foreign_key_names(schema_editor, key.child, list(key.columns), key.parent))
