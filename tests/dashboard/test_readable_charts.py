"""Issue 13, readable charts: distinct colours, capped series, ticks, phone layouts, change rows per offering,
one vocabulary for projected market years."""

import zlib
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from apps.dashboard import charts
from apps.dashboard.colors import PALETTE, distinct_colors, series_color
from apps.dashboard.pages.home import changes_by_offering
from apps.dashboard.pages.market import with_basis
from apps.dashboard.pages.trends import cap_series
from apps.dashboard.selectors import price_steps

from .test_steps import NOW, T0, _frame

PROVIDERS = ["groq", "openrouter", "azure-ai", "friendliai", "replicate", "bedrock", "deepinfra", "anyscale",
             "databricks", "hyperbolic", "vercel-ai-gateway", "fireworks-ai", "novita", "huggingface", "together-ai"]


def _colliding_keys() -> tuple[str, str]:
    by_colour: dict[str, str] = {}
    for n in range(1000):
        key = f"provider-{n}"
        colour = PALETTE[zlib.crc32(key.encode()) % len(PALETTE)]
        if colour in by_colour:
            return by_colour[colour], key
        by_colour[colour] = key
    raise AssertionError("no collision found")


def test_it_gives_keys_that_hash_to_one_colour_different_colours_on_one_chart():
    first, second = _colliding_keys()
    assert series_color(first) == series_color(second)
    colours = distinct_colors([second, first])
    assert colours[first] != colours[second]
    assert colours[first] == series_color(first)  # the first (sorted) keeps its own colour


def test_it_keeps_up_to_twelve_series_apart_whatever_the_row_order():
    colours = distinct_colors(PROVIDERS[:10])
    assert len(set(colours.values())) == 10
    assert distinct_colors(list(reversed(PROVIDERS[:10]))) == colours
    assert len(set(distinct_colors(PROVIDERS).values())) == len(PALETTE)  # more keys than hues: all hues used


def test_line_styles_use_a_solid_distinct_colour_per_provider():
    first, second = _colliding_keys()
    styles = charts.line_styles([("a", first), ("b", second)])
    assert styles["a"][0] != styles["b"][0] and styles["a"][1] == styles["b"][1] == "solid"


def _many_series(count: int) -> pd.DataFrame:
    rows = [{"offering_id": i, "provider_slug": slug, "provider": slug.title(), "effective_from": T0,
             "effective_to": None, "usd_per_mtok": 0.5 + i / 10} for i, slug in enumerate(PROVIDERS[:count])]
    return price_steps(_frame(*rows), group="provider", until=NOW)


def test_trends_cap_the_lines_at_ten_with_a_note():
    steps, note = cap_series(_many_series(15))
    assert steps["series"].nunique() == 10
    assert note.startswith("Showing 10 of 15 lines") and "narrow the filter" in note
    # The cheapest by their latest price are kept.
    assert set(steps["series"]) == set(PROVIDERS[:10])
    assert cap_series(_many_series(4))[1] == ""


def test_the_legend_is_beside_the_plot_on_a_wide_screen_and_compact_below_on_a_phone():
    figure = charts.price_steps_figure(_many_series(10), unit="USD per 1M tokens, blended 3:1")
    legend = figure.layout.legend
    assert legend.orientation == "v" and legend.x > 1
    narrow = figure.layout.meta["narrow"]
    assert narrow["legend.orientation"] == "h" and narrow["legend.y"] < 0
    assert narrow["yaxis.title.text"] == "$/1M tokens, blend 3:1"  # fits a phone's plot height
    lines = [t for t in figure.data if t.mode == "lines"]
    assert len({t.line.color for t in lines}) == 10


def test_a_narrow_price_range_gets_enough_ticks():
    # GPT-4o's offers: $4.38 to $7.50; 1-2-5 steps gave one tick ($5) for six lines.
    ticks = charts.log_ticks([4.375, 7.5, 4.375, 4.375, 4.375, 7.5])
    inside = [t for t in ticks["tickvals"] if 4.375 <= t <= 7.5]
    assert len(inside) >= 3 and ticks["ticktext"][ticks["tickvals"].index(5)] == "$5.00"
    wide = charts.log_ticks([0.005, 10])  # several decades: 1-2-5 steps as before
    assert 0.01 in wide["tickvals"] and 0.02 in wide["tickvals"] and 0.03 not in wide["tickvals"]


def test_auto_scale_is_log_only_when_prices_span_a_decade():
    narrow = price_steps(_frame({"offering_id": 1, "effective_from": T0, "effective_to": None, "usd_per_mtok": 4.38},
                                {"offering_id": 2, "provider_slug": "openai", "provider": "OpenAI",
                                 "effective_from": T0, "effective_to": None, "usd_per_mtok": 7.5}),
                         group="provider", until=NOW)
    figure = charts.price_steps_figure(narrow, unit="USD", scale="auto")
    assert figure.layout.yaxis.type == "linear" and figure.layout.yaxis.nticks == 8
    wide = _many_series(2).assign(usd_per_mtok=[0.05, 5.0])
    assert charts.price_steps_figure(wide, unit="USD", scale="auto").layout.yaxis.type == "log"


CHANGED = datetime(2026, 9, 1, tzinfo=UTC)


