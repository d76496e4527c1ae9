"""Dashboard reads: the workload ranking, source freshness, the headline figure."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from apps.dashboard import selectors as sel


def _offerings(*rows):
    base = {"provider_slug": "p", "provider": "P", "provider_kind": "Inference cloud", "model": "M", "model_slug": "m",
            "source_model_id": "m", "region": "", "service_tier": "standard", "min_prompt_tokens": 0, "mode": "chat",
            "cached_input_usd_per_mtok": None, "price_label": "", "source": "litellm", "observed_at": None,
            "effective_from": None, "price_id": 0, "snapshot_id": 0}
    records = []
    for i, row in enumerate(rows):
        record = {**base, "offering_id": i + 1, **row}
        record["blended_usd_per_mtok"] = sel.blend(record["input_usd_per_mtok"], record["output_usd_per_mtok"], (3, 1))
        records.append(record)
    return pd.DataFrame(records, columns=sel.OFFERING_COLUMNS)


WORK = sel.Workload(input_mtok_per_month=Decimal(100), output_mtok_per_month=Decimal(10),
                    cached_share_pct=Decimal(50), batch=False)


def test_it_ranks_by_monthly_cost_with_cached_input_at_its_own_price():
    frame = _offerings(
        {"provider": "A", "provider_slug": "a", "input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(2),
         "cached_input_usd_per_mtok": Decimal("0.1")},
        {"provider": "B", "provider_slug": "b", "input_usd_per_mtok": Decimal("0.8"),
         "output_usd_per_mtok": Decimal(2)},
    )
    ranked, excluded = sel.monthly_costs(frame, WORK)
    # A: 50 x 1 + 50 x 0.1 + 10 x 2 = 75; B has no cached price, so its input price: 100 x 0.8 + 20 = 100.
    assert list(ranked["provider"]) == ["A", "B"]
    assert list(ranked["monthly_usd"]) == [Decimal("75.0"), Decimal("100.0")]
    assert list(ranked["rank"]) == [1, 2]
    assert excluded.empty


def test_labelled_zero_and_missing_prices_are_listed_with_a_reason_never_ranked():
    frame = _offerings(
        {"provider": "Free", "input_usd_per_mtok": Decimal(0), "output_usd_per_mtok": Decimal(0),
         "price_label": "free"},
        {"provider": "Zero", "input_usd_per_mtok": Decimal(0), "output_usd_per_mtok": Decimal(0),
         "price_label": "zero"},
        {"provider": "Unknown", "input_usd_per_mtok": None, "output_usd_per_mtok": None, "price_label": "unknown"},
        {"provider": "Paid", "input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(1)},
        {"provider": "Long", "input_usd_per_mtok": Decimal("0.01"), "output_usd_per_mtok": Decimal("0.01"),
         "min_prompt_tokens": 200_000},
    )
    ranked, excluded = sel.monthly_costs(frame, WORK)
    assert list(ranked["provider"]) == ["Paid"]
    reasons = dict(zip(excluded["provider"], excluded["reason"], strict=True))
    assert "labelled free" in reasons["Free"] and "zero" in reasons["Zero"] and "unknown" in reasons["Unknown"]
    assert "long-context" in reasons["Long"]


def test_batch_uses_the_batch_tier_where_listed_and_says_where_it_is_not():
    frame = _offerings(
        {"provider": "A", "provider_slug": "a", "source_model_id": "a/m", "input_usd_per_mtok": Decimal(2),
         "output_usd_per_mtok": Decimal(4)},
        {"provider": "A", "provider_slug": "a", "source_model_id": "a/m", "service_tier": "batch",
         "input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(2)},
        {"provider": "B", "provider_slug": "b", "source_model_id": "b/m", "input_usd_per_mtok": Decimal("1.5"),
         "output_usd_per_mtok": Decimal(3)},
    )
    batch = sel.Workload(input_mtok_per_month=Decimal(100), output_mtok_per_month=Decimal(10),
                         cached_share_pct=Decimal(0), batch=True)
    ranked, excluded = sel.monthly_costs(frame, batch)
    assert list(zip(ranked["provider"], ranked["tier_used"], strict=True)) == [
        ("A", "batch"), ("B", "standard (no batch tier)")]
    assert list(ranked["monthly_usd"]) == [Decimal(120), Decimal(180)]
    standard, _ = sel.monthly_costs(frame, sel.Workload(Decimal(100), Decimal(10), Decimal(0), False))
    assert list(standard["provider"]) == ["B", "A"]
    assert list(excluded["reason"]) == ["standard tier"]  # A's standard tier, replaced by its batch tier


@pytest.mark.django_db
def test_source_health_names_fresh_stale_never_and_file_only_sources(subset):
    now = timezone.now()
    health = sel.source_health(now=now).set_index("key")
    # Loaded just now, but its newest data is from September 2024: stale by its 24 h limit.
    assert health.loc["litellm", "freshness"] == "stale"
    assert health.loc["litellm", "data_as_of"] == datetime(2024, 9, 22, 18, 43, 44, tzinfo=UTC)
    assert health.loc["openrouter", "freshness"] == "never"  # scheduled, no data
    assert health.loc["llm-prices", "freshness"] == "manual"  # no URL: files only, none loaded
    assert health.loc["litellm", "snapshots"] == 2 and health.loc["litellm", "offerings"] > 100
    # The seed article's benchmarks (2024-01-01) are within their five-year limit.
    assert health.loc["benchmarks-csv", "freshness"] == "fresh"
    # Seen "now" is within the limit; a day and an hour later it is not.
    at = health.loc["litellm", "data_as_of"].to_pydatetime()
    assert sel.source_health(now=at + timedelta(hours=23)).set_index("key").loc["litellm", "freshness"] == "fresh"
    assert sel.source_health(now=at + timedelta(hours=25)).set_index("key").loc["litellm", "freshness"] == "stale"


@pytest.mark.django_db
def test_the_headline_price_agrees_with_the_economics_selector_today(subset):
    from apps.benchmarks.selectors import cheapest_blended_series

    now = datetime(2024, 11, 1, tzinfo=UTC)
    headline = sel.headline(now=now)
    theirs = cheapest_blended_series(size_class="70b-class", until=now)
    assert headline.cheapest is not None
    assert headline.cheapest["usd_exact"] == theirs["usd_per_mtok"].iloc[-1]
    assert headline.cheapest["provider"] == theirs["provider"].iloc[-1]
    assert headline.offerings > 0 and headline.providers > 0
