"""Step lines: each price over its validity interval; a group's line is its cheapest offer at each moment."""

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from apps.dashboard.selectors import chartable, price_steps

T0, T1, T2, T3 = (datetime(2024, 4, 23, tzinfo=UTC), datetime(2024, 9, 22, tzinfo=UTC),
                  datetime(2025, 2, 6, tzinfo=UTC), datetime(2025, 9, 30, tzinfo=UTC))
NOW = datetime(2026, 11, 26, tzinfo=UTC)


def _frame(*rows):
    base = {"provider_slug": "groq", "provider": "Groq", "model_slug": "llama-3-70b-instruct",
            "model": "Llama 3 70B Instruct", "size_class": "70b-class", "source": "litellm",
            "source_model_id": "groq/llama3-70b-8192", "region": "", "service_tier": "standard",
            "observed_at": T0, "price_label": ""}
    records = []
    for i, row in enumerate(rows):
        record = {**base, "price_id": i + 1, **row}
        record["usd_exact"] = Decimal(str(record["usd_per_mtok"]))
        records.append(record)
    return pd.DataFrame(records)


def test_one_offering_steps_at_each_change_and_runs_to_now():
    frame = _frame({"offering_id": 1, "effective_from": T0, "effective_to": T1, "usd_per_mtok": 0.68},
                   {"offering_id": 1, "effective_from": T1, "effective_to": None, "usd_per_mtok": 0.64,
                    "observed_at": T1})
    steps = price_steps(frame, group="offering", until=NOW)
    assert list(steps["usd_per_mtok"]) == [0.68, 0.64]
    assert list(steps["start"]) == [pd.Timestamp(T0), pd.Timestamp(T1)]
    assert steps["end"].iloc[-1] == pd.Timestamp(NOW) and bool(steps["open_end"].iloc[-1])
    assert pd.isna(steps["previous_usd_per_mtok"].iloc[0]) and steps["previous_usd_per_mtok"].iloc[1] == 0.68
    assert steps["observed_at"].iloc[1] == T1  # provenance: the snapshot that showed the new price


def test_a_group_line_is_the_cheapest_offer_at_each_moment():
    frame = _frame({"offering_id": 1, "effective_from": T0, "effective_to": None, "usd_per_mtok": 1.0},
                   {"offering_id": 2, "provider": "Together AI", "provider_slug": "together-ai",
                    "effective_from": T1, "effective_to": T2, "usd_per_mtok": 0.5})
    steps = price_steps(frame, group="model", until=NOW)
    assert list(steps["usd_per_mtok"]) == [1.0, 0.5, 1.0]
    assert list(steps["provider"]) == ["Groq", "Together AI", "Groq"]
    assert list(steps["previous_usd_per_mtok"].fillna(0)) == [0, 1.0, 0.5]


def test_an_offering_that_ends_leaves_a_gap_not_a_line():
    frame = _frame({"offering_id": 1, "effective_from": T0, "effective_to": T1, "usd_per_mtok": 0.8},
                   {"offering_id": 1, "effective_from": T2, "effective_to": None, "usd_per_mtok": 0.6})
    steps = price_steps(frame, group="offering", until=NOW)
    assert list(zip(steps["start"], steps["end"], strict=True)) == [(pd.Timestamp(T0), pd.Timestamp(T1)),
                                                                    (pd.Timestamp(T2), pd.Timestamp(NOW))]
    assert steps["previous_usd_per_mtok"].isna().all()  # a relisting after a gap is not a "change"


def test_undated_prices_start_where_the_data_knows_them():
    frame = _frame(
        # A current price the source does not date: drawn from the snapshot that first stated it.
        {"offering_id": 1, "effective_from": None, "effective_to": None, "usd_per_mtok": 0.59, "observed_at": T3},
        # An older price the source dates only by its end: drawn from where the data starts.
        {"offering_id": 2, "effective_from": None, "effective_to": T2, "usd_per_mtok": 0.9, "observed_at": T3},
    )
    steps = price_steps(frame, group="offering", until=NOW, since=T0)
    by_id = {row.price_id: row for row in steps.itertuples()}
    assert by_id[1].start == pd.Timestamp(T3) and "first seen" in by_id[1].start_note
    assert by_id[2].start == pd.Timestamp(T0) and by_id[2].end == pd.Timestamp(T2)


def test_future_intervals_are_cut_at_until():
    frame = _frame({"offering_id": 1, "effective_from": T0, "effective_to": None, "usd_per_mtok": 1.0},
                   {"offering_id": 2, "effective_from": datetime(2027, 1, 1, tzinfo=UTC), "effective_to": None,
                    "usd_per_mtok": 0.1})
    steps = price_steps(frame, group="provider", until=NOW)
    assert list(steps["usd_per_mtok"]) == [1.0]


@pytest.mark.parametrize("label, value", [("free", Decimal(0)), ("", Decimal(0)), ("unknown", None)])
def test_labelled_and_zero_prices_are_not_points_on_a_cost_curve(label, value):
    frame = pd.DataFrame([{"price_label": label, "input_usd_per_mtok": value, "output_usd_per_mtok": value}])
    assert chartable(frame, "blended", (3, 1)).empty


def test_the_blend_is_exact():
    frame = pd.DataFrame([{"price_label": "", "input_usd_per_mtok": Decimal("0.59"),
                           "output_usd_per_mtok": Decimal("0.79")}])
    out = chartable(frame, "blended", (3, 1))
    assert out["usd_exact"].iloc[0] == Decimal("0.64")
