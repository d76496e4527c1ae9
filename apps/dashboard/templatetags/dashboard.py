"""Template helpers: a data table with sort links and downloads, a chart, and query-string links."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from ..tables import PAGE_ROWS, Table

register = template.Library()


def _query(request: Any, **changes: Any) -> str:
    params: QueryDict = request.GET.copy() if request is not None else QueryDict(mutable=True)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("dashboard/_table.html", takes_context=True)
def data_table(context: dict[str, Any], table: Table, heading: str = "h2") -> dict[str, Any]:
    request = context.get("request")
    headers = []
    for column in table.columns:
        sort_value, aria = table.header_sort(column) if table.sortable and column.sortable else ("", "")
        headers.append({
            "label": column.label, "unit": column.unit, "header": column.header, "numeric": column.numeric,
            "title": column.title, "aria_sort": aria if aria != "none" else "",
            "sort_url": _query(request, sort=sort_value, **{table.extra.get("page_param", "page"): None})
            if sort_value else "",
        })
    page, pages = table.extra.get("page", 1), table.extra.get("pages", 1)
    param = table.extra.get("page_param", "page")
    return {
        "t": table, "rows": [_row_html(cells) for cells in table.rows()], "headers": headers, "heading": heading,
        "csv_url": _query(request, download="csv", table=table.name),
        "xlsx_url": _query(request, download="xlsx", table=table.name),
        "page": page, "pages": pages, "total": table.extra.get("total", len(table)),
        "prev_url": _query(request, **{param: page - 1}) if page > 1 else "",
        "next_url": _query(request, **{param: page + 1}) if page < pages else "",
        "first_row": (page - 1) * PAGE_ROWS + 1 if len(table) else 0, "last_row": (page - 1) * PAGE_ROWS + len(table),
    }


def _row_html(cells: list[Any]) -> SafeString:
    """One <tr>, built in Python: a table of a few hundred rows renders in milliseconds, not a template loop."""
    parts = []
    for index, cell in enumerate(cells):
        tag = "th" if index == 0 else "td"
        scope = ' scope="row"' if index == 0 else ""
        css = f' class="{cell.css}"' if cell.css else ""
        text = escape(cell.text)
        title = f' title="{escape(cell.title)}"' if cell.title else ""
        if cell.href:
            text = f'<a href="{escape(cell.href)}"{title}>{text}</a>'
        elif cell.detail:
            # Who says what, a click away: closed, the cell reads as its summary (what the export's value says).
            text = (f'<details class="evidence"><summary{title}><span>{text}</span></summary>'
                    f'<div class="evidence-body" data-expansion>{conditional_escape(cell.detail)}</div></details>')
        elif "badge" in cell.css or "mark" in cell.css or title:
            text = f"<span{title}>{text}</span>"
        parts.append(f"<{tag}{scope}{css}>{text}</{tag}>")
    return mark_safe("<tr>" + "".join(parts) + "</tr>")  # noqa: S308 - every piece above is escaped


@register.inclusion_tag("dashboard/_chart.html")
def chart(item: Any, heading: str = "h2") -> dict[str, Any]:
    return {"c": item, "heading": heading}


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters set (or removed with None)."""
    return _query(context.get("request"), **changes)


@register.filter
def selected(values: Any, value: Any) -> str:
    """' selected' when value is among the chosen values (for <option>)."""
    chosen = values if isinstance(values, (list, tuple, set)) else [values]
    return " selected" if str(value) in {str(v) for v in chosen} else ""


@register.filter
def checked(values: Any, value: Any) -> str:
    chosen = values if isinstance(values, (list, tuple, set)) else [values]
    return " checked" if str(value) in {str(v) for v in chosen} else ""


@register.filter
def get(mapping: Any, key: str) -> Any:
    try:
        return mapping.get(key, [])
    except AttributeError:
        return []
