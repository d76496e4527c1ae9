"""The market price of an offering: one answer chosen from what every source says, disagreement kept.

An offering in the market is provider x canonical model x region x service tier x
context tier. Each source's current price for it is *evidence* (a source-level Price
row). The policy, documented in the README and tested on hand-made cases:

1. Only current statements count: a source that stopped listing the offering (its
   price ended) no longer has a say.
2. The most recently confirmed statement wins (``last_confirmed_at``: the newest look at
   a document that still states it, compared by UTC day), because a newer look is better
   evidence of today's price than an older one; by day so that sources fetched on different
   schedules do not take turns within a day.
3. Between equally recent statements, a source's statement about its own provider
   (``Source.own_provider_slug``: OpenRouter's API about OpenRouter) outranks copies by
   others, then the higher ``Source.priority`` (curators edit both in the admin), then the
   source key, so the choice never depends on arrival order.

``sources_agree`` is true when, for every component, all current source values are equal
as decimals (2.5 == 2.50) and their labels do not conflict ("unknown" states nothing); ``max_gap_pct`` is the largest
(highest - lowest) / lowest x 100 over the components where two sources give a value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from apps.common.bulk import batched, bulk_insert, bulk_update_rows
from apps.common.lookups import integer_array
from apps.common.timestamps import timestamp_text
from scrapers.records import LABEL_UNKNOWN

from .models import COMPONENTS, MarketDisagreement, MarketPrice, Price
from .selectors import as_of_moment, prices_as_of, prices_current

MarketKey = tuple[int, int, str, str, int]  # provider id, model id, region, service tier, min prompt tokens
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FACT_FIELDS = ("pk", "provider_id", "offering__alias__model_id", "offering__region", "offering__service_tier",
               "offering__min_prompt_tokens", "offering__source_id", "offering__source__key",
               "offering__source__priority", "offering__source__own_provider_slug", "provider__slug",
               "offering__source_model_id", *COMPONENTS, "price_label", "effective_from", "last_confirmed_at")


@dataclass(frozen=True)
class Evidence:
    """One source's current statement about one market offering."""

    price_id: int
    source_id: int
    source: str
    priority: int
    own_provider: bool  # the source is this provider's own price list
    raw_id: str  # the source's own spelling of the model
    values: tuple[Decimal | None, ...]  # in COMPONENTS order
    price_label: str
    effective_from: datetime | None
    last_confirmed_at: datetime | None

    def rank(self) -> tuple[date, bool, int, str, int, str]:
        """Larger wins: newest confirmation (by UTC day), then own provider, then priority, then (for
        determinism) the source key and the shorter, then larger, raw id.

        By day, not by instant: sources fetched every 6 and every 12 hours would otherwise take turns
        as "newest" several times a day, and a disputed offering's price would flap with them; within a
        day the curators' priority decides.
        """
        confirmed = self.last_confirmed_at or self.effective_from or _EPOCH
        # Within one source, the plainest id names the offering: "x" over a routing variant "x:nitro".
        return (confirmed.astimezone(UTC).date(), self.own_provider, self.priority, self.source,
                -len(self.raw_id), self.raw_id)

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "price": self.price_id, "source_model_id": self.raw_id,
                "last_confirmed_at": timestamp_text(self.last_confirmed_at) if self.last_confirmed_at else None,
                **{name: (None if v is None else str(v)) for name, v in zip(COMPONENTS, self.values, strict=True)},
                "price_label": self.price_label}


@dataclass(frozen=True)
class MarketRow:
    key: MarketKey
    chosen: Evidence
    evidence: tuple[Evidence, ...]  # chosen first, then the others by rank
    sources_agree: bool
    max_gap_pct: Decimal | None


def choose(evidence: Iterable[Evidence]) -> list[Evidence]:
    """The evidence in policy order: the chosen statement first."""
    return sorted(evidence, key=Evidence.rank, reverse=True)


def labels_conflict(labels: Iterable[str]) -> bool:
    """Two sources' labels conflict when they differ, "free" against a number say, except that "unknown"
    (the source gives no price at all) states nothing to disagree with."""
    return len({label for label in labels if label != LABEL_UNKNOWN}) > 1


