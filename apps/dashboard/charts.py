"""Chart builders: a DataFrame in, a Plotly figure out. Pure: no HTTP, no database, no settings.

Every builder keeps the same conventions so the pages read as one product:
stable colours per provider (:mod:`apps.dashboard.colors`), money in USD per
1M tokens with the unit on the axis, and hover text that names the unit and
where the number came from (source and snapshot date). Each builder has a
``*_summary`` companion that says in one sentence what the chart shows, for
screen readers and for anyone who cannot see the chart.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from types import SimpleNamespace

import pandas as pd
import plotly.graph_objects as go

from .colors import DASHES, PALETTE, distinct_colors, series_color

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif'
INK = "#1b1f24"
MUTED = "#57606a"
GRID = "#e6e9ed"
LINE = "#8b949e"

_AXIS = {"gridcolor": GRID, "linecolor": LINE, "ticks": "outside", "tickcolor": LINE, "zeroline": False,
         "automargin": True, "title": {"standoff": 8}}
TEMPLATE = go.layout.Template(layout={
    "font": {"family": FONT, "size": 13, "color": INK},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "xaxis": _AXIS,
    "yaxis": _AXIS,
    "hoverlabel": {"font": {"family": FONT, "size": 13}, "align": "left"},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0, "font": {"size": 12}},
    "margin": {"l": 10, "r": 20, "t": 20, "b": 10},
    "colorway": ["#1f77b4", "#d62728", "#2a7d2e", "#9467bd", "#8c564b", "#c2398f", "#5f6b73", "#c25400"],
})


TEMPLATE_JSON = TEMPLATE.to_plotly_json()


def _figure(*, height: int = 420, **layout: object) -> go.Figure:
    # Plotly checks every property of every trace as it is set: a real cost on pages with forty
    # lines. The builders' output is checked once, in tests/dashboard/test_charts.py, instead.
    return go.Figure(layout={"template": TEMPLATE_JSON, "height": height, "hovermode": "closest", **layout},
                     _validate=False)


def _rows(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """Rows with attribute access; pandas' itertuples reads each cell through .iloc, slow on wide frames."""
    return [SimpleNamespace(**record) for record in frame.to_dict("records")]


