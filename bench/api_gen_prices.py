"""Fill a PostgreSQL database with a large, realistic price history for the API benchmark (issue 4).

Default: 5,000 offerings (60 providers, and a 61st with a single offering; 800
canonical models, three sources) x 200
validity intervals each = 1,000,000 price rows from 2018-06 to 2026, every row
with its snapshot, prices drifting down over the years, some labelled, some
with cache prices. Providers, models, aliases and offerings go in with the
ORM; prices with COPY.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tokenwatch_apibench .venv/bin/python bench/api_gen_prices.py \\
      [--offerings 5000] [--intervals 200] [--reset]
The database is created if missing and migrated. Without --reset a database that
already holds the requested number of prices is left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from benchdb import ensure_database

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tokenwatch_apibench"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)

START = datetime(2018, 6, 1, tzinfo=UTC)
STEP = timedelta(days=14)
KINDS = ["first-party", "inference-cloud", "hyperscaler", "aggregator", "silicon", "local-runtime"]
TIERS = ["standard"] * 8 + ["batch", "flex"]
REGIONS = [""] * 6 + ["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"]
SOURCES = ["litellm", "openrouter", "genai-prices"]



def money(value: float) -> str:
    return str(Decimal(repr(round(value, 6))).normalize()) if value else "0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offerings", type=int, default=5000)
    parser.add_argument("--intervals", type=int, default=200, help="price intervals per offering")
    parser.add_argument("--reset", action="store_true", help="empty the price tables first")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (the benchmark is about PostgreSQL)")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from apps.benchmarks.models import BenchmarkRun
    from apps.catalog.models import Model, ModelAlias, Offering, Provider
    from apps.pricing.models import MarketPrice, Price, PriceChange, PriceObservation
    from apps.sources.defaults import sources_ensure_defaults
    from apps.sources.models import Snapshot, Source

    call_command("migrate", verbosity=0)
    target = args.offerings * args.intervals
    if not args.reset and Price.objects.count() >= target:
        print(f"{Price.objects.count():,} prices already there; use --reset to rebuild")
        return

    began = time.perf_counter()
    rng = random.Random(4)
    with transaction.atomic():
        # TRUNCATE, not delete(): Django's delete collects the rows that point at a million prices (the market
        # prices) with one parameter per price, past PostgreSQL's 65,535. Benchmark runs are named: their checks
        # are triggers since benchmarks 0007, which CASCADE does not follow.
        tables = ", ".join(t._meta.db_table for t in (MarketPrice, PriceChange, PriceObservation, Price, Offering,
                                                      BenchmarkRun, ModelAlias, Model, Snapshot))
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        Provider.objects.filter(slug__startswith="bench-").delete()
        sources_ensure_defaults(Source)
        sources = [Source.objects.get(key=k) for k in SOURCES]

        # One snapshot per source per interval: every price names the document that showed it.
        snapshots: dict[tuple[int, int], int] = {}
        for source in sources:
            batch = []
            for i in range(args.intervals):
                content = f"bench {source.key} {i}".encode()
                batch.append(Snapshot(source=source, sha256=hashlib.sha256(content).hexdigest(), content=content,
                                      size_bytes=len(content), observed_at=START + i * STEP,
                                      parse_status=Snapshot.Status.OK))
            for snap in Snapshot.objects.bulk_create(batch):
                snapshots[(source.pk, round((snap.observed_at - START) / STEP))] = snap.pk

        providers = Provider.objects.bulk_create([
            Provider(slug=f"bench-provider-{n}", name=f"Bench Provider {n}", kind=KINDS[n % len(KINDS)])
            for n in range(60)] + [Provider(slug="bench-provider-small", name="Bench Provider Small", kind=KINDS[0])])
        families = ["llama", "mistral", "qwen", "gpt", "claude", "gemini", "deepseek", "phi"]
        models = Model.objects.bulk_create([
            Model(slug=f"bench-{families[n % 8]}-{n}", name=f"Bench {families[n % 8]} {n}", family=families[n % 8],
                  size_class=f"{[8, 70, 405][n % 3]}b-class") for n in range(800)])
        aliases, offerings = [], []
        for n in range(args.offerings):
            # Offerings n and n + 2,400 are the same market offering (provider, model, region and tier repeat
            # with that period); each round goes to the next source, so they are two sources' words on one
            # offering, disagreeing (their random base prices differ): the market endpoints' load.
            source = sources[(n + n // 2400) % len(sources)]
            aliases.append(ModelAlias(source=source, raw_id=f"bench/model-{n}",
                                      model=models[n % len(models)] if n % 20 else None,
                                      status=ModelAlias.Status.RULE if n % 20 else ModelAlias.Status.UNRESOLVED))
        aliases = ModelAlias.objects.bulk_create(aliases, batch_size=2000)
        for n, alias in enumerate(aliases):
            # The last offering (the newest price ids) is the small provider's only one: a selective filter.
            provider = providers[-1] if n == args.offerings - 1 else providers[n % 60]
            offerings.append(Offering(source=alias.source, provider=provider, alias=alias,
                                      source_model_id=alias.raw_id, region=REGIONS[n % len(REGIONS)],
                                      service_tier=TIERS[n % len(TIERS)], mode="chat"))
        offerings = Offering.objects.bulk_create(offerings, batch_size=2000)
        print(f"catalog: {len(providers)} providers, {len(models)} models, {len(offerings):,} offerings, "
              f"{len(snapshots):,} snapshots ({time.perf_counter() - began:.1f} s)")

        columns = ("offering_id", "provider_id", "effective_from", "effective_to", "input_usd_per_mtok",
                   "output_usd_per_mtok", "cached_input_usd_per_mtok", "unit_prices", "price_label", "basis",
                   "snapshot_id")
        copy_began = time.perf_counter()
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY pricing_price ({', '.join(columns)}) FROM STDIN") as copy:
            # Interval by interval, as ingestion creates them: price ids grow with time, so the newest
            # intervals have the highest ids (a filter on recent dates cannot find them early in id order).
            bases = [rng.uniform(0.05, 30.0) for _ in offerings]
            for i in range(args.intervals):
                start = START + i * STEP
                end = None if i == args.intervals - 1 else start + STEP
                for offering, base in zip(offerings, bases, strict=True):
                    labelled = "free" if offering.pk % 97 == 0 else ""
                    cached = offering.pk % 2 == 0
                    level = 0.0 if labelled else base * (0.985 ** i) * rng.uniform(0.97, 1.03)
                    copy.write_row((offering.pk, offering.provider_id, start, end, money(level), money(level * 3),
                                    money(level / 2) if cached else None, "[]", labelled, "observed",
                                    snapshots[(offering.source_id, i)]))
        print(f"prices: {target:,} rows by COPY in {time.perf_counter() - copy_began:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The market prices (issue 10) are a function of the current prices: build them as ingest would.
    from apps.pricing.market import market_prices_refresh
    from apps.pricing.models import MarketDisagreement

    market_began = time.perf_counter()
    with transaction.atomic():
        market_prices_refresh()
    print(f"market: {MarketPrice.objects.count():,} market prices, {MarketDisagreement.objects.count():,} "
          f"disagreements in {time.perf_counter() - market_began:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"done: {Price.objects.count():,} prices in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
