"""CSV and XLSX downloads of a page's table: the rows on screen, with the as-of date and units, and what
produced them.

The export reads the same :class:`~apps.dashboard.tables.Table` the page
rendered (same filters, same sort), adds an "As of" column, and names the file
after what and when (``tokenwatch-compare-llama-3-70b-2026-11-26.csv``). Text
cells are escaped against formula injection: a provider name or a rejection
reason that starts with ``=`` must not run as a formula in Excel.

Issue 13, exports that explain themselves: a table's ``context`` (the workload
calculator's model and workload) follows "As of" as constant columns on every
row, so two downloads stacked in pandas or Excel stay apart; every XLSX has an
"About" sheet after the data (the table, the page and its URL, the query, the
as-of date and export time, the tokenwatch version, each source's name, URL and
licence, the unit of every column). Sheet names are short whole words
(:func:`sheet_name`): Excel's 31 characters used to cut titles mid-word.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from importlib import metadata
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# The API's rule for text cells a spreadsheet would run as a formula: one rule for every export.
from apps.api_common.csv import escape_formula
from apps.common.timestamps import timestamp_text

from .tables import Column, Table, export_value, text_value

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
AS_OF = Column("as_of", "As of", unit="UTC date", kind="date", title="The day whose prices the table shows")
XLSX_DATETIME_FORMAT = 'yyyy-mm-dd"T"hh:mm:ss.000"Z"'
# Query parameters that ask for a download rather than choose rows: not part of the page's URL or query.
DOWNLOAD_PARAMS = ("download", "table")


# --- sheet names ------------------------------------------------------------------------------------------

SHEET_NAME_MAX = 31  # Excel's limit; longer names are refused or silently cut
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# Excel keeps "History" for its change tracking and refuses a sheet so named (any case).
_RESERVED_SHEET_NAMES = {"history"}
FALLBACK_SHEET_NAME = "Data"


def _whole_words(words: Sequence[str], limit: int) -> str:
    """As many leading words as fit in ``limit`` characters, joined by spaces ("" if not even the first)."""
    name = ""
    for word in words:
        candidate = f"{name} {word}" if name else word
        if len(candidate) > limit:
            break
        name = candidate
    return name


def sheet_name(label: str, *, taken: Iterable[str] = (), fallback: str = FALLBACK_SHEET_NAME) -> str:
    """A worksheet name for ``label``: at most 31 characters of whole words, none of ``[]:*?/\\``, no
    apostrophe at either end, not Excel's reserved "History", and unique (ignoring case, as Excel does)
    among ``taken`` by a " 2", " 3"... suffix. A label with no word short enough becomes ``fallback``: the
    About sheet carries the full title, so a short plain name loses nothing, and a word is never cut."""
    words = [w.strip("'") for w in _SHEET_FORBIDDEN.sub(" ", label).split()]
    words = [w for w in words if w]
    name = _whole_words(words, SHEET_NAME_MAX) or fallback
    if name.lower() in _RESERVED_SHEET_NAMES:
        name = f"{name} table"
        words = name.split()
    if not _whole_words(words, SHEET_NAME_MAX):
        words = name.split()
    used = {t.lower() for t in taken}
    number = 1
    candidate = name
    while candidate.lower() in used:
        number += 1
        suffix = f" {number}"
        candidate = (_whole_words(words, SHEET_NAME_MAX - len(suffix)) or fallback) + suffix
    return candidate


def table_sheet_label(table: Table) -> str:
    """The data sheet's label: the table's download key in words ("not-ranked" -> "Not ranked"), which is
    short by design; the longer title goes on the About sheet."""
    return table.name.replace("-", " ").replace("_", " ").capitalize()


# --- what produced a table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceInfo:
    key: str
    name: str = ""
    url: str = ""
    licence: str = ""
    attribution: str = ""
    homepage: str = ""


@dataclass(frozen=True)
class ExportInfo:
    """What the About sheet says beyond the table itself: where it was downloaded from and when."""

    page: str = ""
    url: str = ""
    query: Sequence[tuple[str, str]] = ()
    exported_at: datetime | None = None
    sources: Sequence[SourceInfo] = field(default_factory=tuple)


@lru_cache(maxsize=1)
def tokenwatch_version() -> str:
    """The project's version from pyproject.toml (the app runs from a checkout, not an installed package)."""
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        try:
            return metadata.version("tokenwatch")
        except metadata.PackageNotFoundError:
            return "unknown"


