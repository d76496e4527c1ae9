"""Reads for the catalog: the curated alias table as a file, so a curator's work can go back into fixtures/."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .identity import CURATED_COLUMNS, DEFAULT_ALIASES_PATH, VARIANTS
from .models import Model, ModelAlias


@dataclass
class CuratedExport:
    text: str  # the CSV, in fixtures/aliases.csv's columns and order
    rows: int
    manual: int  # rows that come from a curator's resolution in the admin or the API
    # Decisions the file cannot hold, with why (ignored aliases; a variant outside the table's vocabulary).
    left_out: list[str] = field(default_factory=list)


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def _description(model: Model) -> dict[str, str]:
    return {"model_slug": model.slug, "name": model.name, "creator": model.creator, "family": model.family,
            "version": model.version, "parameter_count_b": _number(model.parameter_count_b),
            "variant": model.variant}


def curated_aliases_export(*, base: Path = DEFAULT_ALIASES_PATH) -> CuratedExport:
    """The curated alias table (``base``, the bundled fixtures/aliases.csv) with every manual resolution
    added, as a CSV that ``identity.load_curated`` reads: commit it back to fixtures/ and the curation
    survives a fresh database.

    A manual resolution replaces the file's row for the same (source, raw id) and gets the note
    "curator <user> <date>". Every row of a canonical model the database knows is described as the
    database describes it (a curator may have renamed it), so that no slug is described two ways,
    which load_curated refuses. Ignored aliases have no place in the format and are listed in
    ``left_out``.
    """
    with open(base, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CURATED_COLUMNS:
            raise ValueError(f"{base}: expected columns {','.join(CURATED_COLUMNS)}, got {reader.fieldnames}")
        rows: dict[tuple[str, str], dict[str, str]] = {(r["source"], r["raw_id"]): dict(r) for r in reader}
    left_out: list[str] = []
    manual = 0
    aliases = (ModelAlias.objects.filter(status__in=[ModelAlias.Status.MANUAL, ModelAlias.Status.IGNORED])
               .select_related("source", "model").order_by("source__key", "raw_id"))
    for alias in aliases:
        key = (alias.source.key, alias.raw_id)
        if alias.status == ModelAlias.Status.IGNORED or alias.model is None:
            left_out.append(f"{key[0]}:{key[1]}: ignored (not a model) has no row in the alias table")
            continue
        if alias.model.variant not in VARIANTS:
            left_out.append(f"{key[0]}:{key[1]}: variant {alias.model.variant!r} of {alias.model.slug} is not "
                            f"one of {sorted(VARIANTS)}")
            continue
        who = alias.curator or "unknown"
        rows[key] = {"source": key[0], "raw_id": key[1], **_description(alias.model),
                     "note": f"curator {who} {alias.updated_at:%Y-%m-%d}"}
        manual += 1
    known = {m.slug: _description(m) for m in Model.objects.filter(slug__in={r["model_slug"] for r in rows.values()})
             if m.variant in VARIANTS}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CURATED_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows.values():
        writer.writerow({**row, **known.get(row["model_slug"], {})})
    return CuratedExport(out.getvalue(), len(rows), manual, left_out)
