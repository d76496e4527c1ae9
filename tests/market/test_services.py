"""Ingest of market-size tables through the pipeline: the seed table, bad files, idempotence, arrival order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from apps.market.models import Segment, SizeEstimate, StatedCagr
from apps.sources.models import IngestRun, Rejection, Snapshot, Source
from apps.sources.services import FetchMeta, snapshot_reparse, source_ingest_bytes

ARTICLE = datetime(2024, 1, 1, tzinfo=UTC)
SEED = "seed-article/market_segments.csv"
HEADER = "segment,base_year,base_value_usd_bn,target_year,target_value_usd_bn,stated_cagr_pct,primary_driver,source\n"


def ingest_bytes(content: bytes, observed_at: datetime = ARTICLE, name: str = "market.csv") -> IngestRun:
    return source_ingest_bytes(source=Source.objects.get(key="market-csv"), content=content, trigger="command",
                               observed_at=observed_at, meta=FetchMeta(filename=name))


def counts() -> tuple[int, int, int]:
    return Segment.objects.count(), SizeEstimate.objects.count(), StatedCagr.objects.count()


def test_it_ingests_the_seed_market_table(ingest_file) -> None:
    run = ingest_file("market-csv", SEED, observed_at=ARTICLE)
    assert run.status == IngestRun.Status.OK, run.message
    assert counts() == (4, 8, 4)
    assert run.created_count == 12
    inference = Segment.objects.get(name="AI Inference Infrastructure")
    sizes = list(inference.sizes.order_by("year").values_list("year", "value_usd_bn", "kind", "source_label"))
    assert sizes == [(2023, Decimal(30), "actual", "seed-article"), (2027, Decimal(180), "projection", "seed-article")]
    assert inference.stated_cagrs.get().cagr_pct == Decimal(65)
    assert inference.sizes.first().driver == "Application Scaling & Token Consumption"


def test_it_changes_nothing_when_the_same_table_comes_again(ingest_file) -> None:
    first = ingest_file("market-csv", SEED, observed_at=ARTICLE)
    assert ingest_file("market-csv", SEED, observed_at=ARTICLE).status == IngestRun.Status.UNCHANGED
    reparse = snapshot_reparse(snapshot=first.snapshot)
    assert (reparse.created_count, reparse.changed_count, reparse.unchanged_count) == (0, 0, 12)
    assert counts() == (4, 8, 4)


def test_it_quarantines_bad_rows_with_their_line_and_ingests_the_rest(db) -> None:
    content = ("\ufeff" + HEADER.replace(",", ";")
               + "General Purpose Cloud Compute;2023;$220;2027;\"$450\";20%;Digital Transformation;seed-article\n"
               + "AI Training Infrastructure;20O7;45;2027;110;25%;;seed-article\n"
               + "AI Inference Infrastructure;2023;-30;2027;180;65%;;seed-article\n"
               + "General Purpose Cloud Compute;2023;220;2027;450;20;;seed-article\n"
               + "AI-as-a-Service (Endpoint APIs);2023;1.015,5;2027;75;50%;\"Developer, Adoption\";seed-article\n"
               + "\n\n").encode()
    run = ingest_bytes(content)
    assert run.status == IngestRun.Status.OK, run.message
    assert list(Rejection.objects.filter(snapshot=run.snapshot).values_list("locator", "reason")) == [
        ("line 3", "base_year '20O7' is not a four-digit year"),
        ("line 4", "base_value_usd_bn is negative ('-30')"),
        ("line 5", "duplicate of line 2 (same segment, source, base year and target year); the first one is kept"),
    ]
    assert counts() == (2, 4, 2)
    aaas = SizeEstimate.objects.get(segment__name="AI-as-a-Service (Endpoint APIs)", year=2023)
    assert aaas.value_usd_bn == Decimal("1015.5")
    assert aaas.driver == "Developer, Adoption"


def test_it_fails_a_table_missing_columns_and_changes_no_table(ingest_file) -> None:
    ingest_file("market-csv", SEED, observed_at=ARTICLE)
    run = ingest_bytes(b"segment,year,stated_cagr_pct\nX,2023,5\n", name="partial.csv")
    assert run.status == IngestRun.Status.FAILED
    assert run.message.startswith("partial.csv: missing required column(s): base_value_usd_bn")
    assert run.snapshot.parse_status == Snapshot.Status.FAILED
    assert counts() == (4, 8, 4)


def test_it_keeps_the_newest_snapshots_figures_whatever_the_arrival_order(db) -> None:
    old = (HEADER + "AI Inference Infrastructure,2023,30,2027,180,65,Scaling,seed-article\n").encode()
    new = (HEADER + "AI Inference Infrastructure,2023,31,2027,200,60,Scaling,seed-article\n").encode()
    later = datetime(2025, 1, 1, tzinfo=UTC)

    def state() -> list[tuple]:
        return [*SizeEstimate.objects.order_by("year").values_list("year", "value_usd_bn", "kind"),
                *StatedCagr.objects.values_list("cagr_pct", flat=True)]

    ingest_bytes(old, ARTICLE)
    ingest_bytes(new, later)
    in_order = state()
    # Observed in 2025, the 2023 size is an actual and the 2027 one a projection.
    assert in_order == [(2023, Decimal(31), "actual"), (2027, Decimal(200), "projection"), Decimal(60)]
    SizeEstimate.objects.all().delete()
    StatedCagr.objects.all().delete()
    Snapshot.objects.filter(source__key="market-csv").delete()
    ingest_bytes(new, later)
    backfill = ingest_bytes(old, ARTICLE)
    assert (backfill.created_count, backfill.changed_count) == (0, 0)
    assert state() == in_order