def money(value: float | Decimal | None, *, places: int | None = None) -> str:
    """$ with enough digits to tell cheap prices apart: $12.50, $0.59, $0.0375."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    number = float(value)
    if places is None:
        places = 2 if abs(number) >= 1 else (4 if abs(number) >= 0.001 else 6)
    text = f"{number:,.{places}f}"
    if places > 2 and "." in text:
        text = text.rstrip("0")
        if len(text.split(".")[1]) < 2:
            text = text + "0" * (2 - len(text.split(".")[1]))
    return "$" + text


def day(value: object) -> str:
    if value is None or value is pd.NaT:
        return "—"
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return "—"
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(UTC)
    return stamp.strftime("%Y-%m-%d")


def log_ticks(values: Sequence[float], *, fmt: object = None) -> dict[str, list[object]]:
    """Tick values 1, 2, 5 x 10^k across the data with full labels ($0.05, $0.1, $0.2…).

    Plotly's own log ticks label the in-between steps with a bare digit ("2",
    "5"), which reads as a different number; full labels read right. Data
    within less than a decade (GPT-4o's offers, $4.38 to $7.50) would get one
    tick or none from 1, 2, 5: denser steps are used until at least three
    ticks fall inside the data.
    """
    positive = [float(v) for v in values if v is not None and not pd.isna(v) and float(v) > 0]
    if not positive:
        return {}
    lowest, highest = min(positive), max(positive)
    low, high = math.floor(math.log10(lowest)), math.ceil(math.log10(highest))
    many_decades = high - low > 4  # powers of ten only, or labels collide
    candidates: list[tuple[float, ...]] = [(1,)] if many_decades else [(1, 2, 5), (1, 2, 3, 5, 7),
                                                                        (1, 2, 3, 4, 5, 6, 7, 8, 9)]
    ticks: list[float] = []
    for steps in candidates:
        ticks = [m * 10.0 ** k for k in range(low, high + 1) for m in steps]
        if sum(lowest <= t <= highest for t in ticks) >= 3:
            break
    else:
        if highest > lowest and not many_decades:
            ticks = _linear_ticks(lowest, highest)
    ticks = [t for t in ticks if lowest / 2.5 <= t <= highest * 2.5]
    label = fmt or (lambda v: money(v))  # type: ignore[operator]
    return {"tickvals": ticks, "ticktext": [label(t) for t in ticks]}  # type: ignore[operator]


def _linear_ticks(lowest: float, highest: float, *, count: int = 6) -> list[float]:
    """Evenly spaced round ticks (step 1, 2, 2.5 or 5 x 10^k) from just below ``lowest`` to just above ``highest``."""
    raw = (highest - lowest) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs(math.log10(s / raw)))
    first = math.floor(lowest / step) * step
    ticks = []
    tick = first
    while tick <= highest + step:
        if tick > 0:
            ticks.append(round(tick, 12))
        tick += step
    return ticks


def compact(value: float, *, prefix: str = "", suffix: str = "") -> str:
    """1 → "1", 2500 → "2.5k", 3e6 → "3M": short tick labels for counts and large sums."""
    for size, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{prefix}{value / size:g}{unit}{suffix}"
    return f"{prefix}{value:g}{suffix}"


def _legend_height(series: int, base: int = 420) -> int:
    """Room for a bottom legend that wraps at about three entries a line."""
    return base + 22 * max(0, math.ceil(series / 3) - 1)


NARROW_PX = 600  # below this chart width, charts.js applies the figure's layout.meta.narrow


def narrow_layout(figure: go.Figure, **changes: object) -> go.Figure:
    """Layout changes for a phone-sized chart, as Plotly attribute paths ("legend.orientation": "h").

    Chart builders do not know the screen; charts.js applies these before
    drawing when the chart is narrower than NARROW_PX, so the phone layout is
    decided here, next to the wide one, and tested with it.
    """
    meta = dict(figure.layout.meta or {}) if isinstance(figure.layout.meta, dict) else {}
    meta["narrow"] = {**meta.get("narrow", {}), **changes}
    figure.update_layout(meta=meta)
    return figure


def short_unit(unit: str) -> str:
    """An axis title a phone has room for: "USD per 1M tokens, blended 3:1" → "$/1M tokens, blend 3:1"."""
    return unit.replace("USD per 1M ", "$/1M ").replace("USD per ", "$/").replace("blended ", "blend ")


def _phone_legend(series: int, *, base: int = 330, per_line: int = 2) -> dict[str, object]:
    """A compact bottom legend for phones, and the height that leaves the plot its room above it."""
    return {"legend.orientation": "h", "legend.x": 0, "legend.xanchor": "left", "legend.y": -0.12,
            "legend.yanchor": "top", "legend.font.size": 11, "legend.itemwidth": 30,
            "height": base + 21 * math.ceil(series / per_line)}


# --- price history: step lines with change markers --------------------------------------------


def price_steps_figure(steps: pd.DataFrame, *, unit: str, scale: str = "log", height: int | None = None,
                       until: datetime | None = None) -> go.Figure:
    """One step line per series over each price's validity interval, a marker where it changed.

    ``steps`` is :func:`apps.dashboard.selectors.price_steps` output: series,
    label, color_key, start, end, usd_per_mtok, previous_usd_per_mtok and the
    provenance columns (provider, source_model_id, source, observed_at).
    ``unit`` names the y values, e.g. "USD per 1M input tokens".
    """
    series_count = steps["series"].nunique() if not steps.empty else 0
    # The legend sits right of the plot on a wide screen, where the eye goes from line end to name; a
    # phone has no room beside the plot, so there it is a compact block below (narrow_layout).
    figure = _figure(height=height or max(420, 90 + 21 * series_count),
                     legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "yanchor": "top",
                             "font": {"size": 12}, "tracegroupgap": 2})
    figure.update_xaxes(type="date", title_text=None)
    if scale == "auto":
        values = [float(v) for v in steps["usd_per_mtok"] if v and v > 0]
        scale = "log" if values and max(values) / min(values) >= 10 else "linear"
    if scale == "log":
        figure.update_yaxes(type="log", title_text=unit, **log_ticks(list(steps["usd_per_mtok"])))
    else:
        figure.update_yaxes(type="linear", title_text=unit, tickprefix="$", rangemode="tozero", nticks=8)
    narrow_layout(figure, **_phone_legend(series_count), **{"yaxis.title.text": short_unit(unit),
                                                             "yaxis.title.font.size": 12})
    styles = line_styles(list(dict.fromkeys(zip(steps["series"], steps["color_key"], strict=True))))
    # Dates as text once for the whole frame: per-row Timestamp work is what makes a 40-line chart slow.
    ordered = steps.sort_values(["start"], kind="stable").assign(
        start_iso=lambda f: f["start"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
        end_iso=lambda f: f["end"].dt.strftime("%Y-%m-%dT%H:%M:%S"),
        start_day=lambda f: f["start"].dt.strftime("%Y-%m-%d"),
        end_day=lambda f: f["end"].dt.strftime("%Y-%m-%d"),
        observed_day=lambda f: _days(f["observed_at"]),
        confirmed_day=lambda f: _days(f.get("last_confirmed_at")),
    )
    by_series: dict[object, list[dict[str, object]]] = {}
    for record in ordered.to_dict("records"):
        by_series.setdefault(record["series"], []).append(record)
    for key in dict.fromkeys(steps["series"]):
        rows = by_series[key]
        color, dash = styles[key]
        label = str(rows[0]["label"])
        xs: list[object] = []
        ys: list[float | None] = []
        texts: list[str | None] = []
        last_end = None
        for row in rows:
            hover = _step_hover(row, unit)
            if last_end is not None and row["start"] != last_end:
                xs.append(None)
                ys.append(None)
                texts.append(None)
            # Each segment gets its start and its end point, so the last one draws to the end of its interval.
            xs += [row["start_iso"], row["end_iso"]]
            ys += [row["usd_per_mtok"], row["usd_per_mtok"]]
            texts += [hover, hover]
            last_end = row["end"]
        figure.add_trace(go.Scatter(
            _validate=False,
            x=xs, y=ys, text=texts, mode="lines", line={"shape": "hv", "color": color, "width": 2, "dash": dash},
            name=label, legendgroup=str(key), hovertemplate="%{text}<extra></extra>", connectgaps=False,
        ))
        changes = [row for row in rows if row["previous_usd_per_mtok"] == row["previous_usd_per_mtok"]]  # not NaN
        if changes:
            figure.add_trace(go.Scatter(
                _validate=False,
                x=[row["start_iso"] for row in changes], y=[row["usd_per_mtok"] for row in changes],
                text=[_change_hover(row, unit) for row in changes],
                mode="markers", marker={"color": color, "size": 9, "line": {"color": "#ffffff", "width": 1.5}},
                name=f"{label}: price changes", legendgroup=str(key), showlegend=False,
                hovertemplate="%{text}<extra></extra>",
            ))
    return figure


def line_styles(series: Sequence[tuple[object, object]]) -> dict[object, tuple[str, str]]:
    """(colour, dash) per series: each colour key its own colour on this chart (distinct while there are no
    more keys than hues); series of one key (a provider's several offerings) are told apart by dash."""
    palette = distinct_colors([str(color_key) for _, color_key in series])
    seen: dict[str, int] = {}
    styles = {}
    for key, color_key in sorted(series, key=lambda s: str(s[0])):
        color = palette[str(color_key)]
        count = seen.get(color, 0)
        seen[color] = count + 1
        styles[key] = (color, DASHES[count % len(DASHES)])
    return styles


def price_provenance(source: object, confirmed_day: str | None, observed_day: str | None = None) -> str:
    """Where a price comes from and how recent that word is: its source and when a document last stated it.

    The snapshot that first showed a price says how old the price is, not how
    current: a price the newest file still states would read as years old.
    Rows stored before sightings existed have no confirmation: their snapshot's
    day is named as such.
    """
    when = f"last confirmed {confirmed_day}" if confirmed_day else f"snapshot {observed_day or '—'}"
    return f"source: {escape(str(source))}, {when}"


def _days(values: pd.Series | None) -> pd.Series | None:
    """UTC days as text for a whole column at once, None where there is no moment."""
    if values is None:
        return None
    days = pd.to_datetime(values, utc=True).dt.strftime("%Y-%m-%d").astype(object)
    return days.where(days.notna(), None)


def _day_or_none(value: object) -> str | None:
    text = day(value)
    return None if text == "—" else text


def _provenance(row: dict[str, object]) -> str:
    return price_provenance(row["source"], row.get("confirmed_day"), row.get("observed_day"))  # type: ignore[arg-type]


def _offer(row: dict[str, object]) -> str:
    offer = escape(f"{row['provider']} · {row['source_model_id']}")
    if row.get("region"):
        offer += f" ({escape(str(row['region']))})"
    return offer


def _step_hover(row: dict[str, object], unit: str) -> str:
    end = "still current" if row["open_end"] else row["end_day"]
    note = f" ({escape(str(row['start_note']))})" if row["start_note"] else ""
    market = row.get("market_note")
    differ = f"<br><b>{escape(str(market))}</b>: the market price is the newest confirmed" if market else ""
    return (f"<b>{escape(str(row['label']))}</b><br>{money(row['usd_per_mtok'])} {escape(unit)}"  # type: ignore[arg-type]
            f"<br>in force {row['start_day']} → {end}{note}<br>{_offer(row)}<br>{_provenance(row)}{differ}")


def _change_hover(row: dict[str, object], unit: str) -> str:
    old, new = float(row["previous_usd_per_mtok"]), float(row["usd_per_mtok"])  # type: ignore[arg-type]
    pct = (new - old) / old * 100 if old else None
    move = f" ({pct:+.1f} %)" if pct is not None else ""
    return (f"<b>Price change {row['start_day']}</b><br>{escape(str(row['label']))}"
            f"<br>{money(old)} → {money(new)} {escape(unit)}{move}<br>{_offer(row)}<br>{_provenance(row)}")


def price_steps_summary(steps: pd.DataFrame, *, unit: str) -> str:
    if steps.empty:
        return "No prices to draw."
    parts = []
    for _key, rows in steps.groupby("series", sort=False):
        rows = rows.sort_values("start")
        first, last = rows.iloc[0], rows.iloc[-1]
        changes = int(rows["previous_usd_per_mtok"].notna().sum())
        move = "no change" if changes == 0 else f"{changes} change{'s' if changes != 1 else ''}"
        parts.append(f"{first['label']}: {money(first['usd_per_mtok'])} on {day(first['start'])}, "
                     f"{money(last['usd_per_mtok'])} {'now' if last['open_end'] else 'on ' + day(last['end'])} "
                     f"({move})")
    shown = "; ".join(parts[:5])
    more = f"; and {len(parts) - 5} more series (see the table)" if len(parts) > 5 else ""
    return f"{len(parts)} series in {unit}. {shown}{more}."


# --- one model across providers --------------------------------------------------------------


BAR_FIELDS = ("provider", "provider_slug", "region", "service_tier", "source", "source_model_id", "input_usd_per_mtok",
              "output_usd_per_mtok", "observed_at", "last_confirmed_at", "market_note", "other_sources")


def _offer_labels(frame: pd.DataFrame) -> list[str]:
    """Short bar labels: provider (region, tier); the source, then the raw id, only where needed to tell apart."""
    rows = _rows(frame[["provider", "region", "service_tier", "source", "source_model_id"]])
    base = [row.provider + (f" ({', '.join(extra)})" if (extra := [p for p in (
        row.region, row.service_tier if row.service_tier != "standard" else "") if p]) else "")
        for row in rows]
    with_source = [f"{b} · {row.source}" if base.count(b) > 1 else b for b, row in zip(base, rows, strict=True)]
    labels = [f"{w} · {str(row.source_model_id).rsplit('/', 1)[-1]}" if with_source.count(w) > 1 else w
              for w, row in zip(with_source, rows, strict=True)]
    # Long labels squeeze the bars out on a phone: cut them (the hover has the full name).
    labels = [label if len(label) <= 36 else label[:35] + "…" for label in labels]
    # A market price the sources disagree on carries the mark (the hover says who says what).
    if "market_note" in frame:
        labels = [f"{label} ⚠" if note else label for label, note in zip(labels, frame["market_note"], strict=True)]
    # Category axes merge equal labels: number any that are still the same.
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return unique


def offering_bars_figure(frame: pd.DataFrame, *, value: str, unit: str) -> go.Figure:
    """Horizontal bars of one price column per offering, cheapest on top, coloured by provider."""
    # Only what a bar shows: market frames also carry every source's word (wide objects, slow to copy per row).
    frame = frame[[c for c in BAR_FIELDS if c in frame]].assign(
        plot_value=frame[value].map(float)).sort_values("plot_value", kind="stable")
    labels = _offer_labels(frame)
    figure = _figure(height=max(260, 90 + 24 * len(frame)), showlegend=False,
                     margin={"l": 10, "r": 30, "t": 10, "b": 10})
    figure.update_yaxes(autorange="reversed", type="category", title_text=None, tickfont={"size": 12})
    figure.update_xaxes(title_text=unit, tickprefix="$", rangemode="tozero")
    hovers = [
        (f"<b>{escape(row.provider)}</b> {escape(row.region or '')}<br>{money(row.plot_value)} {escape(unit)}<br>"
         f"input {money(row.input_usd_per_mtok)} · "
         f"output {money(row.output_usd_per_mtok)} per 1M tokens<br>{escape(row.source_model_id)}<br>"
         + price_provenance(row.source, _day_or_none(getattr(row, "last_confirmed_at", None)),
                            day(row.observed_at)) + _disagreement_hover(row))
        for label, row in zip(labels, _rows(frame), strict=True)]
    figure.add_trace(go.Bar(
            _validate=False,
        x=list(frame["plot_value"]), y=labels, orientation="h", text=[money(v) for v in frame["plot_value"]],
        textposition="outside", cliponaxis=False, hovertext=hovers, hovertemplate="%{hovertext}<extra></extra>",
        marker={"color": [series_color(s) for s in frame["provider_slug"]]},
    ))
    return figure


def _disagreement_hover(row: SimpleNamespace) -> str:
    """For a market price the sources disagree on: the mark and what the other sources say."""
    note = getattr(row, "market_note", "")
    if not note:
        return ""
    others = getattr(row, "other_sources", "") or ""
    return f"<br><b>{escape(note)}</b>" + (f"<br>other sources: {escape(others)}" if others else "")


def offering_bars_summary(frame: pd.DataFrame, *, value: str, unit: str) -> str:
    if frame.empty:
        return "No priced offerings."
    ordered = frame.assign(plot_value=frame[value].map(float)).sort_values("plot_value")
    low, high = ordered.iloc[0], ordered.iloc[-1]
    spread = f", {high['plot_value'] / low['plot_value']:.1f}x apart" if low["plot_value"] else ""
    return (f"{len(ordered)} offerings in {unit}: cheapest {low['provider']} at {money(low['plot_value'])}, "
            f"dearest {high['provider']} at {money(high['plot_value'])}{spread}.")


def _run_symbol(mostly_failed: bool, source: str) -> str:
    """A benchmark run's marker: a diamond for tokenwatch's own probe runs, a circle for published ones;
    hollow when most of its requests failed."""
    return ("diamond" if source == "probe" else "circle") + ("-open" if mostly_failed else "")


def price_vs_speed_figure(frame: pd.DataFrame, *, unit: str) -> go.Figure:
    """Blended price against measured per-request output speed, one point per provider."""
    figure = _figure(height=380, showlegend=False)
    figure.update_xaxes(title_text="Per-request output speed, tokens/s (mean)", rangemode="tozero")
    figure.update_yaxes(title_text=unit, tickprefix="$", rangemode="tozero")
    hovers = [
        (f"<b>{escape(r.provider)}</b><br>{money(r.blended_usd_per_mtok)} {escape(unit)} "
         f"({price_provenance(r.source, _day_or_none(getattr(r, 'last_confirmed_at', None)), day(r.observed_at))})"
         "<br>"
         f"{float(r.request_tokens_per_s_mean):.1f} tokens/s per request, TTFT "
         f"{float(r.ttft_p50_ms or 0):,.0f} ms (median)<br>benchmark: {escape(r.benchmark_source)}, measured "
         f"{day(r.measured_at)}" + (" — most requests failed" if r.mostly_failed else ""))
        for r in _rows(frame)]
    xs = [float(v) for v in frame["request_tokens_per_s_mean"]]
    right = 0.7 * max(xs, default=0.0)
    figure.add_trace(go.Scatter(
            _validate=False,
        x=xs, y=[float(v) for v in frame["blended_usd_per_mtok"]],
        # Labels of the fastest points run leftwards: centred, they were cut at the plot's right edge.
        mode="markers+text", text=list(frame["provider"]), cliponaxis=False,
        textposition=["top left" if x > right else "top center" for x in xs],
        hovertext=hovers, hovertemplate="%{hovertext}<extra></extra>",
        marker={"size": 13, "color": [series_color(s) for s in frame["provider_slug"]],
                # tokenwatch's own probe runs are diamonds beside the published circles.
                "symbol": [_run_symbol(f, s) for f, s in zip(frame["mostly_failed"], frame["benchmark_source"],
                                                              strict=True)],
                "line": {"width": 2, "color": [series_color(s) for s in frame["provider_slug"]]}},
    ))
    return figure


def price_vs_speed_summary(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "No provider has both a price and a speed measurement."
    fastest = frame.loc[frame["request_tokens_per_s_mean"].map(float).idxmax()]
    return (f"{len(frame)} providers with a price and a measured speed; fastest per request is "
            f"{fastest['provider']} at {float(fastest['request_tokens_per_s_mean']):.0f} tokens/s for "
            f"{money(fastest['blended_usd_per_mtok'])} per 1M blended tokens.")


def monthly_cost_figure(ranked: pd.DataFrame, *, top: int = 15) -> go.Figure:
    shown = ranked.head(top)
    figure = offering_bars_figure(shown.assign(monthly=shown["monthly_usd"]), value="monthly",
                                  unit="USD per month")
    return figure


def monthly_cost_summary(ranked: pd.DataFrame) -> str:
    if ranked.empty:
        return "No offering has the prices this workload needs."
    first = ranked.iloc[0]
    text = f"{len(ranked)} offerings ranked; cheapest is {first['provider']} at {money(first['monthly_usd'])} a month"
    if len(ranked) > 1:
        last = ranked.iloc[-1]
        text += f", dearest {last['provider']} at {money(last['monthly_usd'])}"
    return text + "."


# --- benchmarks -----------------------------------------------------------------------------------


def benchmark_bubbles_figure(runs: pd.DataFrame) -> go.Figure:
    """Throughput vs P99 latency (both log), bubble area by cost per 1M tokens, colour by precision (legend).

    Colour says something the labels do not: runs at different precisions (FP16 vs INT4) are not comparable,
    and that should show at a glance. The stack and hardware are written beside each bubble.
    """
    figure = _figure(height=460, showlegend=True, legend={"title": {"text": "Precision"}, "orientation": "h",
                                                          "y": -0.22, "x": 0})
    xs, ys = [float(v) for v in runs["tokens_per_s"]], [float(v) for v in runs["p99_latency_ms"]]
    figure.update_xaxes(type="log", title_text="System throughput, output tokens/s (log)",
                        **log_ticks(xs, fmt=compact))
    figure.update_yaxes(type="log", title_text="P99 latency, ms (log)", **log_ticks(ys, fmt=compact))
    costs = [float(v) if v is not None and not pd.isna(v) else 0.0 for v in runs["reported_usd_per_mtok"]]
    biggest = max(costs) or 1.0
    middle = math.sqrt(min(xs) * max(xs)) if xs else 0.0
    stated = runs["precision"].fillna("") if "precision" in runs else pd.Series([""] * len(runs))
    precisions = [str(p).strip() or "not stated" for p in stated]
    # One hue per stated precision, in a fixed order; grey for "not stated" (unknown is not a precision).
    grey = "#5f6b73"
    hues = [c for c in PALETTE if c != grey]
    stated_precisions = sorted(set(precisions) - {"not stated"}, key=str.casefold)
    colors = {p: hues[i % len(hues)] for i, p in enumerate(stated_precisions)} | {"not stated": grey}
    shown: set[str] = set()
    for row, cost, precision in zip(_rows(runs), costs, precisions, strict=True):
        stack = row.serving_stack or row.provider or row.model
        hardware = row.hardware or "hardware not stated"
        estimate = " (estimate)" if row.cost_is_estimate else ""
        figure.add_trace(go.Scatter(
            _validate=False,
            x=[float(row.tokens_per_s)], y=[float(row.p99_latency_ms)], mode="markers+text",
            text=[f"{stack}<br>{escape(hardware)} · {money(cost)}/1M"], name=precision, legendgroup=precision,
            showlegend=precision not in shown,
            legendrank=stated_precisions.index(precision) if precision in stated_precisions else 1000,
            textposition="middle left" if float(row.tokens_per_s) > middle else "middle right",
            marker={"size": 14 + 46 * math.sqrt(cost / biggest), "color": colors[precision], "opacity": 0.85,
                    "line": {"color": "#ffffff", "width": 1}},
            hovertemplate=(f"<b>{escape(stack)}</b> on {escape(hardware)}, precision {escape(precision)}<br>"
                           f"{float(row.tokens_per_s):,.0f} output tokens/s · P99 {float(row.p99_latency_ms):,.0f} ms"
                           f"<br>cost {money(cost)} per 1M tokens{estimate}<br>model: {escape(row.model)}"
                           f"<br>source: {escape(row.source)} ({escape(row.source_label or '')}), "
                           f"snapshot {day(row.observed_at)}<extra></extra>"),
        ))
        shown.add(precision)
    return figure


def benchmark_bubbles_summary(runs: pd.DataFrame, spreads: object) -> str:
    if runs.empty:
        return "No benchmark runs with throughput and latency."
    fastest = runs.loc[runs["tokens_per_s"].map(float).idxmax()]
    slowest = runs.loc[runs["tokens_per_s"].map(float).idxmin()]
    parts = [f"{len(runs)} serving stacks; {fastest['serving_stack'] or fastest['model']} is fastest at "
             f"{float(fastest['tokens_per_s']):,.0f} tokens/s and {slowest['serving_stack'] or slowest['model']} "
             f"slowest at {float(slowest['tokens_per_s']):,.0f}"]
    for name, attr in (("throughput", "throughput_spread"), ("P99 latency", "p99_latency_spread"),
                       ("cost", "cost_spread")):
        value = getattr(spreads, attr, None)
        if value is not None:
            parts.append(f"{name} spread {float(value):.1f}x")
    return "; ".join(parts) + "."


def llmperf_figure(runs: pd.DataFrame) -> go.Figure:
    """Per-request speed vs time to first token for each provider's LLMPerf runs; hollow = mostly failed."""
    figure = _figure(height=_legend_height(runs["provider"].nunique() if not runs.empty else 0, 440))
    fastest = max((float(v) for v in runs["request_tokens_per_s_mean"]), default=1.0)
    # Start a little left of zero so the slowest runs' markers are not cut by the axis.
    figure.update_xaxes(title_text="Per-request output speed, tokens/s (mean)", range=[-fastest * 0.03, fastest * 1.05])
    figure.update_yaxes(type="log", title_text="Time to first token, ms (median, log)",
                        **log_ticks(list(runs["ttft_p50_ms"]) if not runs.empty else [], fmt=compact))
    for (slug, provider), rows in runs.groupby(["provider_slug", "provider"], sort=True):
        color = series_color(slug)
        hovers = [
            (f"<b>{escape(provider)}</b> · {escape(r.model)}<br>{float(r.request_tokens_per_s_mean):.1f} tokens/s "
             f"per request (mean) · TTFT {float(r.ttft_p50_ms):,.0f} ms (median)<br>system "
             f"{float(r.tokens_per_s or 0):,.0f} tokens/s · P99 end-to-end {float(r.p99_latency_ms or 0):,.0f} ms<br>"
             f"workload {r.input_tokens} in / {r.output_tokens} out tokens, {r.concurrency} concurrent"
             + ("<br><b>most requests failed</b>" if r.mostly_failed else "")
             + f"<br>source: {escape(r.source)}, measured {day(r.measured_at)}")
            for r in _rows(rows)]
        figure.add_trace(go.Scatter(
            _validate=False,
            x=[float(v) for v in rows["request_tokens_per_s_mean"]], y=[float(v) for v in rows["ttft_p50_ms"]],
            mode="markers", name=provider, hovertext=hovers, hovertemplate="%{hovertext}<extra></extra>",
            marker={"color": color, "size": [8 + 2 * min(int(s or 0), 70) ** 0.5 for s in rows["size_b"]],
                    "symbol": [_run_symbol(f, s) for f, s in zip(rows["mostly_failed"], rows["source"], strict=True)],
                    "line": {"width": 2, "color": color}},
        ))
    return figure


def llmperf_summary(runs: pd.DataFrame) -> str:
    if runs.empty:
        return "No LLMPerf runs."
    failed = int(runs["mostly_failed"].sum())
    best = runs.loc[runs["request_tokens_per_s_mean"].map(float).idxmax()]
    return (f"{len(runs)} LLMPerf runs across {runs['provider'].nunique()} providers; fastest per request is "
            f"{best['provider']} ({best['model']}) at {float(best['request_tokens_per_s_mean']):.0f} tokens/s"
            + (f"; {failed} runs had most requests fail (hollow markers)" if failed else "") + ".")


def self_host_cost_figure(costs: pd.DataFrame) -> go.Figure:
    """Cost per 1M tokens from hardware price sheets (bars) beside what the benchmark source reported (diamonds)."""
    frame = costs.assign(plot_value=costs["usd_per_mtok"].map(float)).sort_values("plot_value")
    labels = [f"{r.serving_stack} · {r.instance_type} ({r.pricing_model})" for r in _rows(frame)]
    figure = _figure(height=max(280, 110 + 30 * len(frame)))
    figure.update_yaxes(type="category", autorange="reversed", title_text=None)
    top = max([float(v) for v in frame["plot_value"]] + [float(v) for v in frame["reported_usd_per_mtok"].dropna()])
    figure.update_xaxes(title_text="USD per 1M output tokens", tickprefix="$", range=[0, top * 1.2])
    figure.add_trace(go.Bar(
            _validate=False,
        x=list(frame["plot_value"]), y=labels, orientation="h", name="From the hourly price sheet",
        marker={"color": [series_color(p) for p in frame["provider"]]},
        text=[money(v) for v in frame["plot_value"]], textposition="outside", cliponaxis=False,
        hovertext=[(f"<b>{escape(r.serving_stack)}</b> on {escape(r.hardware)}<br>{escape(r.provider)} "
                    f"{escape(r.instance_type)} at {money(r.usd_per_hour)}/hour ({escape(r.pricing_model)}; "
                    f"{escape(r.regions or 'all regions')})<br>{float(r.tokens_per_s):,.0f} tokens/s at "
                    f"{float(r.utilisation) * 100:.0f} % utilisation → {money(r.plot_value)} per 1M tokens<br>"
                    f"price source: {escape(r.price_source)}, observed {day(r.price_observed_at)}")
                   for r in _rows(frame)],
        hovertemplate="%{hovertext}<extra></extra>",
    ))
    reported = frame[frame["reported_usd_per_mtok"].notna()]
    if not reported.empty:
        figure.add_trace(go.Scatter(
            _validate=False,
            x=[float(v) for v in reported["reported_usd_per_mtok"]],
            y=[lab for lab, ok in zip(labels, frame["reported_usd_per_mtok"].notna(), strict=True) if ok],
            mode="markers", name="Reported by the benchmark source",
            marker={"symbol": "diamond", "size": 12, "color": INK, "line": {"color": "#ffffff", "width": 1}},
            hovertemplate="reported by the benchmark source: %{x:$.2f} per 1M tokens<extra></extra>",
        ))
    figure.update_layout(legend={"y": -0.25})
    return figure


def self_host_cost_summary(costs: pd.DataFrame) -> str:
    if costs.empty:
        return "No benchmark run matches an instance in the hardware price sheets."
    frame = costs.assign(plot_value=costs["usd_per_mtok"].map(float)).sort_values("plot_value")
    low = frame.iloc[0]
    return (f"{len(frame)} run and instance pairs; cheapest is {low['serving_stack']} on {low['provider']} "
            f"{low['instance_type']} at {money(low['plot_value'])} per 1M tokens.")


def break_even_figure(curve: pd.DataFrame, *, break_even: Decimal | None, api_label: str,
                      hosting_label: str) -> go.Figure:
    """Monthly cost of self-hosting vs the API across monthly volume (log-log), the break-even marked."""
    figure = _figure(height=420)
    xs = [float(v) for v in curve["mtok_per_month"]]
    sums = [float(v) for v in (*curve["self_host_usd_per_month"], *curve["api_usd_per_month"]) if v is not None]
    figure.update_xaxes(type="log", title_text="Monthly volume, million tokens (log)", **log_ticks(xs, fmt=compact))
    figure.update_yaxes(type="log", title_text="USD per month (log)",
                        **log_ticks(sums, fmt=lambda v: compact(v, prefix="$")))
    figure.add_trace(go.Scatter(
            _validate=False,
        x=xs, y=[float(v) for v in curve["self_host_usd_per_month"]], mode="lines", name=f"Self-host: {hosting_label}",
        line={"color": "#1f77b4", "width": 3},
        hovertemplate="%{x:,.0f} M tokens/month<br>self-host %{y:$,.0f} per month<extra></extra>",
    ))
    if curve["api_usd_per_month"].notna().any():
        figure.add_trace(go.Scatter(
            _validate=False,
            x=xs, y=[float(v) if v is not None else None for v in curve["api_usd_per_month"]], mode="lines",
            name=f"API: {api_label}", line={"color": "#c25400", "width": 3, "dash": "dash"},
            hovertemplate="%{x:,.0f} M tokens/month<br>API %{y:$,.0f} per month<extra></extra>",
        ))
    if break_even is not None:
        figure.add_vline(x=float(break_even), line={"color": INK, "width": 1, "dash": "dot"})
        figure.add_annotation(x=math.log10(float(break_even)), y=1, yref="paper", showarrow=False,
                              text=f"break-even {float(break_even):,.0f} M tokens/month", xanchor="left",
                              yanchor="top", xshift=6, font={"color": INK})
    return figure


def break_even_summary(*, break_even: Decimal | None, api_label: str, hosting_label: str,
                       self_host_usd_per_mtok: Decimal, api_usd_per_mtok: Decimal | None) -> str:
    if api_usd_per_mtok is None:
        return f"Self-hosting on {hosting_label} costs {money(self_host_usd_per_mtok)} per 1M tokens; no API price."
    if break_even is None:
        return (f"Self-hosting on {hosting_label} ({money(self_host_usd_per_mtok)} per 1M tokens) never costs less "
                f"than the API offer, {api_label}.")
    return (f"Self-hosting on {hosting_label} costs less than the API offer ({api_label}) above "
            f"{float(break_even):,.0f} million tokens a month: {money(self_host_usd_per_mtok)} against "
            f"{money(api_usd_per_mtok)} per 1M tokens once the instance is busy.")


# --- market --------------------------------------------------------------------------------------


def size_basis(kind: object, *, rate: str | None = None) -> str:
    """Where a segment size comes from, in the words every market chart and table uses.

    ``kind`` is the stored estimate's kind ("actual" or "projection", as the
    source labels it); a size tokenwatch filled in from a growth rate has none.
    Anything but "actual" is projected, and hatched in the charts.
    """
    if kind == "actual":
        return "actual"
    if kind == "projection":
        return "projected by the source"
    return f"projected at the {rate} CAGR" if rate else "projected"


def _hatch(bases: Sequence[str]) -> dict[str, object]:
    return {"shape": ["" if b == "actual" else "/" for b in bases], "fgcolor": "#ffffff", "fillmode": "overlay",
            "solidity": 0.35}


def market_sizes_figure(sizes: pd.DataFrame) -> go.Figure:
    """Segment sizes by year: solid bars for actuals, hatched for projections."""
    segments = list(dict.fromkeys(sorted(sizes["segment"])))
    colors = distinct_colors(segments)
    figure = _figure(height=_legend_height(len(segments) + 1), barmode="group")
    figure.update_xaxes(type="category", title_text=None)
    figure.update_yaxes(title_text="Market size, USD bn", tickprefix="$", ticksuffix=" bn")
    for segment, rows in sizes.groupby("segment", sort=True):
        bases = [size_basis(k) for k in rows["kind"]]
        figure.add_trace(go.Bar(
            _validate=False,
            x=[str(y) for y in rows["year"]], y=[float(v) for v in rows["value_usd_bn"]], name=segment,
            marker={"color": colors[segment], "pattern": _hatch(bases)},
            text=[f"${float(v):,.0f} bn" for v in rows["value_usd_bn"]], textposition="outside",
            hovertext=[(f"<b>{escape(segment)}</b> {r.year}: ${float(r.value_usd_bn):,.1f} bn ({basis})"
                        f"<br>source: {escape(r.source)} ({escape(r.source_label or '')}), snapshot "
                        f"{day(r.observed_at)}") for r, basis in zip(_rows(rows), bases, strict=True)],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    narrow_layout(figure, **_phone_legend(len(segments), base=360, per_line=1))
    return figure


def market_sizes_summary(sizes: pd.DataFrame) -> str:
    # No total: the segments overlap (endpoint APIs run on inference infrastructure, which runs on cloud
    # compute), so their sum is not the size of any market.
    if sizes.empty:
        return "No market sizes."
    years = sorted(sizes["year"].unique())
    projected = sorted({int(y) for y, k in zip(sizes["year"], sizes["kind"], strict=True)
                        if size_basis(k) != "actual"})
    marked = f"; {', '.join(map(str, projected))} projected (hatched)" if projected else ""
    return f"{sizes['segment'].nunique()} segments, {years[0]}–{years[-1]}{marked}."


def cagr_figure(cagr: pd.DataFrame) -> go.Figure:
    """Stated vs implied CAGR per segment; the line between them is red where they disagree."""
    # The legend goes above the plot: below it, it met the x-axis title wherever the tick labels wrapped.
    figure = _figure(height=max(260, 130 + 44 * len(cagr)),
                     legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
                     margin={"l": 10, "r": 20, "t": 40, "b": 10})
    figure.update_yaxes(type="category", autorange="reversed", title_text=None)
    figure.update_xaxes(title_text="CAGR, % per year", ticksuffix=" %")
    cagr = cagr.assign(segment_label=[_wrap(s) for s in cagr["segment"]])
    for row in _rows(cagr):
        if row.implied_cagr_pct is None or pd.isna(row.implied_cagr_pct):
            continue
        figure.add_trace(go.Scatter(
            _validate=False,
            x=[float(row.implied_cagr_pct), float(row.stated_cagr_pct)], y=[row.segment_label] * 2, mode="lines",
            line={"color": "#d62728" if row.disagrees else LINE, "width": 4}, showlegend=False, hoverinfo="skip"))
    implied = cagr[cagr["implied_cagr_pct"].notna()]
    figure.add_trace(go.Scatter(
        _validate=False,
        x=[float(v) for v in implied["implied_cagr_pct"]], y=list(implied["segment_label"]), mode="markers",
        name="Implied by the stated sizes", marker={"symbol": "circle", "size": 13, "color": "#1f77b4"},
        text=[(f"<b>{escape(r.segment)}</b><br>implied {float(r.implied_cagr_pct):.1f} % a year: "
               f"${float(r.start_usd_bn):,.0f} bn in {r.start_year} → ${float(r.end_usd_bn):,.0f} bn in {r.end_year}"
               f"<br>source: {escape(r.source)} ({escape(r.source_label or '')}), snapshot {day(r.observed_at)}")
              for r in _rows(implied)],
        hovertemplate="%{text}<extra></extra>"))
    figure.add_trace(go.Scatter(
        _validate=False,
        x=[float(v) for v in cagr["stated_cagr_pct"]], y=list(cagr["segment_label"]), mode="markers",
        name="Stated by the source", marker={"symbol": "diamond", "size": 13, "color": "#c25400"},
        text=[(f"<b>{escape(r.segment)}</b><br>stated {float(r.stated_cagr_pct):.1f} % a year for "
               f"{r.start_year}–{r.end_year}" + (" — disagrees with its own sizes" if r.disagrees else "")
               + f"<br>source: {escape(r.source)} ({escape(r.source_label or '')}), snapshot {day(r.observed_at)}")
              for r in _rows(cagr)],
        hovertemplate="%{text}<extra></extra>"))
    narrow_layout(figure, **{"legend.font.size": 11, "yaxis.tickfont.size": 11})
    return figure


def _wrap(label: str, width: int = 18) -> str:
    """A long category label on two lines ("General Purpose<br>Cloud Compute"), so a phone keeps room to plot."""
    lines = textwrap.wrap(label, width)
    return label if len(lines) <= 1 else lines[0] + "<br>" + " ".join(lines[1:])


def cagr_summary(cagr: pd.DataFrame) -> str:
    if cagr.empty:
        return "No stated growth rates."
    flagged = cagr[cagr["disagrees"]]
    text = f"{len(cagr)} stated growth rates; "
    if flagged.empty:
        return text + "each agrees with its own sizes within a point."
    return text + "; ".join(
        f"{r.segment} states {float(r.stated_cagr_pct):.1f} % but its sizes imply {float(r.implied_cagr_pct):.1f} %"
        for r in _rows(flagged)) + "."


def projection_figure(projected: pd.DataFrame, sizes: pd.DataFrame, *, rate: str) -> go.Figure:
    """Each segment grown from its base year at its CAGR (lines), with the stated sizes (markers)."""
    segments = sorted(set(projected["segment"]))
    colors = distinct_colors(segments)
    figure = _figure(height=_legend_height(len(segments)))
    figure.update_xaxes(title_text=None, dtick=1)
    figure.update_yaxes(type="log", title_text="Market size, USD bn (log)",
                        **log_ticks([*projected["value_usd_bn"], *sizes["value_usd_bn"]],
                                    fmt=lambda v: compact(v, prefix="$", suffix=" bn")))
    for segment, rows in projected.groupby("segment", sort=True):
        color = colors[segment]
        cagr = float(rows["cagr_pct"].iloc[0])
        figure.add_trace(go.Scatter(
            _validate=False,
            x=list(rows["year"]), y=[float(v) for v in rows["value_usd_bn"]], mode="lines", name=segment,
            legendgroup=segment, line={"color": color, "width": 2, "dash": "dash"},
            hovertemplate=(f"<b>{escape(segment)}</b> %{{x}}: %{{y:$,.1f}} bn<br>projected at {cagr:.1f} % a year "
                           f"({rate} CAGR)<extra></extra>"),
        ))
        stated = sizes[sizes["segment"] == segment]
        if not stated.empty:
            figure.add_trace(go.Scatter(
            _validate=False,
                x=list(stated["year"]), y=[float(v) for v in stated["value_usd_bn"]], mode="markers",
                legendgroup=segment, showlegend=False, name=f"{segment} (stated)",
                marker={"color": color, "size": 10, "symbol": ["circle" if k == "actual" else "circle-open"
                                                                for k in stated["kind"]], "line": {"width": 2}},
                hovertext=[f"<b>{escape(segment)}</b> {r.year}: ${float(r.value_usd_bn):,.1f} bn stated "
                           f"({size_basis(r.kind)})"
                           f"<br>source: {escape(r.source)}, snapshot {day(r.observed_at)}"
                           for r in _rows(stated)],
                hovertemplate="%{hovertext}<extra></extra>",
            ))
    narrow_layout(figure, **_phone_legend(len(segments), base=360, per_line=1))
    return figure


def projection_summary(projected: pd.DataFrame, *, year: int, rate: str) -> str:
    if projected.empty:
        return "No segment has a base size and a growth rate to project from."
    final = projected[projected["year"] == year]
    return f"Projected to {year} at each segment's {rate} CAGR: " + ", ".join(
        f"{r.segment} ${float(r.value_usd_bn):,.0f} bn" for r in _rows(final)) + "."


def share_figure(shares: pd.DataFrame) -> go.Figure:
    """Each segment's share of the sum of the segments per year, stacked to 100 %; projected sizes hatched.

    The sum is not a market total: the segments may overlap (endpoint APIs run
    on inference infrastructure, which runs on cloud compute), and the axis
    and hover say so.
    """
    segments = sorted(set(shares["segment"]))
    colors = distinct_colors(segments)
    figure = _figure(height=_legend_height(len(segments)), barmode="stack")
    figure.update_xaxes(type="category", title_text=None)
    figure.update_yaxes(title_text="% of the sum of segments", ticksuffix=" %", range=[0, 100])
    for segment, rows in shares.groupby("segment", sort=True):
        bases = list(rows["basis"]) if "basis" in rows else [
            "projected" if p else "actual" for p in rows["projected"]]
        figure.add_trace(go.Bar(
            _validate=False,
            x=[str(y) for y in rows["year"]], y=[float(v) for v in rows["share_pct"]], name=segment,
            marker={"color": colors[segment], "pattern": _hatch(bases)},
            text=[f"{float(v):.0f} %" for v in rows["share_pct"]], textposition="inside",
            hovertext=[(f"<b>{escape(segment)}</b> {r.year}: {float(r.share_pct):.1f} % of "
                        f"${float(r.total_usd_bn):,.0f} bn, the sum of the segments (they may overlap)"
                        f"<br>size ${float(r.value_usd_bn):,.1f} bn, {basis}"
                        "<br>each size's source and snapshot: the sizes table")
                       for r, basis in zip(_rows(rows), bases, strict=True)],
            hovertemplate="%{hovertext}<extra></extra>",
        ))
    narrow_layout(figure, **_phone_legend(len(segments), base=360, per_line=1))
    return figure


def share_summary(shares: pd.DataFrame) -> str:
    if shares.empty:
        return "No sizes to share out."
    parts = []
    for year, rows in shares.groupby("year", sort=True):
        top = rows.loc[rows["share_pct"].map(float).idxmax()]
        parts.append(f"{year}: {top['segment']} largest at {float(top['share_pct']):.0f} %")
    return "; ".join(parts) + "."


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON that is safe inside a <script type="application/json"> element."""
    text = figure.to_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def labels_in(figure: go.Figure) -> Sequence[str]:
    """Trace names, for tests and summaries."""
    return [trace.name for trace in figure.data if trace.name]
