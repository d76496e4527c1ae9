"""{% demo_note %}: the overview's calm note saying the data is files only (the bundled demo snapshots)."""

from __future__ import annotations

from django import template

from apps.sources.selectors import DemoData, demo_data

register = template.Library()


@register.inclusion_tag("dashboard/_demo_note.html")
def demo_note() -> dict[str, DemoData | None]:
    return {"demo": demo_data()}
