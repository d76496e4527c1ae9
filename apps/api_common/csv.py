"""CSV for spreadsheets and BI tools: formula-injection-safe text, plain numbers, streamed.

A text cell that starts with ``= + - @``, a tab or a carriage return is what
Excel, LibreOffice and Google Sheets run as a formula (CSV injection, OWASP).
Such cells get a leading apostrophe, which spreadsheets show as text and hide.
Number columns are written as numbers and never prefixed, so ``-2.5`` stays a
number.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from apps.common.timestamps import timestamp_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
# Rows are joined into blocks of about this many characters per write to the socket.
BLOCK_CHARS = 64 * 1024


def escape_formula(text: str) -> str:
    """Neutralise a text cell a spreadsheet would evaluate (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``)."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def text_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return escape_formula(str(value))


def number_cell(value: Any) -> str:
    """A number column's cell: the value as given ("2.5", 3), or empty for null; never escaped."""
    if value is None:
        return ""
    return str(value)


def bool_cell(value: Any) -> str:
    if value is None:
        return ""
    return "true" if value else "false"


CellFormatter = Callable[[Any], str]


class _Rows:
    """Where a ``csv.writer`` writes: the rows' text, each ending in a bare ``\n``.

    The writer quotes a cell with QUOTE_MINIMAL when it holds the delimiter, the quote or a character of
    its line terminator. With ``"\n"`` as the terminator a cell holding a lone carriage return went out
    unquoted, and every CSV reader (Python's, Excel's) splits the row there; PostgreSQL's COPY quotes it.
    So the writer is given ``"\r\n"`` (both characters quote a cell) and each row's text, which the C
    writer hands over whole, one call per row, has that terminator swapped for ``"\n"`` here.
    """

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, row: str) -> None:
        self.parts.append(row[:-2])
        self.parts.append("\n")

    def text(self) -> str:
        """The rows written since the last call."""
        text = "".join(self.parts)
        self.parts.clear()
        return text


def csv_writer() -> tuple[Any, _Rows]:
    """A ``csv.writer`` that quotes any cell holding CR or LF and ends rows with LF, and its output."""
    rows = _Rows()
    return csv.writer(rows, lineterminator="\r\n"), rows


def iter_csv_blocks(header: Sequence[str], rows: Iterable[Sequence[Any]],
                    formatters: Sequence[CellFormatter | None] | None = None) -> Iterator[str]:
    """Yield CSV text in blocks of about BLOCK_CHARS: the header row, then each row formatted cell by cell.

    ``formatters[i]`` turns column i's value into its cell; None means the
    value is already a safe cell string (or None for empty).
    """
    writer, out = csv_writer()
    writer.writerow(header)
    batch: list[list[str]] = []
    if formatters is None:
        formatters = [text_cell] * len(header)
    plan = list(enumerate(formatters))
    for row in rows:
        batch.append([row[i] if fmt is None else fmt(row[i]) for i, fmt in plan])
        if len(batch) >= 500:
            writer.writerows(batch)
            batch.clear()
            if sum(map(len, out.parts)) >= BLOCK_CHARS:
                yield out.text()
    if batch:
        writer.writerows(batch)
    if out.parts:
        yield out.text()


def csv_filename(what: str) -> str:
    """``tokenwatch-prices-2026-11-26.csv``: what it is and the day (UTC) it was exported."""
    return f"tokenwatch-{what}-{timezone.now():%Y-%m-%d}.csv"


def streaming_csv_response(blocks: Iterable[str | bytes], *, what: str) -> StreamingHttpResponse:
    encoded = (block.encode("utf-8") if isinstance(block, str) else block for block in blocks)
    response = StreamingHttpResponse(encoded, content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{csv_filename(what)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
