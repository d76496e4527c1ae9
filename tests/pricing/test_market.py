"""The market price of an offering: one answer per offering, disagreement shown (issue 10)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.pricing.market import Evidence, agreement, choose, market_prices_refresh
from apps.pricing.models import MarketPrice
from apps.quality.selectors import agreement_matrix
from apps.sources.models import IngestRun, Source
from apps.sources.services import FetchMeta, source_ingest_bytes
from tests.conftest import get_source


def ev(source: str, confirmed: int | None, values=(Decimal(1), Decimal(2)), *, priority: int = 10,
       own: bool = False, label: str = "") -> Evidence:
    return Evidence(price_id=hash(source) % 1000, source_id=1, source=source, priority=priority, own_provider=own,
                    raw_id="m", values=(*values, None, None, None), price_label=label, effective_from=None,
                    last_confirmed_at=None if confirmed is None else datetime(2026, 1, confirmed, tzinfo=UTC))


def test_the_newest_confirmation_wins_whatever_the_priority():
    assert choose([ev("a", 1, priority=90), ev("b", 5, priority=1)])[0].source == "b"


def test_priority_breaks_a_tie_and_the_own_provider_outranks_priority():
    assert choose([ev("a", 5, priority=10), ev("b", 5, priority=20)])[0].source == "b"
    assert choose([ev("a", 5, priority=10, own=True), ev("b", 5, priority=20)])[0].source == "a"
    # Nothing else decides: the source key makes the choice independent of the order evidence comes in.
    assert choose([ev("a", 5), ev("b", 5)])[0].source == choose([ev("b", 5), ev("a", 5)])[0].source == "b"


def test_agreement_is_equality_as_decimals_and_the_gap_is_relative_to_the_lower():
    assert agreement([ev("a", 1, (Decimal("2.5"), Decimal(10))), ev("b", 1, (Decimal("2.50"), Decimal(10)))]) \
        == (True, None)
    agree, gap = agreement([ev("a", 1, (Decimal("0.28"), Decimal("0.42"))),
                            ev("b", 1, (Decimal("0.55"), Decimal("2.19")))])
    assert not agree and gap == Decimal("421.43")  # (2.19 - 0.42) / 0.42
    assert agreement([ev("a", 1), ev("b", 1, label="free")])[0] is False
    # A component one source does not give is not a disagreement.
    assert agreement([ev("a", 1, (Decimal(1), None)), ev("b", 1, (Decimal(1), Decimal(9)))]) == (True, None)


def doc(models: dict[str, tuple[float, float]]) -> bytes:
    return json.dumps({name: {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": i,
                              "output_cost_per_token": o} for name, (i, o) in models.items()}).encode()


def ingest(source: Source, content: bytes, day: int):
    run = source_ingest_bytes(source=source, content=content, trigger="command",
                              observed_at=datetime(2026, 1, day, tzinfo=UTC), meta=FetchMeta(filename=f"{day}.json"))
    assert run.status == "ok" or "seen again" in run.message, run.message
    return run


@pytest.fixture
def two_sources(db):
    litellm = get_source("litellm")
    mirror = Source.objects.create(key="mirror", name="A second LiteLLM-format feed", format="litellm",
                                   priority=5)
    return litellm, mirror


def market(model: str) -> MarketPrice:
    return MarketPrice.objects.select_related("source").get(model__slug=model, provider__slug="openai",
                                                             service_tier="standard")


def test_one_row_per_offering_with_every_source_beside_it(two_sources):
    litellm, mirror = two_sources
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05)}), 1)
    ingest(mirror, doc({"gpt-4o": (5e-06, 1.5e-05)}), 3)
    row = market("gpt-4o")
    assert MarketPrice.objects.filter(model__slug="gpt-4o").count() == 1
    assert (row.source.key, row.input_usd_per_mtok) == ("mirror", Decimal(5))  # confirmed more recently
    assert not row.sources_agree and row.source_count == 2 and row.max_gap_pct == Decimal(100)
    assert [(e["source"], e["input_usd_per_mtok"], e["last_confirmed_at"][:10]) for e in row.evidence] == [
        ("mirror", "5", "2026-01-03"), ("litellm", "2.5", "2026-01-01")]

    # LiteLLM's document seen again later is now the newest confirmation: its word wins.
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05)}), 9)
    row = market("gpt-4o")
    assert (row.source.key, row.input_usd_per_mtok, row.last_confirmed_at.day) == ("litellm", Decimal("2.5"), 9)


def test_a_source_that_stopped_listing_no_longer_counts(two_sources):
    litellm, mirror = two_sources
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 1)
    ingest(mirror, doc({"gpt-4o": (5e-06, 1.5e-05), "gpt-4o-mini": (1.5e-07, 6e-07)}), 3)
    assert not market("gpt-4o").sources_agree
    ingest(mirror, doc({"gpt-4o-mini": (1.5e-07, 6e-07)}), 5)  # the mirror drops gpt-4o
    row = market("gpt-4o")
    assert (row.source.key, row.source_count, row.sources_agree) == ("litellm", 1, True)
    assert market("gpt-4o-mini").sources_agree


def test_the_refresh_is_a_pure_function_of_current_prices(two_sources):
    litellm, mirror = two_sources
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05)}), 1)
    ingest(mirror, doc({"gpt-4o": (5e-06, 1.5e-05)}), 3)
    before = list(MarketPrice.objects.values_list("provider", "model", "price", "evidence", "sources_agree"))
    assert market_prices_refresh() == 0  # nothing to write: the incremental refreshes left it exact
    MarketPrice.objects.all().delete()
    market_prices_refresh()
    assert list(MarketPrice.objects.values_list("provider", "model", "price", "evidence", "sources_agree")) == before


def the_market_is_a_full_refresh_s(label: str) -> None:
    """What the incremental steps left is, row for row, what the policy gives from the current prices: a refresh
    of everything writes nothing, and the market rebuilt from nothing is the same table."""
    from tests.tables import dump_tables, first_difference

    tables = ["pricing.marketprice", "pricing.marketdisagreement"]
    before = dump_tables(tables)
    assert market_prices_refresh() == 0, label
    MarketPrice.objects.all().delete()
    market_prices_refresh()
    after = dump_tables(tables)
    assert after == before, f"{label}: {first_difference(before, after)}"


@pytest.mark.usefixtures("postgres")
def test_rows_confirmed_in_place_are_what_the_refresh_gives(two_sources):
    """A new document whose prices mostly continue: single-source rows of prices that only continued are
    confirmed in one UPDATE (market_confirm), everything else is recomputed; after every step the market is
    the policy's answer. Covers a row with two sources (left to the refresh), one losing its second source,
    a changed price, a second raw id of one source for the same offering (the plain id chosen; the other
    changes, then the chosen one goes), and a new model."""
    from apps.pricing import market as market_module

    litellm, mirror = two_sources
    a, b, c = (2.5e-06, 1e-05), (2e-06, 8e-06), (3e-06, 1.2e-05)
    confirmed: list[int] = []
    real = market_module.market_confirm

    def spy(**kwargs):
        confirmed.append(len(moved := real(**kwargs)))
        return moved

    steps = [
        (litellm, 1, {"gpt-4o": a, "openai/gpt-4o": a, "gpt-4o-mini": a, "o3": b, "o1": a}),
        (mirror, 2, {"gpt-4o": b, "o3": b}),
        (litellm, 3, {"gpt-4o": a, "openai/gpt-4o": b, "gpt-4o-mini": a, "o3": b, "o1": c}),  # two rows move
        (mirror, 4, {"o3": b, "gpt-4.1": a}),  # the mirror drops gpt-4o: litellm alone prices it again
        (litellm, 5, {"gpt-4o": a, "openai/gpt-4o": b, "gpt-4o-mini": a, "o3": b, "o1": c, "gpt-4.1": b}),
        (litellm, 6, {"openai/gpt-4o": b, "gpt-4o-mini": a, "o3": b, "o1": c, "gpt-4.1": b}),  # the plain id goes
        (litellm, 7, {"openai/gpt-4o": b, "gpt-4o-mini": a, "o3": b, "o1": c, "gpt-4.1": b, "o4-mini": a}),
        # The plain id back: it outranks the chosen one, which only continued.
        (litellm, 8, {"gpt-4o": c, "openai/gpt-4o": b, "gpt-4o-mini": a, "o3": b, "o1": c, "gpt-4.1": b,
                      "o4-mini": a}),
    ]
    market_module.market_confirm = spy
    try:
        for source, day, models in steps:
            ingest(source, doc(models), day)
            the_market_is_a_full_refresh_s(f"{source.key}, day {day}")
    finally:
        market_module.market_confirm = real
    # Confirmed in place (the counts say the shortcut ran, and where it must not, did not): day 3 gpt-4o-mini
    # alone (gpt-4o: one of its raw ids changed; o3: two sources; o1 changed). Day 5 gpt-4o (its plain id, the
    # chosen one; the other id's price is not the row's, so the pair is recomputed too), gpt-4o-mini and o1;
    # not o3 nor gpt-4.1, new here and priced by the mirror. Day 6 gpt-4o-mini and o1 (gpt-4o's plain id
    # ended). Day 7 openai/gpt-4o, now the chosen id, gpt-4o-mini and o1. Day 8 gpt-4o-mini, o1 and o4-mini, not
    # gpt-4o: its plain id is back and wins.
    assert confirmed == [0, 0, 1, 0, 3, 2, 3, 3], confirmed
    assert market("gpt-4o").evidence[0]["source_model_id"] == "gpt-4o"
    assert market("o3").source_count == 2


@pytest.mark.usefixtures("postgres")
def test_a_sighting_on_a_new_day_confirms_single_source_rows_in_place(two_sources):
    """The same document seen again the next day confirms every price it states: rows with one source are
    confirmed in place, a row with two is recomputed (the newer confirmation now wins it)."""
    from apps.pricing import market as market_module

    litellm, mirror = two_sources
    listing = doc({"gpt-4o": (2.5e-06, 1e-05), "o3": (2e-06, 8e-06)})
    ingest(litellm, listing, 1)
    ingest(mirror, doc({"o3": (3e-06, 8e-06)}), 2)
    assert market("o3").source.key == "mirror"
    confirmed: list[int] = []
    real = market_module.market_confirm

    def spy(**kwargs):
        confirmed.append(len(moved := real(**kwargs)))
        return moved

    market_module.market_confirm = spy
    try:
        run = ingest(litellm, listing, 3)
    finally:
        market_module.market_confirm = real
    assert "2 prices confirmed" in run.message, run.message
    assert confirmed == [1]  # gpt-4o; o3 has two sources
    assert (market("o3").source.key, market("gpt-4o").last_confirmed_at.day) == ("litellm", 3)
    the_market_is_a_full_refresh_s("after the sighting")


@pytest.mark.usefixtures("postgres")
def test_an_alias_resolved_again_takes_its_market_rows_along(db, monkeypatch):
    """A model's name changes in the newest listing, its price does not: the alias is resolved again (here to
    another model), and the offering whose price only continued now prices that model. The market row of the
    model it left goes, one of the new model comes; the rest is confirmed in place."""
    import dataclasses

    from apps.catalog import identity

    real = identity.resolve

    def resolve(raw_id, *, model_name="", **kwargs):
        found = real(raw_id, model_name=model_name, **kwargs)
        if raw_id == "acme/model-x" and model_name == "Acme Model X (2026 build)":  # a rule that reads the name
            return dataclasses.replace(found, slug="acme-model-x-2026", name=model_name)
        return found

    monkeypatch.setattr(identity, "resolve", resolve)
    openrouter = get_source("openrouter")

    def listing(name: str, *more: str) -> bytes:
        models = [{"id": model_id, "name": model_name, "pricing": {"prompt": "0.000001", "completion": "0.000002"}}
                  for model_id, model_name in [("acme/model-x", name), ("acme/model-y", "Acme Model Y"),
                                               *((m, m) for m in more)]]
        return json.dumps({"data": models}).encode()

    def rows() -> set[str]:
        return set(MarketPrice.objects.values_list("model__slug", flat=True))

    ingest(openrouter, listing("Acme Model X"), 1)
    assert rows() == {"acme-model-x", "acme-model-y"}
    the_market_is_a_full_refresh_s("day 1")
    ingest(openrouter, listing("Acme Model X (2026 build)"), 2)
    assert rows() == {"acme-model-x-2026", "acme-model-y"}
    the_market_is_a_full_refresh_s("day 2")
    ingest(openrouter, listing("Acme Model X (2026 build)", "acme/model-z"), 3)
    assert rows() == {"acme-model-x-2026", "acme-model-y", "acme-model-z"}
    the_market_is_a_full_refresh_s("day 3")


@pytest.mark.usefixtures("postgres")
def test_a_reparse_that_resolves_an_alias_again_takes_its_market_rows_along(db, monkeypatch):
    """The same through the full rebuild: the newest snapshot parsed again (after a parser fix) gives an alias
    other hints, and the rules another model."""
    import dataclasses

    from apps.catalog import identity
    from apps.catalog.models import ModelAlias
    from apps.sources.models import Snapshot
    from apps.sources.services import snapshot_reparse

    openrouter = get_source("openrouter")
    listing = json.dumps({"data": [{"id": "acme/model-x", "name": "Acme Model X",
                                    "pricing": {"prompt": "0.000001", "completion": "0.000002"}}]}).encode()
    ingest(openrouter, listing, 1)
    assert set(MarketPrice.objects.values_list("model__slug", flat=True)) == {"acme-model-x"}
    real = identity.resolve

    def resolve(raw_id, **kwargs):  # the fixed parser's rule
        found = real(raw_id, **kwargs)
        return dataclasses.replace(found, slug="acme-model-x-2026") if raw_id == "acme/model-x" else found

    monkeypatch.setattr(identity, "resolve", resolve)
    ModelAlias.objects.filter(raw_id="acme/model-x").update(name_hint="as the old parser read it")
    run = snapshot_reparse(snapshot=Snapshot.objects.get(source=openrouter))
    assert run.status == "ok", run.message
    assert set(MarketPrice.objects.values_list("model__slug", flat=True)) == {"acme-model-x-2026"}
    the_market_is_a_full_refresh_s("after the reparse")


def test_an_alias_resolved_by_a_new_rule_enters_the_market(db, monkeypatch):
    """aliases_reresolve (after the rules or the curated table changed): an unresolved raw id's prices become
    evidence for the model it now names, so the market gains its row then, not at the source's next ingest."""
    import dataclasses

    from apps.catalog import identity
    from apps.catalog.services import aliases_reresolve

    litellm = get_source("litellm")
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05), "model-x": (1e-06, 2e-06)}), 1)
    assert set(MarketPrice.objects.values_list("model__slug", flat=True)) == {"gpt-4o"}  # model-x: unresolved
    real = identity.resolve

    def resolve(raw_id, **kwargs):  # the new rule
        if raw_id == "model-x":
            return dataclasses.replace(real("gpt-4o", **kwargs), slug="model-x", name="Model X", rule="new-rule")
        return real(raw_id, **kwargs)

    monkeypatch.setattr(identity, "resolve", resolve)
    assert aliases_reresolve() == 1
    assert set(MarketPrice.objects.values_list("model__slug", flat=True)) == {"gpt-4o", "model-x"}
    the_market_is_a_full_refresh_s("after the new rule")


