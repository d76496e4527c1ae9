"""/api/v1/market-prices/ and /api/v1/disagreements/ (issue 10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from apps.sources.models import Source
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.api.conftest import all_pages, csv_rows
from tests.conftest import get_source

pytestmark = pytest.mark.django_db


def doc(models: dict[str, tuple[float, float]]) -> bytes:
    return json.dumps({name: {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": i,
                              "output_cost_per_token": o} for name, (i, o) in models.items()}).encode()


def ingest(source: Source, content: bytes, day: int) -> None:
    run = source_ingest_bytes(source=source, content=content, trigger="command",
                              observed_at=datetime(2026, 1, day, tzinfo=UTC), meta=FetchMeta(filename=f"{day}.json"))
    assert run.status in ("ok", "unchanged"), run.message


@pytest.fixture
def market(db):
    litellm = get_source("litellm")
    mirror = Source.objects.create(key="mirror", name="Mirror", format="litellm", priority=5)
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 1)
    ingest(mirror, doc({"gpt-4o": (5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 3)
    ingest(litellm, doc({"gpt-4o": (3e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 10)
    return litellm, mirror


def test_one_row_per_offering_with_the_chosen_source_and_the_evidence(client_user, market):
    rows = {r["model"]: r for r in all_pages(client_user, "/api/v1/market-prices/")}
    assert set(rows) == {"gpt-4o", "gpt-4o-mini"}
    gpt4o = rows["gpt-4o"]
    assert (gpt4o["provider"], gpt4o["source"], gpt4o["input_usd_per_mtok"], gpt4o["output_usd_per_mtok"]) == (
        "openai", "litellm", "3", "10")
    assert (gpt4o["sources_agree"], gpt4o["source_count"], gpt4o["max_gap_pct"]) == (False, 2, "66.67")
    assert [(e["source"], e["input_usd_per_mtok"]) for e in gpt4o["evidence"]] == [("litellm", "3"), ("mirror", "5")]
    assert gpt4o["last_confirmed_at"] == "2026-01-10T00:00:00.000000Z"
    assert rows["gpt-4o-mini"]["sources_agree"] is True


def test_filters_and_csv(client_user, market):
    disagreeing = all_pages(client_user, "/api/v1/market-prices/?sources_agree=false")
    assert [r["model"] for r in disagreeing] == ["gpt-4o"]
    assert all_pages(client_user, "/api/v1/market-prices/?model=gpt-4o-mini&provider=openai")[0]["sources_agree"]
    assert client_user.get("/api/v1/market-prices/?sources_agree=perhaps").status_code == 400
    assert client_user.get("/api/v1/market-prices/?model=no-such-model").status_code == 400
    rows = csv_rows(client_user.get("/api/v1/market-prices/?format=csv&sources_agree=false"))
    assert [(r["model"], r["source"], r["sources_agree"], r["max_gap_pct"]) for r in rows] == [
        ("gpt-4o", "litellm", "false", "66.67")]


def test_as_of_is_the_market_then(client_user, market):
    """On 2026-01-05 LiteLLM said 2.5 and the mirror 5; the mirror's word was the newer (day 3 vs day 1)."""
    [then] = all_pages(client_user, "/api/v1/market-prices/?as_of=2026-01-05&model=gpt-4o")
    assert (then["source"], then["input_usd_per_mtok"], then["sources_agree"]) == ("mirror", "5", False)
    assert {e["source"]: e["input_usd_per_mtok"] for e in then["evidence"]} == {"mirror": "5", "litellm": "2.5"}
    [before] = all_pages(client_user, "/api/v1/market-prices/?as_of=2026-01-02&model=gpt-4o")
    assert (before["source"], before["source_count"]) == ("litellm", 1)
    assert client_user.get("/api/v1/market-prices/?as_of=yesterday").status_code == 400
    rows = csv_rows(client_user.get("/api/v1/market-prices/?as_of=2026-01-05&model=gpt-4o&format=csv"))
    assert [(r["source"], r["input_usd_per_mtok"]) for r in rows] == [("mirror", "5")]


def test_disagreements_one_row_per_component_sorted_by_gap(client_user, market):
    rows = all_pages(client_user, "/api/v1/disagreements/?ordering=-gap_pct")
    assert [(r["model"], r["component"], r["low_usd_per_mtok"], r["high_usd_per_mtok"], r["gap_pct"])
            for r in rows] == [("gpt-4o", "input_usd_per_mtok", "3", "5", "66.67")]
    values = {v["source"]: (v["value"], v["chosen"], v["last_confirmed_at"][:10]) for v in rows[0]["values"]}
    assert values == {"litellm": ("3", True, "2026-01-10"), "mirror": ("5", False, "2026-01-03")}
    assert all_pages(client_user, "/api/v1/disagreements/?component=output_usd_per_mtok") == []
    assert csv_rows(client_user.get("/api/v1/disagreements/?format=csv"))[0]["gap_pct"] == "66.67"


def test_agreement_removes_the_disagreement(client_user, market):
    _, mirror = market
    ingest(mirror, doc({"gpt-4o": (3e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 12)
    assert all_pages(client_user, "/api/v1/disagreements/") == []
    assert all(r["sources_agree"] for r in all_pages(client_user, "/api/v1/market-prices/"))


def test_price_changes_of_market_prices_only(client_user, market):
    """LiteLLM's gpt-4o moved 2.5 -> 3; the mirror, not chosen, says nothing new: one change heard."""
    changes = all_pages(client_user, "/api/v1/price-changes/?market=true&component=input_usd_per_mtok")
    assert [(c["source"], c["old_usd_per_mtok"], c["new_usd_per_mtok"]) for c in changes] == [("litellm", "2.5", "3")]


def test_compare_ranks_market_prices_once_per_provider(client_user, market):
    query = {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100}
    rows = client_user.get("/api/v1/compare/", query).json()["results"]
    assert [(r["provider"], r["source"], r["input_usd_per_mtok"], r["sources_agree"]) for r in rows] == [
        ("openai", "litellm", "3", False)]
    assert [e["source"] for e in rows[0]["evidence"]] == ["litellm", "mirror"]
    raw = client_user.get("/api/v1/compare/", {**query, "per_source": "true"}).json()["results"]
    assert sorted((r["source"], r["input_usd_per_mtok"], r["evidence"]) for r in raw) == [
        ("litellm", "3", None), ("mirror", "5", None)]
    then = client_user.get("/api/v1/compare/", {**query, "as_of": "2026-01-05"}).json()["results"]
    assert [(r["source"], r["input_usd_per_mtok"]) for r in then] == [("mirror", "5")]


def test_the_feed_of_market_price_changes_speaks_once(client_user, market):
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    everything = ElementTree.fromstring(client_user.get("/feeds/price-changes/").content)  # noqa: S314 (ours)
    market_only = ElementTree.fromstring(  # noqa: S314 (our own feed)
        client_user.get("/feeds/price-changes/?market=true").content)
    titles = [e.findtext(f"{atom}title") for e in market_only.findall(f"{atom}entry")]
    assert titles == ["OpenAI gpt-4o input_usd_per_mtok: 2.5 → 3 USD per 1M tokens (+20.00%)"]
    assert len(everything.findall(f"{atom}entry")) >= len(titles)
