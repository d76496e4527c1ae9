"""Chart builders are pure: a DataFrame in, a Plotly figure out, with units and provenance in the hover."""

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go

from apps.dashboard import charts
from apps.dashboard.colors import series_color
from apps.dashboard.selectors import price_steps

from .test_steps import NOW, T0, T1, _frame

CONFIRMED = datetime(2025, 3, 1, tzinfo=UTC)


def _steps(confirmed: datetime | None = CONFIRMED):
    frame = _frame({"offering_id": 1, "effective_from": T0, "effective_to": T1, "usd_per_mtok": 0.68,
                    "last_confirmed_at": T1},
                   {"offering_id": 1, "effective_from": T1, "effective_to": None, "usd_per_mtok": 0.64,
                    "observed_at": T1, "first_seen_at": T1, "last_confirmed_at": confirmed})
    return price_steps(frame, group="provider", until=NOW)


def test_price_steps_draw_step_lines_and_mark_each_change_with_its_provenance():
    figure = charts.price_steps_figure(_steps(), unit="USD per 1M tokens, blended 3:1")
    assert isinstance(figure, go.Figure)
    line, markers = figure.data
    assert line.line.shape == "hv" and line.name == "Groq" and line.line.color == series_color("groq")
    assert markers.mode == "markers" and list(markers.y) == [0.64]
    # Provenance names when a document last stated the price, not the (older) snapshot that first showed it.
    assert "$0.68 → $0.64" in markers.text[0] and "source: litellm, last confirmed 2025-03-01" in markers.text[0]
    assert "snapshot" not in markers.text[0]
    assert "USD per 1M tokens, blended 3:1" in line.text[0] and "still current" in line.text[-1]
    assert figure.layout.yaxis.type == "log"
    # Full labels on the log axis, not a bare "5"; $0.64 to $0.68 is too narrow for 1-2-5 steps: round steps inside.
    assert "$0.65" in figure.layout.yaxis.ticktext and all(t.startswith("$") for t in figure.layout.yaxis.ticktext)


def test_a_price_stored_before_sightings_names_its_snapshot_day_instead():
    _, markers = charts.price_steps_figure(_steps(confirmed=None), unit="USD").data
    assert "source: litellm, snapshot 2024-09-22" in markers.text[0] and "nan" not in markers.text[0]


def test_price_steps_linear_scale_and_summary():
    figure = charts.price_steps_figure(_steps(), unit="USD", scale="linear")
    assert figure.layout.yaxis.type == "linear"
    summary = charts.price_steps_summary(_steps(), unit="USD per 1M tokens")
    assert summary.startswith("1 series") and "$0.68 on 2024-04-23" in summary and "1 change" in summary


def test_two_series_with_one_colour_are_told_apart_by_dash():
    styles = charts.line_styles([("a", "groq"), ("b", "groq"), ("c", "openai")])
    assert styles["a"][0] == styles["b"][0] == series_color("groq")
    assert styles["a"][1] != styles["b"][1]


def test_offering_bars_are_coloured_per_provider_cheapest_first():
    frame = pd.DataFrame([
        {"provider": "Groq", "provider_slug": "groq", "region": "", "service_tier": "standard",
         "source_model_id": "llama3-70b-8192", "source": "litellm", "blended_usd_per_mtok": Decimal("0.64"),
         "input_usd_per_mtok": Decimal("0.59"), "output_usd_per_mtok": Decimal("0.79"),
         "observed_at": datetime(2024, 9, 22, tzinfo=UTC), "last_confirmed_at": datetime(2025, 3, 1, tzinfo=UTC)},
        {"provider": "Together AI", "provider_slug": "together-ai", "region": "", "service_tier": "standard",
         "source_model_id": "x", "source": "litellm", "blended_usd_per_mtok": Decimal("0.5"),
         "input_usd_per_mtok": Decimal("0.5"), "output_usd_per_mtok": Decimal("0.5"),
         "observed_at": datetime(2024, 9, 22, tzinfo=UTC), "last_confirmed_at": None},
    ])
    figure = charts.offering_bars_figure(frame, value="blended_usd_per_mtok", unit="USD per 1M tokens")
    bar = figure.data[0]
    assert list(bar.y) == ["Together AI", "Groq"]
    assert list(bar.marker.color) == [series_color("together-ai"), series_color("groq")]
    assert "source: litellm, last confirmed 2025-03-01" in bar.hovertext[1]
    assert "source: litellm, snapshot 2024-09-22" in bar.hovertext[0]  # not confirmed: its snapshot, named so


def test_break_even_marks_the_volume():
    curve = pd.DataFrame({"mtok_per_month": [Decimal(1), Decimal(100), Decimal(10000)],
                          "self_host_usd_per_month": [Decimal(100)] * 3,
                          "api_usd_per_month": [Decimal(1), Decimal(100), Decimal(10000)]})
    figure = charts.break_even_figure(curve, break_even=Decimal(100), api_label="API", hosting_label="8x H100")
    assert len(figure.data) == 2 and figure.layout.shapes[0].x0 == 100
    assert "break-even 100 M tokens/month" in figure.layout.annotations[0].text


def test_projections_are_hatched_not_hidden():
    sizes = pd.DataFrame({"segment": ["A", "A"], "year": [2023, 2027], "value_usd_bn": [Decimal(30), Decimal(180)],
                          "kind": ["actual", "projection"], "source": ["market-csv"] * 2, "source_label": [""] * 2,
                          "observed_at": [datetime(2024, 1, 1, tzinfo=UTC)] * 2})
    bar = charts.market_sizes_figure(sizes).data[0]
    assert list(bar.marker.pattern.shape) == ["", "/"] and bar.marker.pattern.fillmode == "overlay"


def test_figure_json_is_safe_inside_a_script_element():
    figure = go.Figure(go.Scatter(x=[1], y=[1], name="</script><script>alert(1)</script>"))
    text = charts.figure_json(figure)
    assert "<" not in text and ">" not in text and "\\u003cscript\\u003e" in text


def test_money_labels_keep_cheap_prices_apart():
    assert charts.money(12.5) == "$12.50"
    assert charts.money(0.0375) == "$0.0375"
    assert charts.money(0.5) == "$0.50"
    assert charts.compact(25000, prefix="$") == "$25k"