def agreement(evidence: list[Evidence]) -> tuple[bool, Decimal | None]:
    """(all current values equal as decimals and labels equal, largest relative gap in % or None)."""
    agree = not labels_conflict([e.price_label for e in evidence])
    gap: Decimal | None = None
    for index in range(len(COMPONENTS)):
        values = [e.values[index] for e in evidence if e.values[index] is not None]
        if len(values) < 2:
            continue
        low, high = min(values), max(values)
        if low != high:
            agree = False
            if low > 0:
                relative = ((high - low) / low * 100).quantize(Decimal("0.01"))
                gap = relative if gap is None or relative > gap else gap
    return agree, gap


def market_rows(facts: Iterable[tuple[Any, ...]]) -> Iterator[MarketRow]:
    """Group source prices (rows of FACT_FIELDS) into market offerings and apply the policy."""
    groups: dict[MarketKey, list[Evidence]] = defaultdict(list)
    n = len(COMPONENTS)
    for row in facts:
        (price_id, provider_id, model_id, region, tier, min_prompt, source_id, source_key, priority, own_slug,
         provider_slug, raw_id, *rest) = row
        values, (label, effective_from, confirmed) = tuple(rest[:n]), rest[n:]
        groups[(provider_id, model_id, region, tier, min_prompt)].append(Evidence(
            price_id, source_id, source_key, priority, bool(own_slug) and own_slug == provider_slug, raw_id, values,
            label, effective_from, confirmed))
    for key, evidence in groups.items():
        if len(evidence) == 1:  # most offerings have one source: nothing to rank or compare
            yield MarketRow(key, evidence[0], (evidence[0],), True, None)
            continue
        # One word per source: two raw ids of one source naming the same offering (a dated id and its
        # alias) are one statement, the policy's first.
        ordered = []
        for item in choose(evidence):
            if all(item.source_id != kept.source_id for kept in ordered):
                ordered.append(item)
        agree, gap = agreement(ordered)
        yield MarketRow(key, ordered[0], tuple(ordered), agree, gap)


def _evidence_queryset(queryset: QuerySet[Price]) -> QuerySet[Price]:
    return queryset.filter(offering__alias__model__isnull=False)


def market_rows_as_of(moment: date | datetime, queryset: QuerySet[Price] | None = None) -> list[MarketRow]:
    """The market as it stood at a moment, by the same policy, from the source prices in force then.

    A confirmation later than the moment is not known then: the statement counts as confirmed at
    the moment (so equally recent, and priority decides), never by what was seen afterwards.
    """
    qs = _evidence_queryset(prices_as_of(moment, queryset))
    at = as_of_moment(moment)  # the same instant prices_as_of uses (a date is the end of that day)
    facts = []
    for row in qs.values_list(*FACT_FIELDS).iterator(chunk_size=5000):
        confirmed = row[-1]
        facts.append((*row[:-1], min(confirmed, at) if confirmed is not None else None))
    return list(market_rows(facts))


def market_fields(row: MarketRow) -> dict[str, Any]:
    chosen = row.chosen
    return {"price_id": chosen.price_id, "source_id": chosen.source_id,
            **dict(zip(COMPONENTS, chosen.values, strict=True)), "price_label": chosen.price_label,
            "effective_from": chosen.effective_from, "last_confirmed_at": chosen.last_confirmed_at,
            "source_count": len(row.evidence), "sources_agree": row.sources_agree, "max_gap_pct": row.max_gap_pct,
            "evidence": [e.as_json() for e in row.evidence]}