def _is_source_column(name: str) -> bool:
    return name == "source" or name.endswith("_source")


def source_keys(table: Table) -> list[str]:
    """The keys of the sources whose data is in the table: its source columns (``source``, ``price_source``,
    ...) and, for market rows, every source whose statement was weighed (``words``), sorted."""
    frame = table.frame
    keys: set[str] = set()
    for name in frame.columns:
        if _is_source_column(str(name)):
            keys.update(v for v in frame[name] if isinstance(v, str) and v)
    if "words" in frame.columns:
        for words in frame["words"]:
            if isinstance(words, (list, tuple)):
                keys.update(w.source for w in words if getattr(w, "source", ""))
    return sorted(keys)


def sources_info(keys: Sequence[str]) -> list[SourceInfo]:
    """Name, URL and licence of each source key; a key tokenwatch has no source for keeps just its key."""
    from apps.sources.models import Source

    found = {s.key: s for s in Source.objects.filter(key__in=keys)}
    out = []
    for key in keys:
        source = found.get(key)
        if source is None:
            out.append(SourceInfo(key))
            continue
        out.append(SourceInfo(key, source.name, source.url or source.homepage, source.licence, source.attribution,
                              source.homepage))
    return out


def export_info(request: HttpRequest, table: Table, *, page: str) -> ExportInfo:
    """The page, its URL and query (without the download parameters) and the table's sources, for the About sheet."""
    query = request.GET.copy()
    for name in DOWNLOAD_PARAMS:
        query.pop(name, None)
    pairs = [(name, value) for name in query for value in query.getlist(name) if value != ""]
    url = request.build_absolute_uri(request.path + (f"?{query.urlencode()}" if query else ""))
    return ExportInfo(page=page, url=url, query=pairs, exported_at=timezone.now(),
                      sources=sources_info(source_keys(table)))


# --- CSV ------------------------------------------------------------------------------------------------


def export_columns(table: Table) -> list[Column]:
    """Every exported column: the screen's, "As of", then the table's context."""
    return [*table.columns, AS_OF, *(column for column, _ in table.context)]


def headers(table: Table) -> list[str]:
    return [column.header for column in export_columns(table)]


def csv_rows(table: Table) -> list[list[str]]:
    """Header and data rows as CSV text; numbers stay plain numbers, text is formula-escaped."""
    rows = [headers(table)]
    # The same on every row: the as-of date and what produced the rows.
    constant = [_csv_text(AS_OF, table.as_of), *(_csv_text(column, value) for column, value in table.context)]
    for record in table.records():
        rows.append([*(_csv_text(column, record.get(column.key)) for column in table.columns), *constant])
    return rows


def _csv_text(column: Column, value: Any) -> str:
    text = text_value(column, value)
    return text if column.numeric else escape_formula(text)


def csv_response(table: Table) -> HttpResponse:
    buffer = io.StringIO()
    # A BOM so Excel, the tool procurement opens these in, reads UTF-8 names correctly.
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(table))
    response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{table.filename}.csv"'
    return response


def _xlsx_value(column: Column, value: Any) -> Any:
    typed = export_value(column, value)
    if isinstance(typed, str):
        return escape_formula(typed)
    return typed


