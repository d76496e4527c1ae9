"""Foreign keys that migrations drop on PostgreSQL where a composite key implies them, or where the column is a
derived copy: each one is a deferred check per written row at COMMIT (bench/ingest.py, bench/csv_import.py).

Django names its constraints with a hash, so they are found by column in the catalogue. The fields stay
ForeignKeys in the models (Django's on_delete is applied by its collector, not by these constraints), and
``foreign_keys_restore`` recreates Django's own constraint for a migration run backwards. SQLite is left as
it is: it has no composite keys.
"""

from __future__ import annotations

from typing import Any

# The foreign keys of a table on exactly these columns, in this order (optionally: to this parent table).
KEYS_ON_COLUMNS = """
SELECT c.conname FROM pg_constraint c
WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND (%s::text IS NULL OR c.confrelid = %s::regclass)
  AND ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.n) = %s::text[]
"""


def foreign_key_names(schema_editor: Any, table: str, columns: list[str], parent: str | None = None) -> list[str]:
    """The names of ``table``'s foreign keys on exactly ``columns`` (to ``parent`` when given; PostgreSQL)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(KEYS_ON_COLUMNS, [table, parent, parent, columns])
        return [row[0] for row in cursor.fetchall()]


def foreign_keys_drop(schema_editor: Any, table: str, names: list[str]) -> None:
    for name in names:
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} DROP CONSTRAINT "
                              f"{schema_editor.quote_name(name)}")


def single_column_keys_drop(schema_editor: Any, table: str, columns: list[str]) -> None:
    """Drop the single-column foreign keys of ``table`` on these columns (PostgreSQL only)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in columns:
        foreign_keys_drop(schema_editor, table, foreign_key_names(schema_editor, table, [column]))


def foreign_keys_restore(apps: Any, schema_editor: Any, model: str, fields: list[str]) -> None:
    """Recreate Django's own foreign key constraint of each field of ``model`` ("app.Model"; PostgreSQL only)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    model_class = apps.get_model(model)
    for name in fields:
        field = model_class._meta.get_field(name)
        schema_editor.execute(schema_editor._create_fk_sql(model_class, field, "_fk_%(to_table)s_%(to_column)s"))