def market_prices_refresh(*, pairs: set[tuple[int, int]] | None = None) -> int:
    """Bring MarketPrice rows up to date with the current source prices; write only differences.

    ``pairs`` limits the work to these (provider id, model id) pairs (what one snapshot can have
    touched); None refreshes everything. Returns how many rows were written or deleted.
    """
    if pairs is not None and not pairs:
        return 0
    market_lock()
    current = _evidence_queryset(prices_current())
    existing = MarketPrice.objects.all()
    if pairs is not None:
        # A superset by provider and by model (one OR per pair cost 50 ms of query building for a LiteLLM
        # file's 2,000 pairs); rows outside the pairs are dropped below.
        providers, models = {p for p, _ in pairs}, {m for _, m in pairs}
        current = current.filter(provider_id__any_of=providers, offering__alias__model_id__any_of=models)
        existing = existing.filter(provider_id__any_of=providers, model_id__any_of=models)
    # Plain fetches, not server-side cursors: the rows are what one market holds (thousands), and a cursor's
    # DECLARE/FETCH round trips and fast-start plans cost more than the memory they save.
    wanted = {row.key: row for row in market_rows(current.order_by().values_list(*FACT_FIELDS))
              if pairs is None or (row.key[0], row.key[1]) in pairs}
    # Stored rows as tuples (no model instances: thousands per snapshot): key -> (id, MARKET_FIELDS values).
    # The evidence read as text and parsed by orjson: the JSONField's json.loads was a quarter of the Python of
    # a refresh that changes little. Evidence holds strings, integers and nulls (Evidence.as_json), which
    # both parsers read alike.
    stored_rows = existing.order_by().annotate(evidence_text=Cast("evidence", TextField())).values_list(
        "pk", *KEY_FIELDS, *MARKET_SCALARS, "evidence_text")
    have = {tuple(key): (pk, values) for pk, *key, values in (
        (row[0], *row[1:6], (*row[6:-1], orjson.loads(row[-1]))) for row in stored_rows)
        if pairs is None or (key[0], key[1]) in pairs}
    stale = [pk for key, (pk, _) in have.items() if key not in wanted]
    to_create: list[dict[str, Any]] = []
    to_update: list[dict[str, Any]] = []
    rewrite: list[int] = []  # updated rows whose disagreements may have changed
    agree_index = MARKET_FIELDS.index("sources_agree")
    for key, row in wanted.items():
        fields = market_fields(row)
        found = have.get(key)
        if found is None:
            to_create.append({"provider_id": key[0], "model_id": key[1], "region": key[2], "service_tier": key[3],
                              "min_prompt_tokens": key[4], **fields})
            continue
        pk, stored = found
        # One tuple comparison in C: == is what a field-by-field check would do (decimals by value, so SQLite's
        # 100 reads back equal to 100.00; None equal only to None), and a refresh that changes nothing
        # spent a fifth of its Python in a generator over the fields.
        if stored != market_values(fields):
            to_update.append({"id": pk, **fields})
            if not stored[agree_index] or not row.sources_agree:
                rewrite.append(pk)
    for chunk in batched(stale):
        MarketPrice.objects.filter(pk__in=chunk).delete()
    bulk_insert(MarketPrice, to_create)
    bulk_update_rows(MarketPrice, to_update, list(MARKET_FIELDS))
    _disagreements_refresh(wanted, rewrite, [
        (row["provider_id"], row["model_id"], row["region"], row["service_tier"], row["min_prompt_tokens"])
        for row in to_create if not row["sources_agree"]])
    if stale or to_create or to_update:
        _announce()
    return len(stale) + len(to_create) + len(to_update)


def market_confirm(*, price_ids: list[int], at: datetime) -> set[int]:
    """Move the confirmation of the single-source market rows that chose one of these prices to ``at``, in one
    UPDATE; returns the ids of the prices whose rows moved (PostgreSQL; elsewhere nothing, and the caller
    refreshes those rows in full).

    For the caller's promise only: each price was just confirmed at ``at`` and left as it was (same values,
    still open), and no other price of its source that is new, changed or ended shares its (provider, model).
    Such a row has one word, unchanged but for its confirmation, so the policy's answer is that word again:
    the refresh would read, recompute and rewrite it to give the same row with the new confirmation. A row
    with more sources is left to the refresh, since a newer confirmation can change which source wins. Most
    rows of a new document are of this kind (three in five over the seven LiteLLM files), and the refresh's
    per-row Python was the largest step of an ingest (bench/README.md, issue 14).
    """
    if connection.vendor != "postgresql" or not price_ids:
        return set()
    market_lock()
    with connection.cursor() as cursor:
        # The evidence's one entry gets the confirmation as Evidence.as_json writes it.
        cursor.execute(
            "UPDATE pricing_marketprice SET last_confirmed_at = %s, "
            "evidence = jsonb_set(evidence, '{0,last_confirmed_at}', to_jsonb(%s::text)) "
            "WHERE source_count = 1 AND price_id = ANY(%s::bigint[]) RETURNING price_id",
            [at, timestamp_text(at), integer_array(price_ids)])
        moved = {row[0] for row in cursor.fetchall()}
    if moved:
        _announce()
    return moved


