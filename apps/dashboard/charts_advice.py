"""Chart builders for the Choose-a-provider page (issue 15): monthly cost against measured speed, one point per
offering, with the Pareto frontier and the SLA's limit drawn as lines. Pure, as :mod:`apps.dashboard.charts`:
a DataFrame of :func:`apps.routing.advice.advice_records` rows in, a Plotly figure out.

Two figures, one per speed metric, because the SLA limits two of them: time to first token (lower is
better) and per-request output speed (higher is better). On each, the frontier joins the offerings no other
offering beats on both cost and that metric: the only ones worth choosing on those two axes.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

import pandas as pd
import plotly.graph_objects as go

from .charts import MUTED, TEMPLATE_JSON, day, money

MEETS = "#2a7d2e"
MISSES = "#c25400"
FRONTIER = "#1f77b4"
SLA_LINE = "#d62728"

METRICS = {
    # key: (column, axis title, short axis title, unit, lower is better)
    "ttft": ("ttft_p50_ms", "Time to first token, median (ms)", "TTFT p50 (ms)", "ms", True),
    "speed": ("output_tokens_per_s", "Per-request output speed (tokens/s)", "Output tokens/s", "tokens/s", False),
}
POINT_COLUMNS = ["provider_name", "region", "rank", "not_ranked_reason", "stale", "comparable", "speed_source",
                 "measured_at", "monthly_usd"]
MEASURED = {"ttft": "time to first token", "speed": "output speed"}


def plotted(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Offerings with a monthly cost and the metric measured, as floats (the chart's points)."""
    column = METRICS[metric][0]
    if frame.empty:
        return frame.assign(x=[], y=[])
    # The few columns a point needs: pandas' row selection and sorting cost grows with the frame's width.
    frame = frame[[*POINT_COLUMNS, column]]
    keep = frame[frame["monthly_usd"].notna() & frame[column].notna()].copy()
    keep["x"] = keep[column].map(float)
    keep["y"] = keep["monthly_usd"].map(float)
    return keep.reset_index(drop=True)


def pareto_frontier(points: pd.DataFrame, *, lower_is_better: bool) -> pd.DataFrame:
    """The points no other point beats on both cost (y, lower is better) and x, in x order.

    Walk from the best x to the worst, keeping each point cheaper than every point kept before it.
    """
    if points.empty:
        return points
    ordered = points.sort_values(["x", "y"], ascending=[lower_is_better, True])
    kept, cheapest = [], float("inf")
    for index, y in zip(ordered.index, ordered["y"], strict=True):
        if y < cheapest:
            kept.append(index)
            cheapest = y
    return points.loc[kept].sort_values("x")


def _hover(row: dict, unit: str, column: str) -> str:
    where = escape(row["provider_name"]) + (f" ({escape(row['region'])})" if row["region"] else "")
    status = "meets the SLA, rank " + str(int(row["rank"])) if not pd.isna(row["rank"]) else (
        "not ranked: " + escape(row["not_ranked_reason"]))
    flags = (" · stale" if row["stale"] else "") + ("" if row["comparable"] else " · other workload")
    return (f"<b>{where}</b><br>{money(row['monthly_usd'], places=2)} a month<br>"
            f"{float(row[column]):,.1f} {unit} ({escape(row['speed_source'])}, measured {day(row['measured_at'])}"
            f"{flags})<br>{status}")


def advice_speed_figure(frame: pd.DataFrame, *, metric: str, limit: Decimal | None) -> go.Figure:
    """Monthly cost against one speed metric; the SLA's limit as a vertical line, the frontier as a line."""
    column, title, short, unit, lower_is_better = METRICS[metric]
    points = plotted(frame, metric)
    frontier = pareto_frontier(points, lower_is_better=lower_is_better)
    on_frontier = set(frontier.index)
    # Plain dicts, checked once by tests (as charts._figure): Plotly validating each property as it is set
    # (update_xaxes, add_vline…) was most of the page's chart time.
    data: list[dict[str, object]] = []
    if len(frontier) > 1:
        data.append({"type": "scatter", "x": list(frontier["x"]), "y": list(frontier["y"]), "mode": "lines",
                     "name": "Pareto frontier", "line": {"color": FRONTIER, "width": 2, "dash": "dot"},
                     "hoverinfo": "skip"})
    for meets, name, color in ((True, "Meets the SLA (ranked)", MEETS), (False, "Not ranked", MISSES)):
        group = points[points["rank"].notna() == meets]
        if group.empty:
            continue
        data.append({
            "type": "scatter", "x": list(group["x"]), "y": list(group["y"]), "mode": "markers+text", "name": name,
            # Only the frontier is named on the plot (the choices worth making); a dozen regions of one
            # provider at one speed would print their names over each other. Hover names every point.
            "text": [label if i in on_frontier else "" for i, label in zip(group.index, group["provider_name"],
                                                                            strict=True)],
            "textposition": "top center", "textfont": {"size": 11, "color": MUTED},
            "hovertext": [_hover(row, unit, column) for row in group.to_dict("records")],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "marker": {"size": 12, "color": color, "symbol": ["circle-open" if s else "circle" for s in group["stale"]],
                       "line": {"width": 2, "color": color}},
        })
    layout: dict[str, object] = {
        "template": TEMPLATE_JSON, "height": 400, "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.22, "x": 0}, "margin": {"l": 10, "r": 20, "t": 30, "b": 10},
        "xaxis": {"title": {"text": title}, "rangemode": "tozero"},
        "yaxis": {"title": {"text": "USD per month"}, "tickprefix": "$", "rangemode": "tozero"},
        # A phone's layout (charts.js applies it below NARROW_PX; see charts.narrow_layout).
        "meta": {"narrow": {"xaxis.title.text": short, "height": 360, "legend.y": -0.3}},
    }
    if limit is not None:
        layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": float(limit), "x1": float(limit),
                             "y0": 0, "y1": 1, "line": {"color": SLA_LINE, "width": 2, "dash": "dash"}}]
        layout["annotations"] = [{"x": float(limit), "xref": "x", "y": 1, "yref": "paper", "yanchor": "bottom",
                                  "showarrow": False, "font": {"color": SLA_LINE, "size": 12},
                                  "text": f"SLA {'≤' if lower_is_better else '≥'} {float(limit):,g} {unit}"}]
    return go.Figure(data=data, layout=layout, _validate=False)


def advice_speed_summary(frame: pd.DataFrame, *, metric: str, limit: Decimal | None) -> str:
    _, _, _, unit, lower_is_better = METRICS[metric]
    points = plotted(frame, metric)
    if points.empty:
        return "No offering has both a usable price and this speed measured."
    frontier = pareto_frontier(points, lower_is_better=lower_is_better)
    names = ", ".join(frontier["provider_name"])
    text = (f"{len(points)} offerings with a price and a measured {MEASURED[metric]}; the frontier (nothing is both "
            f"cheaper and {'faster to the first token' if lower_is_better else 'faster'}) is {names}.")
    if limit is not None:
        text += f" The SLA line is at {float(limit):,g} {unit}."
    return text
