"""Alerts benchmark on PostgreSQL (issue 16): 10,000 watches, a snapshot that changes 1,000 market prices.

Builds a LiteLLM-format market of 24 providers x 100 models (2,400 offerings, every id resolved by the
identity rules), ingests it (the alerts' baseline), defines 10,000 watches of 100 users (targets: model,
model at a provider, provider, size class; conditions: change by more than N %, below/above a threshold,
new provider, disappears, disagreement), then ingests a second document in which 1,000 input prices moved.

Measured: from the commit of that second ingest to the alerts and their deliveries committed and the
delivery messages on the broker, i.e. the body of apps.alerts.tasks.market_events_process (run here, in
this process, as a worker runs it; the hint the commit sent is on the broker too). Deliveries go to a real
Redis broker (CELERY_BROKER_URL, default db 11) and are purged afterwards: nothing is sent. Then the work is
repeated (the hint again, the sweep) and the bench checks that no watch got a second alert for an event
and no alert a second delivery. Prints the figures with the load average.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/tw_alerts_bench \
  CELERY_BROKER_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/alerts.py [--repeat 3]
The database is created if missing and flushed before each round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from benchdb import ensure_database

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tokenwatch.settings.base")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tw_alerts_bench")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")

PROVIDERS = ["openai", "azure", "azure_ai", "openrouter", "deepinfra", "together_ai", "fireworks_ai", "groq",
             "bedrock", "vertex_ai", "anyscale", "perplexity", "replicate", "databricks", "sambanova", "nebius",
             "hyperbolic", "novita", "lambda_ai", "cerebras", "friendliai", "ovhcloud", "nscale", "featherless_ai"]
MODELS = [f"gpt-4o-2023-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(100)]
WATCHES, USERS, CHANGED = 10_000, 100, 1_000


def document(prices: dict[tuple[str, str], tuple[Decimal, Decimal]]) -> bytes:
    return json.dumps({f"{p}/{m}": {"litellm_provider": p, "mode": "chat", "input_cost_per_token": float(i / 10**6),
                                    "output_cost_per_token": float(o / 10**6)}
                       for (p, m), (i, o) in prices.items()}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the measured task, top 30 by cumulative time")
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db.models import Count

    from apps.alerts import tasks
    from apps.alerts.models import Alert, Delivery, MarketEvent, Watch
    from apps.catalog.models import Model, Provider
    from apps.sources.defaults import sources_ensure_defaults
    from apps.sources.models import IngestRun, Source
    from apps.sources.services import FetchMeta, source_ingest_bytes
    from tokenwatch.celery import app

    call_command("migrate", verbosity=0)
    rng = random.Random(16)
    base = {(p, m): (Decimal(rng.randint(10, 2000)) / 100, Decimal(rng.randint(100, 8000)) / 100)
            for p in PROVIDERS for m in MODELS}
    changed = dict(base)
    for key in rng.sample(sorted(base), CHANGED):
        i, o = base[key]
        changed[key] = ((i * Decimal(rng.choice([80, 90, 95, 97, 103, 110, 120])) / 100).quantize(Decimal("0.0001")),
                        o)

    def ingest(content: bytes, day: int) -> IngestRun:
        run = source_ingest_bytes(source=Source.objects.get(key="litellm"), content=content, trigger="command",
                                  observed_at=datetime(2026, 3, day, tzinfo=UTC),
                                  meta=FetchMeta(filename=f"{day}.json"))
        assert run.status == IngestRun.Status.OK, run.message
        return run

    def watches() -> None:
        User = get_user_model()
        users = [User.objects.create_user(f"bench{n:03d}", email=f"bench{n:03d}@example.com") for n in range(USERS)]
        models = list(Model.objects.filter(slug__in=MODELS))
        providers = list(Provider.objects.filter(slug__in={p.replace("_", "-") for p in PROVIDERS}
                                                 | set(PROVIDERS)))
        sizes = sorted({m.size_class for m in models if m.size_class}) or ["frontier-closed"]
        rows = []
        for n in range(WATCHES):
            target = rng.choices(["model", "offering", "provider", "size-class"], [40, 40, 15, 5])[0]
            condition = rng.choices(["change", "below", "above", "new-provider", "disappears", "disagreement"],
                                    [40, 20, 10, 10, 10, 10])[0]
            if target in ("provider", "size-class") and condition in ("change", "below", "above"):
                condition = rng.choice(["new-provider", "disappears", "disagreement"])  # broad targets: events
            rows.append(Watch(
                owner=users[n % USERS], name=f"bench {n}", target=target,
                model=rng.choice(models) if target in ("model", "offering") else None,
                provider=rng.choice(providers) if target in ("provider", "offering") else None,
                size_class=rng.choice(sizes) if target == "size-class" else "", condition=condition,
                component=rng.choice(["input_usd_per_mtok", "blended"]),
                change_pct=Decimal(rng.choice([2, 5, 10, 15])) if condition == "change" else None,
                threshold_usd_per_mtok=Decimal(rng.randint(50, 1500)) / 100 if condition in ("below", "above")
                else None, email=True, webhook_url="https://hooks.example.com/tw" if n % 4 == 0 else "",
                webhook_secret="bench-secret" if n % 4 == 0 else ""))
        Watch.objects.bulk_create(rows, batch_size=2000)

    def load() -> str:
        one, five, fifteen = os.getloadavg()
        return f"load {one:.2f} {five:.2f} {fifteen:.2f}"

    times = []
    for round_ in range(1, args.repeat + 1):
        call_command("flush", interactive=False, verbosity=0)
        sources_ensure_defaults(Source)
        ingest(document(base), 1)
        tasks.market_events_process.apply()  # the baseline (the first look at a market makes no events)
        watches()
        app.control.purge()
        started = time.perf_counter()
        ingest(document(changed), 2)
        committed = time.perf_counter()
        if args.profile:
            import cProfile
            import pstats

            with cProfile.Profile() as profile:
                queued = tasks.market_events_process.apply().get()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        else:
            queued = tasks.market_events_process.apply().get()
        done = time.perf_counter()
        events = MarketEvent.objects.filter(kind="price").count()
        alerts, deliveries = Alert.objects.count(), Delivery.objects.count()
        # The same work again, as a duplicated hint and the sweep would: nothing new.
        tasks.market_events_process.apply()
        tasks.alerts_sweep.apply()
        again = (Alert.objects.count(), Delivery.objects.count())
        doubled = Alert.objects.values("watch", "event").annotate(n=Count("id")).filter(n__gt=1).count()
        purged = app.control.purge()
        times.append(done - committed)
        print(f"round {round_}: ingest {committed - started:.2f} s; alerts queued {done - committed:.2f} s after the "
              f"commit ({events} price events, {alerts} alerts, {deliveries} deliveries, {queued} queued to the "
              f"broker in {(queued + 99) // 100} messages, {purged} messages purged); repeat added "
              f"{again[0] - alerts} alerts, {again[1] - deliveries} deliveries; (watch, event) pairs alerted twice: "
              f"{doubled}; {load()}", flush=True)
    print(f"median alerts queued after commit: {statistics.median(times):.2f} s over {len(times)} rounds "
          f"(goal: within 5 s, {WATCHES} watches, {CHANGED} changed prices); {load()}")


if __name__ == "__main__":
    main()