def _change(provider: str, offering: str, component: str, old: str, new: str, *, model: str = "claude-sonnet-5",
            when: datetime = CHANGED, context: int = 0) -> dict[str, object]:
    old_d, new_d = Decimal(old), Decimal(new)
    return {"changed_at": when, "provider": provider.title(), "provider_slug": provider, "model": model.title(),
            "model_slug": model, "source_model_id": offering, "region": "", "service_tier": "standard",
            "min_prompt_tokens": context, "component": component, "old_usd_per_mtok": old_d,
            "new_usd_per_mtok": new_d, "percent_change": (new_d - old_d) / old_d * 100, "source": "genai-prices",
            "observed_at": when, "snapshot_id": 1, "first_seen_at": when, "last_confirmed_at": when}


def test_latest_changes_are_one_row_per_offering_with_all_its_components():
    rows = []
    for provider, offering in (("bedrock", "regional.claude"), ("bedrock", "global.claude"),
                               ("anthropic", "claude-sonnet-5"), ("openrouter", "anthropic/claude-sonnet-5")):
        rows += [_change(provider, offering, "input", "2", "3"), _change(provider, offering, "output", "10", "15"),
                 _change(provider, offering, "cached input", "0.2", "0.3")]
    rows.append(_change("openai", "gpt-5.6", "input", "2.5", "2", model="gpt-5.6",
                        when=datetime(2026, 7, 30, tzinfo=UTC)))
    rows.append(_change("openai", "gpt-5.6", "input", "5", "4", model="gpt-5.6", context=272000,
                        when=datetime(2026, 7, 30, tzinfo=UTC)))
    table = changes_by_offering(pd.DataFrame(rows), limit=10, per_model=2)
    # Two offerings of Claude Sonnet 5 (not twelve component rows of it), then both GPT-5.6 context tiers.
    assert list(table["source_model_id"]) == ["regional.claude", "global.claude", "gpt-5.6", "gpt-5.6"]
    first = table.iloc[0]
    assert (first["input_old_usd_per_mtok"], first["input_new_usd_per_mtok"]) == (Decimal(2), Decimal(3))
    assert first["output_new_usd_per_mtok"] == Decimal(15) and first["input_change_pct"] == Decimal(50)
    assert first["other_components"] == "cached input $0.20 → $0.30 (+50 %)"
    assert list(table["min_prompt_tokens"]) == [0, 0, 0, 272000]
    assert len(changes_by_offering(pd.DataFrame(rows), limit=3, per_model=None)) == 3


def test_overview_lists_changes_per_offering_and_size_classes_by_their_labels(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    html = client.get("/").content.decode()
    assert "One row per offering and change" in html and 'data-header="Input before (USD / 1M tokens)"' in html
    assert ">70B</option>" in html and ">70b-class<" not in html


def _sizes() -> pd.DataFrame:
    return pd.DataFrame({"segment": ["A", "A", "B", "B"], "year": [2023, 2027, 2023, 2027],
                         "value_usd_bn": [Decimal(30), Decimal(180), Decimal(220), Decimal(450)],
                         "kind": ["actual", "projection", "actual", "projection"], "source": ["market-csv"] * 4,
                         "source_label": [""] * 4, "observed_at": [datetime(2024, 1, 1, tzinfo=UTC)] * 4})


def test_2027_is_projected_in_both_market_charts_from_the_same_field():
    sizes = _sizes()
    shares = pd.DataFrame({"segment": ["A", "B", "A", "B", "A", "B"], "year": [2023, 2023, 2027, 2027, 2030, 2030],
                           "value_usd_bn": [Decimal(30), Decimal(220), Decimal(180), Decimal(450), Decimal(690),
                                            Decimal(770)],
                           "projected": [False, False, False, False, True, True]})
    shares["total_usd_bn"] = shares.groupby("year")["value_usd_bn"].transform(lambda s: sum(s, Decimal(0)))
    shares["share_pct"] = shares["value_usd_bn"] / shares["total_usd_bn"] * 100
    shares = with_basis(shares, sizes, rate="implied")
    assert list(shares["basis"]) == ["actual", "actual", "projected by the source", "projected by the source",
                                     "projected at the implied CAGR", "projected at the implied CAGR"]
    size_bar = charts.market_sizes_figure(sizes).data[0]
    share_bar = charts.share_figure(shares).data[0]
    assert list(size_bar.marker.pattern.shape) == ["", "/"]
    assert list(share_bar.marker.pattern.shape) == ["", "/", "/"]
    assert "projected by the source" in size_bar.hovertext[1] and "projected by the source" in share_bar.hovertext[1]


def test_the_sum_of_overlapping_segments_is_never_called_a_total():
    assert "total" not in charts.market_sizes_summary(_sizes())
    assert "2027 projected" in charts.market_sizes_summary(_sizes())


def test_the_cagr_legend_sits_above_the_plot_clear_of_the_axis_title():
    cagr = pd.DataFrame({"segment": ["General Purpose Cloud Compute"], "implied_cagr_pct": [Decimal("19.6")],
                         "stated_cagr_pct": [Decimal(20)], "disagrees": [False], "start_usd_bn": [Decimal(220)],
                         "end_usd_bn": [Decimal(450)], "start_year": [2023], "end_year": [2027],
                         "source": ["market-csv"], "source_label": [""],
                         "observed_at": [datetime(2024, 1, 1, tzinfo=UTC)]})
    figure = charts.cagr_figure(cagr)
    assert figure.layout.legend.y > 1 and figure.layout.legend.yanchor == "bottom"
    assert figure.layout.xaxis.title.text == "CAGR, % per year"
    assert figure.data[-1].y[0] == "General Purpose<br>Cloud Compute"
