"""Storage settings of PostgreSQL tables, set by migrations (SQLite has none: nothing is done there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def set_fillfactor(table: str, value: int) -> Callable[[Any, Any], None]:
    """A ``RunPython`` function leaving ``100 - value`` % of each page of ``table`` free for new versions of its
    rows, so that an UPDATE touching no indexed column can stay heap-only (HOT). Only pages written from then on
    follow it: no rewrite, which would lock the table."""
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(value)})")

    return run