def _announce() -> None:
    """Watches hear of market changes once they are committed (a hint; the alerts sweep is the backstop): one
    hint per transaction, however many steps of it wrote market rows."""
    from apps.alerts.tasks import market_changed

    if all(func is not market_changed for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(market_changed, robust=True)


# pg_advisory_xact_lock's key for "writing market rows" (any constant no other lock in the project uses).
MARKET_LOCK_KEY = 7_341_150_000_001


def market_lock() -> None:
    """Hold the market's write lock until this transaction ends (PostgreSQL; SQLite has one writer anyway).

    Market rows are shared by every source: two sources' ingests (or an ingest and a curator's alias change)
    refreshing overlapping (provider, model) pairs would each read the rows, then update, delete and insert
    them in their own order. That deadlocked in the fault drills (PostgreSQL then fails one), and two
    inserts of one new key would fail the second on the unique constraint. Taken first, before the reads,
    the lock makes each refresh see the one before it committed; it is held only from the refresh to the
    commit, the end of an ingest. Ingests of one source are already serialised by their source row's lock.

    Deleting prices deletes the market rows that chose them, and their disagreements (Django's cascade), so
    a history rebuild takes the lock before it deletes prices (apps.pricing.services._write_history): the
    cascade reads the disagreements to delete, and another source's refresh committing new ones after that
    read left them pointing at a deleted market row, failing the rebuild at COMMIT (the fault drill, two
    sources' files out of order). Taking it twice in one transaction is harmless (it nests).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MARKET_LOCK_KEY])


MARKET_SCALARS = ("price_id", "source_id", *COMPONENTS, "price_label", "effective_from", "last_confirmed_at",
                  "source_count", "sources_agree", "max_gap_pct")
MARKET_FIELDS = (*MARKET_SCALARS, "evidence")  # the evidence last: market_prices_refresh reads it apart, as text
market_values = itemgetter(*MARKET_FIELDS)  # market_fields(row) -> its values in MARKET_FIELDS order, a tuple


def disagreements(row: MarketRow) -> Iterator[dict[str, Any]]:
    """One record per component on which the row's sources differ."""
    chosen = row.chosen.price_id
    for index, component in enumerate(COMPONENTS):
        stated = [e for e in row.evidence if e.values[index] is not None]
        values = [e.values[index] for e in stated]
        if len(values) < 2 or min(values) == max(values):  # type: ignore[type-var]
            continue
        low, high = min(values), max(values)  # type: ignore[type-var]
        yield {"component": component, "low_usd_per_mtok": low, "high_usd_per_mtok": high,
               "gap_pct": ((high - low) / low * 100).quantize(Decimal("0.01")) if low else None,
               "values": [{"source": e.source, "source_model_id": e.raw_id, "value": str(e.values[index]),
                           "last_confirmed_at": timestamp_text(e.last_confirmed_at) if e.last_confirmed_at else None,
                           "chosen": e.price_id == chosen} for e in stated]}


def _disagreements_refresh(wanted: dict[MarketKey, MarketRow], updated_ids: list[int],
                           created_keys: list[MarketKey]) -> None:
    """Rewrite the disagreement rows of the market rows just written (deleted ones cascade)."""
    if not updated_ids and not created_keys:
        return
    ids: dict[MarketKey, int] = {}
    for chunk in batched(updated_ids):
        MarketDisagreement.objects.filter(market_price_id__in=chunk).delete()
        for pk, *key in MarketPrice.objects.filter(pk__in=chunk).values_list("pk", *KEY_FIELDS):
            ids[tuple(key)] = pk  # type: ignore[index]
    created = set(created_keys)
    for provider_ids in batched(sorted({k[0] for k in created})):
        for pk, *key in MarketPrice.objects.filter(provider_id__in=provider_ids).values_list("pk", *KEY_FIELDS):
            if tuple(key) in created:
                ids[tuple(key)] = pk  # type: ignore[index]
    rows = [{"market_price_id": pk, "provider_id": key[0], "model_id": key[1], "region": key[2],
             "service_tier": key[3], "min_prompt_tokens": key[4], **record}
            for key, pk in ids.items() if not wanted[key].sources_agree for record in disagreements(wanted[key])]
    bulk_insert(MarketDisagreement, rows)


KEY_FIELDS = ("provider_id", "model_id", "region", "service_tier", "min_prompt_tokens")


