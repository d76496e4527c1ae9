"""Stable colours: the same provider (or class, or segment) gets the same colour on every chart.

The colour is picked from a fixed palette by a checksum of the slug, so it does
not depend on which other series a chart happens to show, on the order rows
arrive in, or on the process (``hash()`` is salted per process; crc32 is not).
Every colour has at least 3:1 contrast against white (WCAG 2.1 non-text contrast).
"""

from __future__ import annotations

import zlib

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
# Twelve hues people can tell apart; two series that hash to one colour on the same
# chart are told apart by line dash (charts.py), so the colour itself never moves.
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash")


def series_color(key: str) -> str:
    """The palette colour for a provider slug (or any other stable key)."""
    return PALETTE[zlib.crc32(key.strip().lower().encode("utf-8")) % len(PALETTE)]
