"""Read a rendered data table back out of the HTML, as a person sees it (for "the download equals the screen")."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _TableReader(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.depth = 0  # >0 inside the wanted <table>
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.expansions: list[list[str]] = []  # per row: the text of its closed <details> bodies
        self.cell: list[str] | None = None
        self.in_head = False
        self.hidden = 0  # >0 inside an expandable cell's body ([data-expansion]): not read until opened

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.hidden:
            if tag == "div":
                self.hidden += 1
            return
        if self.depth and "data-expansion" in attributes:
            self.hidden = 1
            self.expansions[-1].append("")
            return
        if tag == "table":
            if self.depth or attributes.get("data-table") == self.name:
                self.depth += 1
            return
        if not self.depth:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "tr" and not self.in_head:
            self.rows.append([])
            self.expansions.append([])
        elif tag in ("th", "td"):
            if self.in_head:
                self.headers.append(attributes.get("data-header") or "")
            else:
                self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.hidden:
            if tag == "div":
                self.hidden -= 1
            return
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag == "thead":
            self.in_head = False
        elif tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.hidden:
            self.expansions[-1][-1] += data + " "
        elif self.cell is not None:
            self.cell.append(data)


def read_table(html: str, name: str) -> tuple[list[str], list[list[str]]]:
    """(export headers, rows of visible cell text) of ``<table data-table=name>``; an expandable cell reads as
    its summary, as it shows closed."""
    reader = _TableReader(name)
    reader.feed(html)
    return reader.headers, reader.rows


def read_expansions(html: str, name: str) -> list[str]:
    """Per row of ``<table data-table=name>``, the text its expandable cells show when opened ("" for none)."""
    reader = _TableReader(name)
    reader.feed(html)
    return [" ".join(" ".join(parts).split()) for parts in reader.expansions]


def as_exported(text: str) -> str:
    """What a visible cell is in the CSV: no thousands separators, nothing for a dash; the agreement mark is
    the export's yes/no ("⚠ sources differ (+23.1 %)" is "no", "✓ 2 sources agree" is "yes")."""
    text = text.strip()
    if text == "—":
        return ""
    if text.startswith("⚠"):
        return "no"
    if text.startswith("✓"):
        return "yes"
    bare = text.replace(",", "")
    try:
        float(bare)
    except ValueError:
        return text
    return bare


_EXPORTED_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}\.\d{6}Z$")


def as_shown(cell: str) -> str:
    """An exported cell as the page shows it: a point in time is exported whole, in the one UTC format
    (apps.common.timestamps), and shown to the minute; every other cell is compared as it is."""
    m = _EXPORTED_TIME.match(cell)
    return f"{m[1]} {m[2]}" if m else cell

