"""Price history: validity intervals, order independence, as_of, price changes."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from apps.pricing.models import Price, PriceChange
from apps.pricing.selectors import prices_as_of
from apps.sources.models import IngestRun
from apps.sources.services import FetchMeta, snapshot_review, source_ingest_bytes
from tests.conftest import get_source
from tests.tables import dump_tables, first_difference

pytestmark = pytest.mark.django_db

LITELLM = [
    ("litellm/model_prices_2024-04-22_tokencost-569280a.json", datetime(2024, 4, 23, 6, 50, tzinfo=UTC)),
    ("litellm/model_prices_2024-09-23_tokencost-50ea0a0.json", datetime(2024, 9, 22, 18, 43, 44, tzinfo=UTC)),
    ("litellm/model_prices_2025-02-06_rocry-b094ffe.json", datetime(2025, 2, 6, 2, 56, 3, tzinfo=UTC)),
    ("litellm/model_prices_2025-05-31_rocry-9716a8b.json", None),
    ("litellm/model_prices_2025-09-30_rocry-72e074a.json", None),
    ("litellm/model_prices_2026-01-31_rocry-94b6c3b.json", None),
    ("litellm/model_prices_2026-07-24_rocry-8442b93.json", None),
]


def history() -> list[tuple]:
    return sorted(
        Price.objects.values_list(
            "offering__provider__slug", "offering__source_model_id", "offering__region", "offering__service_tier",
            "offering__min_prompt_tokens", "effective_from", "effective_to", "input_usd_per_mtok",
            "output_usd_per_mtok", "cached_input_usd_per_mtok", "price_label", "snapshot__sha256",
        ),
        key=lambda row: tuple("" if v is None else str(v) for v in row),
    )


def changes() -> list[tuple]:
    return sorted(PriceChange.objects.values_list(
        "offering__source_model_id", "offering__service_tier", "offering__region", "offering__min_prompt_tokens",
        "changed_at", "component", "old_usd_per_mtok", "new_usd_per_mtok", "percent_change"),
        key=lambda row: tuple(str(v) for v in row))


def load(ingest_file, order, accept_held: bool = False):
    """Ingest in this order. In date order nothing is held; in another order a file can be compared with an
    older one than in date order and held for a curator, who accepts it (history is a function of the
    accepted snapshots, whatever the order)."""
    for path, when in order:
        run = ingest_file("litellm", path, observed_at=when)
        if run.status == IngestRun.Status.HELD and accept_held:
            run = snapshot_review(snapshot=run.snapshot, accept=True)
        assert run.status == IngestRun.Status.OK, run.message


def test_it_builds_the_same_history_whatever_the_arrival_order(ingest_file, django_db_blocker):
    """Every column of every table ingest writes (not only prices) is a function of the snapshots."""
    load(ingest_file, LITELLM)
    in_order, in_order_changes = history(), changes()
    assert len(in_order) > 4000
    assert len(in_order_changes) > 50
    tables = dump_tables()

    from apps.catalog.models import Model, ModelAlias, Offering, Provider
    from apps.pricing.models import PriceObservation
    from apps.sources.models import Snapshot

    for seed in (1, 7):
        PriceChange.objects.all().delete()
        Price.objects.all().delete()
        PriceObservation.objects.all().delete()
        Offering.objects.all().delete()
        ModelAlias.objects.all().delete()
        Model.objects.all().delete()
        Provider.objects.all().delete()
        IngestRun.objects.all().delete()
        Snapshot.objects.all().delete()
        shuffled = LITELLM[:]
        random.Random(seed).shuffle(shuffled)
        assert shuffled != LITELLM
        load(ingest_file, shuffled, accept_held=True)
        assert history() == in_order
        assert changes() == in_order_changes
        again = dump_tables()
        if again != tables:  # not `assert ==`: pytest would spend minutes diffing two dumps of every table
            pytest.fail(first_difference(tables, again))


def test_it_closes_an_interval_where_a_later_snapshot_shows_another_price(ingest_file):
    load(ingest_file, LITELLM)
    # gpt-4o: 5 USD in 2024, 2.5 USD after OpenAI's 2024-08 cut.
    rows = list(Price.objects.filter(offering__source_model_id="gpt-4o", offering__service_tier="standard",
                                     offering__min_prompt_tokens=0).order_by("effective_from")
                .values_list("effective_from", "effective_to", "input_usd_per_mtok"))
    assert rows[0][2] == Decimal("5")
    assert rows[-1][2] == Decimal("2.5") and rows[-1][1] is None
    for (_, end, _), (start, _, _) in itertools.pairwise(rows):
        assert end == start
    change = PriceChange.objects.get(offering__source_model_id="gpt-4o", offering__service_tier="standard",
                                     offering__min_prompt_tokens=0, component="input_usd_per_mtok",
                                     old_usd_per_mtok=Decimal("5"))
    assert change.new_usd_per_mtok == Decimal("2.5")
    assert change.percent_change == Decimal("-50.00")


def test_as_of_answers_what_held_on_a_date(ingest_file):
    load(ingest_file, LITELLM)
    before = prices_as_of(date(2024, 12, 1)).get(offering__source_model_id="gpt-4o", offering__service_tier="standard",
                                               offering__min_prompt_tokens=0)
    after = prices_as_of(date(2026, 8, 1)).get(offering__source_model_id="gpt-4o", offering__service_tier="standard",
                                              offering__min_prompt_tokens=0)
    assert before.input_usd_per_mtok == Decimal("5")
    assert after.input_usd_per_mtok == Decimal("2.5")
    # gpt-4o is not in the 2024-04 file: it did not exist yet.
    assert not prices_as_of(date(2024, 6, 1)).filter(offering__source_model_id="gpt-4o").exists()


def _doc(price: float, extra: dict | None = None) -> bytes:
    doc = {"m1": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": price,
                  "output_cost_per_token": price * 2}}
    doc.update(extra or {})
    return json.dumps(doc).encode()


def ingest(content: bytes, day: int):
    return source_ingest_bytes(source=get_source("litellm"), content=content, trigger="command",
                               observed_at=datetime(2026, 1, day, tzinfo=UTC), meta=FetchMeta(filename=f"d{day}"))


def test_a_backfilled_snapshot_splits_an_interval():
    ingest(_doc(1e-06), 1)
    ingest(_doc(3e-06), 20)
    ingest(_doc(2e-06), 10)  # arrives last, belongs in the middle
    rows = list(Price.objects.order_by("effective_from").values_list("effective_from", "effective_to",
                                                                      "input_usd_per_mtok"))
    d = lambda day: datetime(2026, 1, day, tzinfo=UTC)  # noqa: E731
    assert rows == [(d(1), d(10), Decimal("1")), (d(10), d(20), Decimal("2")), (d(20), None, Decimal("3"))]
    assert sorted(PriceChange.objects.filter(component="input_usd_per_mtok")
                  .values_list("changed_at", "percent_change")) == [(d(10), Decimal("100.00")),
                                                                   (d(20), Decimal("50.00"))]


def test_a_delisted_offering_ends_and_is_no_price_change():
    ingest(_doc(1e-06, {"m2": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06}}), 1)
    ingest(_doc(1e-06), 5)  # m2 gone
    ingest(_doc(1e-06, {"m2": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 4e-06}}), 9)
    rows = list(Price.objects.filter(offering__source_model_id="m2").order_by("effective_from")
                .values_list("effective_to", "input_usd_per_mtok"))
    assert rows == [(datetime(2026, 1, 5, tzinfo=UTC), Decimal("1")), (None, Decimal("4"))]
    assert not PriceChange.objects.filter(offering__source_model_id="m2").exists()
    m1 = Price.objects.get(offering__source_model_id="m1")
    assert (m1.effective_from, m1.effective_to) == (datetime(2026, 1, 1, tzinfo=UTC), None)


def test_stated_history_comes_from_the_source_dates(ingest_file, shared_data):
    run = ingest_file("llm-prices", "llm-prices/deepseek.json", observed_at=datetime(2026, 8, 6, tzinfo=UTC))
    assert run.status == IngestRun.Status.OK, run.message
    rows = list(Price.objects.filter(offering__source_model_id="deepseek-chat").order_by("effective_from")
                .values_list("effective_from", "effective_to", "basis"))
    raw = json.loads((shared_data / "llm-prices/deepseek.json").read_text())
    entries = next(m for m in raw["models"] if m["id"] == "deepseek-chat")["price_history"]
    assert len(rows) == len(entries) >= 2
    assert all(basis == "stated" for *_, basis in rows)
    # Intervals touch: one ends where the next begins, as the source states.
    assert rows[0][1] == rows[1][0]


def _genai(prices) -> bytes:
    model = {"id": "m1", "name": "M1", "prices": prices}
    return json.dumps([{"id": "acme", "name": "Acme", "models": [model]}]).encode()


def test_an_undated_start_begins_at_the_first_snapshot_that_stated_it():
    def at(day):
        return datetime(2026, 3, day, tzinfo=UTC)

    source = get_source("genai-prices")
    flat = {"input_mtok": 1, "output_mtok": 2}
    history_doc = [{"prices": {"input_mtok": 4, "output_mtok": 8}},
                   {"constraint": {"start_date": "2026-01-01"}, "prices": flat}]
    # Day 5 and day 20 state the same price (different bytes); day 9 carries a dated history.
    for day, doc in ((20, _genai(flat)), (5, _genai(flat) + b" "), (9, _genai(history_doc))):
        run = source_ingest_bytes(source=source, content=doc, trigger="command", observed_at=at(day),
                                  meta=FetchMeta(filename=f"g{day}"))
        assert run.status == IngestRun.Status.OK, run.message
    rows = list(Price.objects.order_by("effective_from").values_list("effective_from", "effective_to",
                                                                      "input_usd_per_mtok"))
    # The newest file (day 20) states one undated price: it starts when first stated (day 5), not "always".
    assert rows == [(at(5), None, Decimal("1"))]


def test_an_undated_interval_that_ended_before_we_looked_stays_open_at_the_start():
    source = get_source("genai-prices")
    doc = _genai([{"prices": {"input_mtok": 4, "output_mtok": 8}},
                  {"constraint": {"start_date": "2026-01-01"}, "prices": {"input_mtok": 1, "output_mtok": 2}}])
    source_ingest_bytes(source=source, content=doc, trigger="command",
                        observed_at=datetime(2026, 3, 1, tzinfo=UTC), meta=FetchMeta(filename="g"))
    rows = sorted(Price.objects.values_list("effective_from", "effective_to", "input_usd_per_mtok"),
                  key=lambda row: row[0] is not None)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert rows == [(None, start, Decimal("4")), (start, None, Decimal("1"))]


def _full_rebuild_changes_nothing() -> None:
    """The stored history is exactly what a full rebuild from every sighting gives (the full rebuild writes
    only differences, so a table dump before and after it must be equal and every status "unchanged")."""
    from apps.pricing.market import market_prices_refresh
    from apps.pricing.services import price_history_rebuild

    # The market rows too are what the policy gives from the current prices, over every pair (the rebuild
    # below refreshes the pairs of the source's offerings as they are now, not those an alias left).
    assert market_prices_refresh() == 0
    before = dump_tables()
    status = price_history_rebuild(source_id=get_source("litellm").pk)
    assert set(status.values()) == {"unchanged"}
    after = dump_tables()
    if after != before:
        pytest.fail(first_difference(before, after))


def test_newest_documents_appended_give_the_full_rebuilds_history(ingest_file):
    """Ingest in date order takes the shortcut (each file is the newest stretch): row for row what the full walk
    of every sighting gives, after each file."""
    from apps.pricing import services

    calls = []
    real = services._history_append

    def spy(**kwargs):
        calls.append(result := real(**kwargs))
        return result

    services._history_append = spy
    try:
        for path, when in LITELLM:
            run = ingest_file("litellm", path, observed_at=when)
            assert run.status == IngestRun.Status.OK, run.message
            _full_rebuild_changes_nothing()
    finally:
        services._history_append = real
    assert len(calls) == len(LITELLM) and all(c is not None for c in calls)  # the shortcut was taken each time


def test_the_shortcut_keeps_gaps_reverts_units_and_confirmations():
    """Small documents covering each step of the walk: a price continues (confirmed), changes, is delisted, comes
    back after a gap (a change, not a creation), reverts to an earlier price, and gains extra units; an older
    document seen again and a backfill go through the full rebuild, and the two always agree."""
    def doc(**models) -> bytes:
        return json.dumps({name: {"litellm_provider": "openai", "mode": "chat", **fields}
                           for name, fields in models.items()}).encode()

    a = {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}
    b = {"input_cost_per_token": 3e-06, "output_cost_per_token": 2e-06}
    units = {**a, "output_cost_per_image": 0.04}
    steps = [
        (1, doc(m1=a, m2=a, m3=a)),
        (2, doc(m1=a, m2=b, m3=a)),            # m2 changes
        (3, doc(m1=a, m2=b)),                  # m3 delisted
        (4, doc(m1=a, m2=a, m3=a) + b"\n"),    # m2 reverts, m3 back after a gap (other bytes than day 1)
        (5, doc(m1=units, m2=a, m3=a, m4=b)),  # m1 gains a unit price, m4 new
        (6, doc(m1=units, m2=a, m3=a, m4=b) + b" "),  # other bytes, same prices: all confirmed
    ]
    statuses = []
    for day, content in steps:
        run = ingest(content, day)
        assert run.status == IngestRun.Status.OK, run.message
        run.snapshot.refresh_from_db()
        statuses.append((run.snapshot.created_count, run.snapshot.changed_count, run.snapshot.unchanged_count))
        _full_rebuild_changes_nothing()
    assert statuses == [(3, 0, 0), (0, 1, 2), (0, 1, 2), (0, 2, 1), (1, 1, 2), (0, 0, 4)]
    m2 = list(Price.objects.filter(offering__source_model_id="m2").order_by("effective_from")
              .values_list("input_usd_per_mtok", "effective_to"))
    assert m2 == [(Decimal("1"), datetime(2026, 1, 2, tzinfo=UTC)), (Decimal("3"), datetime(2026, 1, 4, tzinfo=UTC)),
                  (Decimal("1"), None)]
    assert PriceChange.objects.filter(offering__source_model_id="m2").count() == 2
    assert not PriceChange.objects.filter(offering__source_model_id="m3").exists()
    # An older document seen again later is an upstream revert (full rebuild), then the newest again.
    for day, content in ((7, steps[1][1]), (8, steps[5][1])):
        source_ingest_bytes(source=get_source("litellm"), content=content, trigger="command",
                            observed_at=datetime(2026, 1, day, tzinfo=UTC), meta=FetchMeta(filename=f"again{day}"))
        _full_rebuild_changes_nothing()
    # A new document after the revert takes the shortcut again.
    run = ingest(doc(m1=b), 9)
    assert run.status == IngestRun.Status.OK, run.message
    _full_rebuild_changes_nothing()
