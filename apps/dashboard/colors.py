"""Stable colours: the same provider (or class, or segment) gets the same colour on every chart.

The colour is picked from a fixed palette by a checksum of the slug, so it does
not depend on which other series a chart happens to show, on the order rows
arrive in, or on the process (``hash()`` is salted per process; crc32 is not).
Every colour has at least 3:1 contrast against white (WCAG 2.1 non-text contrast).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

# Dark enough for 3:1 on white, distinct in hue; none relies on red/green alone.
PALETTE: tuple[str, ...] = (
    "#1f77b4",  # blue
    "#d62728",  # red
    "#2a7d2e",  # green
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#c2398f",  # magenta
    "#5f6b73",  # slate
    "#8a7a00",  # olive
    "#00798c",  # teal
    "#c25400",  # orange
    "#3f3fbf",  # indigo
    "#1b1f24",  # near-black
)
# Twelve hues people can tell apart. Two keys that hash to one colour on the same chart get
# different colours there (distinct_colors); dashes are left for series of one key (a provider's
# several offerings) and for charts with more series than hues.
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash")


def series_color(key: str) -> str:
    """The palette colour for a provider slug (or any other stable key)."""
    return PALETTE[zlib.crc32(key.strip().lower().encode("utf-8")) % len(PALETTE)]


def distinct_colors(keys: Sequence[str]) -> dict[str, str]:
    """A colour per key, all different while there are no more keys than hues.

    Each key keeps its own :func:`series_color` unless a key before it (in
    sorted order, so the answer does not depend on row order) already holds
    that colour on this chart; then it takes the next free palette colour.
    Most series therefore keep their colour from chart to chart, and none of
    the lines on one chart share one (15 hashed keys in 12 hues always would).
    """
    colors: dict[str, str] = {}
    used: set[str] = set()
    for key in sorted(dict.fromkeys(keys), key=lambda k: k.strip().lower()):
        start = PALETTE.index(series_color(key))
        free = [PALETTE[(start + step) % len(PALETTE)] for step in range(len(PALETTE))]
        color = next((c for c in free if c not in used), PALETTE[start])  # more keys than hues: reuse
        colors[key] = color
        used.add(color)
    return colors