def test_the_matrix_on_a_small_fixture(two_sources):
    """By hand: three offerings both sources price, one of them differs by 100 % on input."""
    litellm, mirror = two_sources
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07), "o3": (2e-06, 8e-06),
                         "gpt-4.1": (2e-06, 8e-06)}), 1)
    ingest(mirror, doc({"gpt-4o": (5e-06, 1e-05), "gpt-4o-mini": (1.5e-07, 6e-07), "o3": (2e-06, 8e-06)}), 3)
    [pair] = agreement_matrix()
    assert (pair.source_a, pair.source_b, pair.pairs, pair.disagree) == ("litellm", "mirror", 3, 1)
    assert pair.share_pct == Decimal("33.3") and pair.median_gap_pct == Decimal("100.0")


def test_within_one_day_priority_decides_so_prices_do_not_flap():
    """Sources fetched every 6 and 12 hours: the later fetch the same day does not take the offering over."""
    morning = Evidence(1, 1, "litellm", 10, False, "m", (Decimal(1), None, None, None, None), "", None,
                       datetime(2026, 1, 5, 6, tzinfo=UTC))
    evening = Evidence(2, 2, "genai-prices", 20, False, "m", (Decimal(2), None, None, None, None), "", None,
                       datetime(2026, 1, 5, 18, tzinfo=UTC))
    later = Evidence(1, 1, "litellm", 10, False, "m", (Decimal(1), None, None, None, None), "", None,
                     datetime(2026, 1, 5, 23, 59, tzinfo=UTC))
    assert choose([morning, evening])[0].source == "genai-prices"
    assert choose([later, evening])[0].source == "genai-prices"
    assert choose([evening, Evidence(1, 1, "litellm", 10, False, "m", (Decimal(1), None, None, None, None), "",
                                     None, datetime(2026, 1, 6, 0, 1, tzinfo=UTC))])[0].source == "litellm"