def _typed_cell(sheet: Any, column: Column | None, value: Any, *, bold: Any = None) -> Any:
    """A write-only cell of the right type: text never a formula, date-times and dates as dates, money with
    its digits."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif isinstance(value, datetime):
        # A real date-time cell (UTC), shown in the CSV's ISO form to the millisecond, Excel's finest.
        cell.number_format = XLSX_DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, Decimal) and column is not None and column.kind == "money":
        cell.number_format = "0.00####"
    if bold is not None:
        cell.font = bold
    return cell


def _write_data_sheet(sheet: Any, table: Table, bold: Any) -> None:
    from openpyxl.utils import get_column_letter

    columns = export_columns(table)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(len(column.header) + 2, 12), 48)
    sheet.freeze_panes = "A2"
    sheet.append([_typed_cell(sheet, None, escape_formula(column.header), bold=bold) for column in columns])
    # The same on every row: the as-of date and what produced the rows.
    constant = [(AS_OF, table.as_of), *((column, _xlsx_value(column, value)) for column, value in table.context)]
    for record in table.records():
        sheet.append([*(_typed_cell(sheet, column, _xlsx_value(column, record.get(column.key)))
                        for column in table.columns),
                      *(_typed_cell(sheet, column, value) for column, value in constant)])


def about_rows(table: Table, info: ExportInfo) -> list[list[Any]]:
    """The About sheet, top to bottom: what and where from, the calculator's inputs, the query, the sources,
    the columns. A row is ``[first cell, ...]``; ``[]`` is a blank line; a row of one string is a heading."""
    exported_at = info.exported_at or timezone.now()
    rows: list[list[Any]] = [
        ["About this export"],
        ["Table", table.title],
        ["Page", info.page],
        ["Page URL", info.url],
        ["Description", table.caption],
        ["Prices as of (UTC date)", table.as_of],
        ["Exported at (UTC)", timestamp_text(exported_at)],
        ["tokenwatch version", tokenwatch_version()],
        ["Rows", len(table.frame)],
        ["File", table.filename],
    ]
    if table.note:
        rows.append(["Note", table.note])
    if table.context:
        rows += [[], ["Inputs (on every row of the data)"]]
        rows += [[column.header, _xlsx_value(column, value)] for column, value in table.context]
    rows += [[], ["Query (the page's filters; none means its defaults)"], ["Parameter", "Value"]]
    rows += [[name, value] for name, value in info.query] or [["(none)", ""]]
    sources = list(info.sources) or [SourceInfo(key) for key in source_keys(table)]
    rows += [[], ["Sources of the data in this table"],
             ["Source key", "Name", "URL", "Licence", "Attribution", "Homepage"]]
    rows += [[s.key, s.name, s.url, s.licence or "not stated", s.attribution, s.homepage] for s in sources] or [
        ["(none named in the table)"]]
    rows += [[], ["Columns of the data sheet"], ["Column", "Unit", "Meaning"]]
    rows += [[column.header, column.unit, column.title] for column in export_columns(table)]
    return rows


def _write_about_sheet(sheet: Any, table: Table, info: ExportInfo, bold: Any) -> None:
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 48
    sheet.column_dimensions["C"].width = 60
    sheet.column_dimensions["D"].width = 28
    for row in about_rows(table, info):
        heading = len(row) == 1 or (row and row[0] in ("Parameter", "Source key", "Column"))
        values = [escape_formula(v) if isinstance(v, str) else v for v in row]
        sheet.append([_typed_cell(sheet, None, v, bold=bold if heading else None) for v in values])


def xlsx_bytes(table: Table, info: ExportInfo | None = None) -> bytes:
    """The table on a sheet named after it, then an "About" sheet (:func:`about_rows`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    data_name = sheet_name(table_sheet_label(table))
    _write_data_sheet(workbook.create_sheet(title=data_name), table, bold)
    _write_about_sheet(workbook.create_sheet(title=sheet_name("About", taken=[data_name])), table,
                       info or ExportInfo(), bold)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(table: Table, info: ExportInfo | None = None) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(table, info), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{table.filename}.xlsx"'
    return response


def export_response(table: Table, fmt: str, info: ExportInfo | None = None) -> HttpResponse:
    if fmt == "xlsx":
        return xlsx_response(table, info)
    return csv_response(table)
