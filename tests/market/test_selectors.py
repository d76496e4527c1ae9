"""Market selectors on the seed table: stated vs implied CAGR, projections, shares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.market import selectors
from apps.market.models import Segment

CENT = Decimal("0.01")


@pytest.fixture
def seed(ingest_file) -> None:
    run = ingest_file("market-csv", "seed-article/market_segments.csv", observed_at=datetime(2024, 1, 1, tzinfo=UTC))
    assert run.status == "ok", run.message


def test_it_flags_only_the_inference_cagr(seed) -> None:
    table = selectors.cagr_table().set_index("segment")
    assert table.loc["AI Inference Infrastructure", "implied_cagr_pct"].quantize(CENT) == Decimal("56.51")
    assert table.loc["AI Inference Infrastructure", "stated_cagr_pct"] == Decimal(65)
    assert table.loc["AI Inference Infrastructure", "gap_pp"].quantize(CENT) == Decimal("8.49")
    assert table["disagrees"].to_dict() == {
        "General Purpose Cloud Compute": False,   # 20 vs 19.59
        "AI Training Infrastructure": False,      # 25 vs 25.04
        "AI Inference Infrastructure": True,      # 65 vs 56.51
        "AI-as-a-Service (Endpoint APIs)": False, # 50 vs 49.53
    }
    assert set(table["source"]) == {"market-csv"}


def test_it_projects_every_segment_with_the_stated_or_implied_rate(seed) -> None:
    implied = selectors.projections(years=[2027, 2030]).set_index(["segment", "year"])["value_usd_bn"]
    assert implied[("AI Inference Infrastructure", 2027)].quantize(CENT) == Decimal("180.00")
    assert implied[("AI Inference Infrastructure", 2030)].quantize(Decimal("0.1")) == Decimal("690.1")
    stated = selectors.projections(years=[2027], rate="stated").set_index(["segment", "year"])["value_usd_bn"]
    assert stated[("AI Inference Infrastructure", 2027)].quantize(CENT) == Decimal("222.36")  # 30 * 1.65^4
    assert stated[("General Purpose Cloud Compute", 2027)].quantize(CENT) == Decimal("456.19")  # 220 * 1.2^4


def test_it_gives_each_segments_share_of_the_total(seed) -> None:
    shares = selectors.segment_shares().set_index(["year", "segment"])
    # 2023: 220 + 45 + 30 + 15 = 310; 2027: 450 + 110 + 180 + 75 = 815.
    assert shares.loc[(2023, "AI Inference Infrastructure"), "total_usd_bn"] == Decimal(310)
    assert shares.loc[(2023, "AI Inference Infrastructure"), "share_pct"].quantize(CENT) == Decimal("9.68")
    assert shares.loc[(2027, "AI Inference Infrastructure"), "share_pct"].quantize(CENT) == Decimal("22.09")
    for year in (2023, 2027):
        assert sum(shares.loc[year, "share_pct"]).quantize(CENT) == Decimal(100)


def test_it_fills_years_between_stated_ones_by_projection(seed) -> None:
    shares = selectors.segment_shares(years=[2023, 2025]).set_index(["year", "segment"])
    assert not shares.loc[(2023, "AI Inference Infrastructure"), "projected"]
    assert shares.loc[(2025, "AI Inference Infrastructure"), "projected"]
    # 30 * 6^(2/4) = 73.48 in 2025
    assert shares.loc[(2025, "AI Inference Infrastructure"), "value_usd_bn"].quantize(CENT) == Decimal("73.48")
    assert sum(shares.loc[2025, "share_pct"]).quantize(CENT) == Decimal(100)


def test_it_has_no_basis_for_a_segment_without_sizes(db) -> None:
    segment = Segment.objects.create(name="Empty", slug="empty")
    assert selectors.projection_basis(segment=segment) is None
    assert selectors.cagr_table().empty