def test_one_word_per_source_and_the_plain_id_names_the_offering():
    plain = Evidence(1, 1, "litellm", 10, False, "openrouter/meta-llama/llama-3-70b-instruct",
                     (Decimal("0.59"), None, None, None, None), "", None, datetime(2026, 1, 5, tzinfo=UTC))
    nitro = Evidence(2, 1, "litellm", 10, False, "openrouter/meta-llama/llama-3-70b-instruct:nitro",
                     (Decimal("0.9"), None, None, None, None), "", None, datetime(2026, 1, 5, tzinfo=UTC))
    assert choose([nitro, plain])[0].raw_id == plain.raw_id


def ingest_in_threads(*jobs: tuple[Source, bytes, int, Callable[[], None] | None]
                      ) -> tuple[dict[str, IngestRun], list[Exception]]:
    """Each (source, document, day, first) ingested at once in a thread of its own, named after the source key;
    ``first`` runs in that thread before its ingest. The runs by source key, and the threads' errors."""
    import threading

    from django.db import connection

    runs: dict[str, IngestRun] = {}
    errors: list[Exception] = []

    def run(source: Source, content: bytes, day: int, first: Callable[[], None] | None) -> None:
        try:
            if first is not None:
                first()
            runs[source.key] = source_ingest_bytes(
                source=source, content=content, trigger="command", observed_at=datetime(2026, 1, day, tzinfo=UTC),
                meta=FetchMeta(filename=f"{day}.json"))
        except Exception as exc:  # reported by the caller, with the thread's error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=job[0].key, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return runs, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sources_ingested_at_once_leave_the_market_exact(postgres, monkeypatch):
    """Market rows are shared by sources: two ingests refreshing the same row at the same moment must not
    write a row computed from what the other had not yet committed (nor deadlock on each other's rows).
    Both threads reach the refresh together; each writes what a full refresh would."""
    import threading

    from apps.pricing import market as market_module

    litellm = get_source("litellm")
    mirror = Source.objects.create(key="mirror", name="A second LiteLLM-format feed", format="litellm", priority=5)
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05)}), 1)  # the model, its alias and its market row exist

    real_refresh = market_module.market_prices_refresh
    together = threading.Barrier(2, timeout=20)

    def refresh_together(**kwargs):
        together.wait()
        return real_refresh(**kwargs)

    monkeypatch.setattr(market_module, "market_prices_refresh", refresh_together)
    # Not the alerts' hint after each commit: eager Celery (the tests' setting) running two tasks at once in
    # two threads leaves its process-wide "inside a task" flag set for every later test (celery.result's
    # denied_join_result saves and restores a global). Workers run tasks one per process or thread apart.
    from apps.alerts import tasks as alert_tasks

    monkeypatch.setattr(alert_tasks, "market_changed", lambda: None)
    runs, errors = ingest_in_threads((litellm, doc({"gpt-4o": (2e-06, 8e-06)}), 4, None),
                                     (mirror, doc({"gpt-4o": (5e-06, 1.5e-05)}), 3, None))
    assert not errors and {key: run.status for key, run in runs.items()} == {"litellm": "ok", "mirror": "ok"}, (
        errors, {key: run.message for key, run in runs.items()})
    monkeypatch.setattr(market_module, "market_prices_refresh", real_refresh)
    row = market("gpt-4o")
    assert (row.source.key, row.input_usd_per_mtok, row.source_count) == ("litellm", Decimal(2), 2)
    assert real_refresh() == 0  # what the two refreshes left is what one refresh of everything gives


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("backfill", "status"), [
    ({"gpt-4o": (2e-06, 8e-06), "gpt-4o-mini": (1.5e-07, 6e-07)}, "ok"),  # a document of its own: applied
    ({"gpt-4o": (2e-06, 8e-06)}, "unchanged"),  # the bytes of day 5, seen on day 4: a sighting
])
def test_a_rebuild_that_deletes_prices_waits_for_another_sources_market_refresh(postgres, monkeypatch, backfill,
                                                                                 status):
    """A backfill's full history rebuild deletes prices, and with them (cascade) the market rows that chose them
    and those rows' disagreements. Another source's ingest may be rewriting those disagreements at that moment,
    under the market lock: the rebuild's delete must wait for it. Found by the fault drill (two sources, files
    out of order): the rebuild read the disagreements before the other ingest committed new ones, and its
    COMMIT then found them pointing at the market row it had deleted; the backfill failed (IntegrityError)."""
    import threading
    import time

    from apps.alerts import tasks as alert_tasks
    from apps.pricing import market as market_module

    litellm = get_source("litellm")
    mirror = Source.objects.create(key="mirror", name="A second LiteLLM-format feed", format="litellm", priority=5)
    ingest(litellm, doc({"gpt-4o": (2.5e-06, 1e-05)}), 1)
    ingest(mirror, doc({"gpt-4o": (5e-06, 1.5e-05)}), 2)
    ingest(litellm, doc({"gpt-4o": (2e-06, 8e-06)}), 5)
    chosen = market("gpt-4o")
    assert chosen.source.key == "litellm" and not chosen.sources_agree  # litellm's price since day 5 is chosen

    real_refresh = market_module.market_prices_refresh
    wrote, rebuilding = threading.Event(), threading.Event()

    def refresh_and_hold(**kwargs):
        result = real_refresh(**kwargs)
        if threading.current_thread().name == "mirror":
            wrote.set()  # the market row's disagreements are rewritten, not yet committed
            rebuilding.wait(20)
            time.sleep(1.5)  # the backfill reaches its delete of litellm's prices meanwhile
        return result

    monkeypatch.setattr(market_module, "market_prices_refresh", refresh_and_hold)
    monkeypatch.setattr(alert_tasks, "market_changed", lambda: None)  # see the test above

    def after_the_mirror_wrote() -> None:
        wrote.wait(20)
        rebuilding.set()

    # The mirror's next file (its newest: appended), and litellm's file of day 4, between its days 1 and 5: a
    # backfill, whose rebuild moves the start of litellm's current price (day 5 -> day 4), deleting that row.
    runs, errors = ingest_in_threads((mirror, doc({"gpt-4o": (6e-06, 1.8e-05)}), 3, None),
                                     (litellm, doc(backfill), 4, after_the_mirror_wrote))
    assert not errors and {key: run.status for key, run in runs.items()} == {"litellm": status, "mirror": "ok"}, (
        errors, {key: run.message for key, run in runs.items()})
    monkeypatch.setattr(market_module, "market_prices_refresh", real_refresh)
    row = market("gpt-4o")
    assert (row.source.key, row.input_usd_per_mtok, row.price.effective_from.day) == ("litellm", Decimal(2), 4)
    assert row.disagreements.count() == 2 and {d.high_usd_per_mtok for d in row.disagreements.all()} == {
        Decimal(6), Decimal(18)}
    assert real_refresh() == 0  # what the two left is what one refresh of everything gives
