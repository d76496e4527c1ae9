"""Writes for pricing: apply a parsed price sheet, rebuild validity intervals, derive changes.

History is a pure function of the stored observations (invariant 4):

* sources that state dates (llm-prices, genai-prices): each offering's intervals
  are those stated by the newest snapshot that lists it;
* sources that only show today's price (LiteLLM, OpenRouter): walking the
  source's sightings in time order, a price starts at the first sighting that
  shows it and ends at the first later sighting that shows another price or no
  longer lists the offering.

The timeline is the source's sightings of accepted snapshots (a held or rejected
snapshot is not part of it), so a document seen again confirms its prices
(``last_confirmed_at``) and an upstream revert (A, B, A again) is history too.
Because the walk is recomputed from all observations, backfilling an old
snapshot after newer ones gives the same history as ingesting in date order;
offering attributes (mode, name, context window) are likewise those of the
newest sighting that lists the offering.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from apps.catalog.attributes import Statement, merge, modality_of
from apps.catalog.models import Offering
from apps.catalog.services import aliases_ensure, aliases_sync_hints, providers_ensure
from apps.common.bulk import JsonText, bulk_insert, bulk_update_rows, insert_ignoring_conflicts
from apps.common.intervals import plan_interval_writes
from apps.sources.models import Snapshot, Source
from apps.sources.registry import ApplyCounts, ListingCount, get_format
from apps.sources.selectors import Look, source_timeline
from scrapers.records import ParseResult, PriceRecord, Reject

from .models import COMPONENTS, Basis, Price, PriceChange, PriceObservation

BATCH = 2000

# (components..., unit_prices as canonical JSON, label): what must be equal for a price to be "the same".
Values = tuple[Any, ...]
OfferingKey = tuple[int, str, str, str, int]  # provider id, source model id, region, tier, min prompt tokens


# What an observation says of its offering besides the price: mode, display name, max input, max output.
Attributes = tuple[str, str, int | None, int | None]
ATTRIBUTES = ("mode", "display_name", "max_input_tokens", "max_output_tokens")


@dataclass
class Interval:
    effective_from: datetime | None
    effective_to: datetime | None
    values: Values
    snapshot_id: int
    first_seen_at: datetime | None = None
    last_confirmed_at: datetime | None = None


def _day(value: date | None) -> datetime | None:
    return None if value is None else datetime.combine(value, time.min, tzinfo=UTC)


def _unit_prices_json(record: PriceRecord) -> list[dict[str, str]]:
    return [{"name": u.name, "unit": u.unit, "usd_per_unit": str(u.usd_per_unit)} for u in record.unit_prices]


def _canonical(unit_prices: list[dict[str, Any]]) -> str:
    """One text per value of a price's unit prices, to compare and to store (jsonb keeps the value, not the text).
    orjson: a sixteenth of json.dumps's time, and both sides of every comparison go through here."""
    if unit_prices == []:  # most prices have no extra units
        return "[]"
    try:
        return orjson.dumps(unit_prices, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # what orjson refuses (a Decimal, a lone surrogate): as before
        return json.dumps(unit_prices, sort_keys=True, separators=(",", ":"))


def _canonical_text(text: str) -> str:
    """``_canonical`` of unit prices read as their stored JSON text (``Cast(..., TextField())``): nearly every
    price's is "[]", read without parsing; the JSONField's json.loads of each row was half of a read of open
    prices' Python."""
    return "[]" if text == "[]" else _canonical(json.loads(text))


def _values(row: Any) -> Values:
    """Comparable value tuple of an observation or price (Decimals compare by value: 2.5 == 2.5000)."""
    return (*(getattr(row, c) for c in COMPONENTS), _canonical(row.unit_prices), row.price_label)


def model_statements(records: list[PriceRecord]) -> dict[str, Statement]:
    """What a price sheet says of the model behind each raw id (modality, release date, open weights),
    merged over the raw id's rows (its tiers and regions)."""
    said: dict[str, Statement] = {}
    known: dict[tuple[object, ...], Statement] = {}  # a few distinct statements among thousands of rows
    for r in records:
        key = (r.released_on, r.mode, r.input_modalities, r.open_weights)
        statement = known.get(key)
        if statement is None:
            statement = known[key] = Statement(r.released_on, modality_of(r.mode, r.input_modalities),
                                               r.open_weights)
        before = said.get(r.source_model_id)
        # Tiers and regions of one raw id nearly always say the same: merge only when they differ.
        said[r.source_model_id] = statement if before is None or before == statement else merge([before, statement])
    return said


def prices_apply_snapshot(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Store what the snapshot says about each offering, then rebuild the source's history."""
    source = snapshot.source
    records: list[PriceRecord] = [r for r in result.records if isinstance(r, PriceRecord)]
    providers = providers_ensure(raw_providers={r.provider_key for r in records})
    aliases = aliases_ensure(
        source=source, items={r.source_model_id: (r.provider_key, r.model_name) for r in records},
        statements=model_statements(records),
    )

    offering_ids = _offerings_ensure(source, records, {k: p.pk for k, p in providers.items()}, aliases)

    # Re-applying a snapshot (reparse) replaces its observations.
    replaced, _ = PriceObservation.objects.filter(snapshot=snapshot).delete()
    observations: list[dict[str, Any]] = []
    seen: dict[tuple[int, datetime | None], str] = {}
    rejects: list[Reject] = []
    for r in records:
        offering_id = offering_ids[(providers[r.provider_key].pk, r.source_model_id, r.region, r.service_tier,
                                    r.min_prompt_tokens)]
        stated_from = _day(r.effective_from) if r.stated_dates else None
        dup_key = (offering_id, stated_from)
        if dup_key in seen:
            rejects.append(Reject(locator=r.source_model_id, reason=f"duplicate of an earlier row for the same "
                                  f"offering ({_offering_label(providers[r.provider_key].slug, r)}); the first one "
                                  "is kept"))
            continue
        seen[dup_key] = r.source_model_id
        observations.append({
            "snapshot_id": snapshot.pk, "offering_id": offering_id,
            **{name: getattr(r, name) for name in COMPONENTS},
            "unit_prices": _unit_prices_json(r), "price_label": r.price_label,
            "mode": r.mode, "display_name": r.model_name[:300], "provider_key": r.provider_key[:100],
            "max_input_tokens": r.max_input_tokens, "max_output_tokens": r.max_output_tokens,
            "stated": r.stated_dates, "stated_from": stated_from,
            "stated_to": _day(r.effective_to) if r.stated_dates else None,
        })
    bulk_insert(PriceObservation, observations)

    in_snapshot = {o["offering_id"] for o in observations}
    status = None
    if not replaced and not get_format(source.format).stated_dates and not any(o["stated"] for o in observations):
        status = _history_append(source_id=source.pk, snapshot_id=snapshot.pk, observations=observations,
                                 offering_ids=list(offering_ids.values()))
    if status is None:
        status = price_history_rebuild(source_id=source.pk)
    return ApplyCounts.from_history(status, in_snapshot=in_snapshot, rejects=rejects)


def _history_append(*, source_id: int, snapshot_id: int, observations: list[dict[str, Any]],
                    offering_ids: list[int]) -> dict[int, str] | None:
    """The common case, a source's newest document applied for the first time, without rereading its history.

    The full rebuild walks every sighting of the source; when the new document is the last stretch of the
    timeline, the walk up to the stretch before it gives what is stored already (history is always the full
    walk of the stored sightings), so only its last step is left: each open price either continues (listed
    again at the same values: confirmed), or ends where the new document starts (changed or delisted), and
    what the document lists anew starts there. The result is the full rebuild's, row for row (the history
    tests ingest in date order through here and out of order through the full rebuild, and compare).

    ``offering_ids``: every offering of the source (as _offerings_ensure read them).

    Returns None (the caller rebuilds in full) when the shortcut does not hold: the document is not the last
    stretch, or was seen before as another stretch, or the source has stated prices (the caller takes only
    sources of a format without stated dates; a current stated price would still say otherwise).
    """
    looks = source_timeline(source_id)
    if not looks or looks[-1].snapshot_id != snapshot_id or any(
            look.snapshot_id == snapshot_id for look in looks[:-1]):
        return None
    look = looks[-1]
    listed: dict[int, dict[str, Any]] = {o["offering_id"]: o for o in observations}
    # Rows, not model instances: a source has thousands of open prices. On PostgreSQL by offering id, one array
    # parameter: for the newest LiteLLM file 1.6 ms against 6.3 ms through a join with the offerings (elsewhere
    # the ids would be one parameter each, beyond SQLite's limit for a large source).
    source_prices = (Price.objects.filter(offering_id__any_of=offering_ids) if connection.vendor == "postgresql"
                     else Price.objects.filter(offering__source_id=source_id))
    open_prices: dict[int, tuple[int, Values]] = {}
    for pk, offering_id, basis, *rest in source_prices.filter(effective_to__isnull=True).order_by().annotate(
            unit_prices_text=Cast("unit_prices", TextField())).values_list(
            "id", "offering_id", "basis", *COMPONENTS, "unit_prices_text", "price_label"):
        if basis != Basis.OBSERVED:
            return None
        open_prices[offering_id] = (pk, (*rest[:-2], _canonical_text(rest[-2]), rest[-1]))

    status: dict[int, str] = {}
    ended: list[int] = []
    starts: dict[int, Values] = {}
    changes: list[dict[str, Any]] = []
    for offering_id, (pk, stored) in open_prices.items():
        row = listed.get(offering_id)
        values = None if row is None else _observation_values(row)
        if values is not None and stored == values:
            status[offering_id] = "unchanged"  # confirmed by this look, below
            continue
        ended.append(pk)
        status[offering_id] = "changed"
        if values is not None:
            starts[offering_id] = values
            changes += _change_events(offering_id, stored, values, look.first_at, snapshot_id)
    fresh = [oid for oid in listed if oid not in open_prices]
    # Listed again after a gap: the offering has a history, so the new price is a change, not a creation.
    had_prices: set[int] = set()
    if fresh and (open_prices or Price.objects.filter(offering__source_id=source_id).exists()):
        had_prices = set(Price.objects.filter(offering_id__any_of=fresh).order_by()
                         .values_list("offering_id", flat=True).distinct())
    for offering_id in fresh:
        starts[offering_id] = _observation_values(listed[offering_id])
        status[offering_id] = "changed" if offering_id in had_prices else "created"

    offerings = _offering_attributes_sync(
        source_id, {oid: tuple(row[a] for a in ATTRIBUTES) for oid, row in listed.items()},  # type: ignore[misc]
        {oid: (len(looks), (row["provider_key"], row["display_name"])) for oid, row in listed.items()})
    moved = aliases_sync_hints(hints=offerings.alias_hints, source_id=source_id)

    for i in range(0, len(ended), BATCH):
        Price.objects.filter(pk__any_of=ended[i:i + BATCH]).update(effective_to=look.first_at)
    # What is still open now continues: confirmed by this look (the new prices come next, with theirs). By id,
    # one array parameter: for the 3,383 of the newest LiteLLM file 5 ms of PostgreSQL against 14 ms for the
    # same rows found through the source's offerings (EXPLAIN ANALYZE).
    continued = {oid: open_prices[oid][0] for oid, s in status.items() if s == "unchanged"}
    confirmed = list(continued.values())
    for i in range(0, len(confirmed), BATCH):
        (Price.objects.filter(pk__any_of=confirmed[i:i + BATCH]).exclude(last_confirmed_at=look.last_at)
         .update(last_confirmed_at=look.last_at))
    bulk_insert(Price, [_new_price(oid, offerings.provider_of[oid],
                                   Interval(look.first_at, None, values, snapshot_id, first_seen_at=look.first_at,
                                            last_confirmed_at=look.last_at), Basis.OBSERVED)
                        for oid, values in starts.items()])
    bulk_insert(PriceChange, changes)
    market_refresh_for_source(source_id, pairs=_market_confirm(
        source_id, offerings.pair_of, status, continued, look.last_at, moved=bool(moved)))
    return status


def _resolved_pairs(source_id: int) -> dict[int, tuple[int, int]]:
    """Offering id -> (provider id, model id) of the source's offerings whose alias names a model."""
    return {pk: (provider_id, model_id) for pk, provider_id, model_id in Offering.objects.filter(
        source_id=source_id, alias__model__isnull=False).order_by().values_list("id", "provider_id", "alias__model_id")}


def _market_confirm(source_id: int, pair_of: dict[int, tuple[int, int]], status: dict[int, str],
                    continued: dict[int, int], at: datetime, *, moved: bool) -> set[tuple[int, int]]:
    """Confirm in place the market rows of prices that only continued (market_confirm); returns the (provider,
    model) pairs the refresh must still recompute: those of the offerings whose price started or ended, of the
    continued ones whose row was not confirmed in place (several sources, or another price chosen), and, when
    aliases were just resolved again (``moved``; ``pair_of`` was read before), both the pair an offering left
    and the one it joined."""
    from .market import market_confirm

    touched: set[tuple[int, int]] = set()
    if moved:
        before, pair_of = pair_of, _resolved_pairs(source_id)
        for oid in before.keys() | pair_of.keys():
            if before.get(oid) != pair_of.get(oid):
                touched.update(p for p in (before.get(oid), pair_of.get(oid)) if p is not None)
    touched.update(pair_of[oid] for oid, s in status.items() if s != "unchanged" and oid in pair_of)
    candidates = {oid: pk for oid, pk in continued.items() if oid in pair_of and pair_of[oid] not in touched}
    confirmed = market_confirm(price_ids=list(candidates.values()), at=at)
    left = touched | {pair_of[oid] for oid, pk in candidates.items() if pk not in confirmed}
    done = {pair_of[oid] for oid, pk in candidates.items() if pk in confirmed} - left
    return (set(pair_of.values()) | left) - done


def _observation_values(row: dict[str, Any]) -> Values:
    """The comparable values of an observation about to be stored (as ``_values`` reads them back)."""
    return (*(row[c] for c in COMPONENTS), _canonical(row["unit_prices"]), row["price_label"])


def market_refresh_for_source(source_id: int, *, pairs: set[tuple[int, int]] | None = None) -> int:
    """Refresh the market prices of every (provider, model) this source prices (its word or its
    confirmation may have changed the choice, the agreement or the evidence); ``pairs``: those pairs, when
    the caller has just read them."""
    from .market import market_prices_refresh

    if pairs is None:
        pairs = set(_resolved_pairs(source_id).values())
    return market_prices_refresh(pairs=pairs)


OFFERING_KEY = ["source_id", "provider_id", "source_model_id", "region", "service_tier", "min_prompt_tokens"]


def _offerings_ensure(source: Any, records: list[PriceRecord], provider_ids: dict[str, int],
                      alias_ids: dict[str, int]) -> dict[OfferingKey, int]:
    """Offering key -> id for every record, creating the new ones (COPY on PostgreSQL: bulk_create took a
    third of a LiteLLM ingest). A new offering starts with this snapshot's attributes; the history rebuild
    then gives it those of the newest snapshot that lists it."""
    def key_of(r: PriceRecord) -> OfferingKey:
        return (provider_ids[r.provider_key], r.source_model_id, r.region, r.service_tier, r.min_prompt_tokens)

    def known(raw_ids: set[str] | None = None) -> dict[OfferingKey, int]:
        offerings = Offering.objects.filter(source=source)
        if raw_ids is not None:
            offerings = offerings.filter(source_model_id__any_of=raw_ids)
        return {tuple(key): pk for pk, *key in offerings.order_by().values_list("pk", *OFFERING_KEY[1:])}

    ids = known()
    new: dict[OfferingKey, dict[str, Any]] = {}
    for r in records:
        key = key_of(r)
        if key not in ids and key not in new:
            new[key] = {"source_id": source.pk, "provider_id": key[0], "alias_id": alias_ids[r.source_model_id],
                        "source_model_id": r.source_model_id, "region": r.region, "service_tier": r.service_tier,
                        "min_prompt_tokens": r.min_prompt_tokens, "mode": r.mode,
                        "display_name": r.model_name[:300], "max_input_tokens": r.max_input_tokens,
                        "max_output_tokens": r.max_output_tokens}
    if new:
        insert_ignoring_conflicts(Offering, list(new.values()), conflict=OFFERING_KEY, expect_new=True)
        # The new ones' ids (ours or a concurrent worker's); the whole list again when most are new (a source's
        # first document), where a key array as long as the list costs more than the rows it leaves out.
        ids.update(known({key[1] for key in new}) if len(new) < len(ids) else known())
    return ids


def _offering_label(provider_slug: str, r: PriceRecord) -> str:
    extra = [p for p in (r.region, r.service_tier if r.service_tier != "standard" else "") if p]
    if r.min_prompt_tokens:
        extra.append(f">{r.min_prompt_tokens // 1000}k")
    return f"{provider_slug}/{r.source_model_id}" + (f" ({', '.join(extra)})" if extra else "")


# Per provider: the offerings the earlier snapshot lists, those of them the later one leaves out, and the offerings
# the later one lists. Counted by PostgreSQL or SQLite alike (FILTER is in both); the two listings are never
# brought into Python (two reads of thousands of rows and their sets were 3 % of an ingest).
_LISTINGS_COMPARED = """
SELECT o.provider_id,
       count(*) FILTER (WHERE listed.in_before = 1),
       count(*) FILTER (WHERE listed.in_before = 1 AND listed.in_after = 0),
       count(*) FILTER (WHERE listed.in_after = 1)
FROM (SELECT offering_id, max(CASE WHEN snapshot_id = %s THEN 1 ELSE 0 END) AS in_before,
             max(CASE WHEN snapshot_id = %s THEN 1 ELSE 0 END) AS in_after
      FROM pricing_priceobservation WHERE snapshot_id IN (%s, %s) GROUP BY offering_id) AS listed
JOIN catalog_offering o ON o.id = listed.offering_id
GROUP BY o.provider_id
"""


def price_listings_compared(before_id: int, after_id: int) -> list[ListingCount]:
    """What two snapshots list, compared per provider (for the shrink guard; see FormatSpec.listing)."""
    with connection.cursor() as cursor:
        cursor.execute(_LISTINGS_COMPARED, [before_id, after_id, before_id, after_id])
        return [ListingCount(*row) for row in cursor.fetchall()]


def prices_confirm(*, source_id: int, previous_at: datetime, at: datetime) -> int:
    """The newest document was seen again at ``at``: what it states is confirmed until then.

    The prices it states are exactly those last confirmed by its previous newest
    sighting (``previous_at``), so no history needs rebuilding: one UPDATE.
    """
    confirmed = (Price.objects.filter(offering__source_id=source_id, last_confirmed_at=previous_at)
                 .update(last_confirmed_at=at))
    if at.astimezone(UTC).date() != previous_at.astimezone(UTC).date():
        # The market policy ranks confirmations by UTC day, so only a new day's first look can move a market
        # choice; later looks the same day confirm the source prices (exact above) and leave the market rows,
        # whose confirmation reads to the day, as they are. Scheduled fetches are hours apart: most are
        # same-day looks, and cost one UPDATE.
        pairs = None
        if not get_format(Source.objects.values_list("format", flat=True).get(pk=source_id)).stated_dates:
            # Nothing started or ended, so every open price only continued (market_confirm). Not for a format
            # with stated prices, which start and end by the clock between looks: the refresh rereads which
            # are current (a source's format cannot change once it has snapshots: FormatSpec.stated_dates).
            continued = dict(Price.objects.filter(offering__source_id=source_id, effective_to__isnull=True,
                                                  last_confirmed_at=at).order_by().values_list("offering_id", "id"))
            pairs = _market_confirm(source_id, _resolved_pairs(source_id), {}, continued, at, moved=False)
        market_refresh_for_source(source_id, pairs=pairs)
    return confirmed


def _observed_intervals(looks: list[Look], seen: dict[int, Values]) -> list[Interval]:
    intervals: list[Interval] = []
    current: Interval | None = None
    for look in looks:
        values = seen.get(look.snapshot_id)
        if current is not None and values != current.values:
            current.effective_to = look.first_at
            intervals.append(current)
            current = None
        if values is not None:
            if current is None:
                current = Interval(look.first_at, None, values, look.snapshot_id, first_seen_at=look.first_at)
            current.last_confirmed_at = look.last_at
    if current is not None:
        intervals.append(current)
    return intervals


StatedRows = dict[int, list[tuple[datetime | None, datetime | None, Values]]]  # snapshot id -> stated intervals


def price_history_rebuild(*, source_id: int) -> dict[int, str]:
    """Recompute every offering's intervals (and attributes) for one source; write only the differences.

    Returns offering id -> "created" (had no price before), "changed" or "unchanged".
    """
    looks = source_timeline(source_id)
    first_seen_of: dict[int, datetime] = {}  # snapshot id -> its first sighting
    newest_look: dict[int, int] = {}  # snapshot id -> index of its last stretch in the timeline
    for index, look in enumerate(looks):
        first_seen_of.setdefault(look.snapshot_id, look.first_at)
        newest_look[look.snapshot_id] = index

    observed: dict[int, dict[int, Values]] = defaultdict(dict)
    stated: dict[int, StatedRows] = defaultdict(lambda: defaultdict(list))
    attributes: dict[int, tuple[int, Attributes]] = {}  # offering id -> (rank of the newest listing, attributes)
    hints: dict[int, tuple[str, str]] = {}  # offering id -> (provider key, name) of its newest listing
    fields = ("offering_id", "snapshot_id", *COMPONENTS, "unit_prices", "price_label", "stated", "stated_from",
              "stated_to", *ATTRIBUTES, "provider_key")
    for row in PriceObservation.objects.filter(snapshot_id__in=list(newest_look)).order_by().values_list(*fields):
        offering_id, snapshot_id, *rest, provider_key = row
        comps, (unit_prices, label, is_stated, stated_from, stated_to, *attrs) = rest[:5], rest[5:]
        values = (*comps, _canonical(unit_prices), label)
        if not is_stated:
            observed[offering_id][snapshot_id] = values
        else:
            stated[offering_id][snapshot_id].append((stated_from, stated_to, values))
        rank = newest_look[snapshot_id]
        if offering_id not in attributes or rank > attributes[offering_id][0]:
            attributes[offering_id] = (rank, tuple(attrs))  # type: ignore[assignment]
            hints[offering_id] = (provider_key, attrs[1])

    desired: dict[int, list[Interval]] = {}
    for offering_id, seen in observed.items():
        desired[offering_id] = _observed_intervals(looks, seen)
    for offering_id, by_snapshot in stated.items():
        desired[offering_id] = _stated_intervals(by_snapshot, looks, first_seen_of, newest_look)
    basis_of = dict.fromkeys(observed, Basis.OBSERVED) | dict.fromkeys(stated, Basis.STATED)

    offerings = _offering_attributes_sync(source_id, {oid: attrs for oid, (_, attrs) in attributes.items()},
                                          {oid: (attributes[oid][0], hint) for oid, hint in hints.items()})
    moved = aliases_sync_hints(hints=offerings.alias_hints, source_id=source_id)
    status = _write_history(source_id=source_id, desired=desired, basis_of=basis_of,
                            provider_of=offerings.provider_of)
    # The (provider, model) pairs read with the offerings; when an alias was just resolved again, those its
    # offerings joined too (the pairs they left are among those read: their market rows must go).
    pairs = offerings.pairs | set(_resolved_pairs(source_id).values()) if moved else offerings.pairs
    market_refresh_for_source(source_id, pairs=pairs)
    return status


def _stated_intervals(by_snapshot: StatedRows, looks: list[Look], first_seen_of: dict[int, datetime],
                      newest_look: dict[int, int]) -> list[Interval]:
    """The intervals stated by the newest document that lists the offering, confirmed by its newest sighting;
    each first seen when any document first stated it."""
    newest = max(by_snapshot, key=newest_look.__getitem__)
    confirmed = looks[newest_look[newest]].last_at
    first_stated: dict[tuple[datetime | None, Values], datetime] = {}
    for snapshot_id, entries in by_snapshot.items():
        for start, _, values in entries:
            key = (start, values)
            if key not in first_stated or first_seen_of[snapshot_id] < first_stated[key]:
                first_stated[key] = first_seen_of[snapshot_id]
    rows = sorted(by_snapshot[newest], key=lambda r: (r[0] is not None, r[0] or datetime.min.replace(tzinfo=UTC)))
    first_undated = _first_undated_statement(by_snapshot, first_seen_of)
    return [Interval(_undated_start(start, end, first_undated), end, values, newest,
                     first_seen_at=first_stated[(start, values)], last_confirmed_at=confirmed)
            for start, end, values in rows]


@dataclass(frozen=True)
class SourceOfferings:
    alias_hints: dict[int, tuple[str, str]]  # alias id -> (provider key, name) of its newest listing
    provider_of: dict[int, int]  # offering id -> provider id
    pair_of: dict[int, tuple[int, int]]  # offering id -> (provider id, model id), for the resolved offerings

    @property
    def pairs(self) -> set[tuple[int, int]]:
        return set(self.pair_of.values())


def _offering_attributes_sync(source_id: int, attributes: dict[int, Attributes],
                              hints: dict[int, tuple[int, tuple[str, str]]]) -> SourceOfferings:
    """Offerings show what the newest snapshot listing them says, whatever order snapshots arrived in.

    Returns, besides, alias id -> (provider key, name) of the newest listing of any of its offerings (an
    alias, one raw id, can span offerings of several providers), and what the rest of the rebuild needs to
    know of the source's offerings, from the same read (each read of them was a tenth of a LiteLLM ingest).
    """
    stale: list[dict[str, Any]] = []
    newest_hint: dict[int, tuple[int, tuple[str, str]]] = {}
    provider_of: dict[int, int] = {}
    pair_of: dict[int, tuple[int, int]] = {}
    for pk, alias_id, provider_id, model_id, *have in (Offering.objects.filter(source_id=source_id).order_by()
                                                        .values_list("id", "alias_id", "provider_id", "alias__model_id",
                                                                     *ATTRIBUTES)):
        provider_of[pk] = provider_id
        if model_id is not None:
            pair_of[pk] = (provider_id, model_id)
        want = attributes.get(pk)
        if want is not None and tuple(have) != want:
            stale.append({"id": pk, **dict(zip(ATTRIBUTES, want, strict=True))})
        hint = hints.get(pk)
        # Ties (two offerings of one alias in the newest document) go to the larger hint, not to arrival order.
        if hint is not None and (alias_id not in newest_hint or hint > newest_hint[alias_id]):
            newest_hint[alias_id] = hint
    # Rows through COPY and one UPDATE ... FROM (bulk_update's CASE per row and column was most of this
    # function when a new file renames or re-sizes a few hundred offerings).
    bulk_update_rows(Offering, stale, list(ATTRIBUTES))
    return SourceOfferings({alias_id: hint for alias_id, (_, hint) in newest_hint.items()}, provider_of, pair_of)


def _first_undated_statement(by_snapshot: StatedRows, first_seen_of: dict[int, datetime]) -> datetime | None:
    """First sighting of a snapshot that stated a price with no start date."""
    seen = [first_seen_of[s] for s, entries in by_snapshot.items() if any(f is None for f, _, _ in entries)]
    return min(seen) if seen else None


def _undated_start(start: datetime | None, end: datetime | None, first_seen: datetime | None) -> datetime | None:
    """A source that gives no start date ("since the beginning") does not know when the price began, and
    a 2026 file must not make a model look priced in 2024: the start is the first snapshot that stated it,
    unless the interval had already ended by then (a stated end before we looked), which keeps it open."""
    if start is not None or first_seen is None or (end is not None and end <= first_seen):
        return start
    return first_seen


def _write_history(*, source_id: int, desired: dict[int, list[Interval]], basis_of: dict[int, str],
                   provider_of: dict[int, int]) -> dict[int, str]:
    current: dict[int, dict[datetime | None, Price]] = defaultdict(dict)
    for price in Price.objects.filter(offering__source_id=source_id).order_by().only(
            "id", "offering_id", "effective_from", "effective_to", *COMPONENTS, "unit_prices", "price_label",
            "basis", "snapshot_id", *CONFIRMATION):
        current[price.offering_id][price.effective_from] = price

    plan = plan_interval_writes(
        set(desired) | set(current), desired, current,
        same=lambda price, interval: (price.effective_to == interval.effective_to
                                      and _values(price) == interval.values
                                      and price.snapshot_id == interval.snapshot_id),
    )
    to_delete = plan.delete
    to_update = list(plan.update)
    # A price that only gained a later confirmation is not a change (the counts say "unchanged"),
    # but the row still moves its confirmation forward.
    updating = {price.pk for price, _ in to_update}
    for offering_id, intervals in desired.items():
        for interval in intervals:
            price = current[offering_id].get(interval.effective_from) if offering_id in current else None
            if price is not None and price.pk not in updating and _confirmation(price) != (
                    interval.first_seen_at, interval.last_confirmed_at):
                to_update.append((price, interval))
    to_create = [_new_price(offering_id, provider_of[offering_id], interval,
                            basis_of.get(offering_id, Basis.OBSERVED))
                 for offering_id, interval in plan.create]
    status = plan.status

    # Deletes first so a moved interval start never collides with the unique constraint. A deleted price takes
    # the market rows that chose it with it (and their disagreements): under the market's lock, which the
    # refresh below takes anyway, so no other source's refresh is rewriting them meanwhile (see market_lock).
    if to_delete:
        from .market import market_lock

        market_lock()
    for i in range(0, len(to_delete), BATCH):
        Price.objects.filter(pk__in=to_delete[i:i + BATCH]).delete()
    _update_in_groups(to_update)
    bulk_insert(Price, to_create)

    changed = [oid for oid, s in status.items() if s != "unchanged"]
    if changed:
        # An offering without prices before this rebuild has no change events to replace.
        price_changes_rebuild(offering_ids=changed, desired=desired, had_events=set(current))
    return status


def _fill(price: Price, interval: Interval) -> None:
    price.effective_to = interval.effective_to
    comps = interval.values[: len(COMPONENTS)]
    for name, value in zip(COMPONENTS, comps, strict=True):
        setattr(price, name, value)
    price.unit_prices = json.loads(interval.values[len(COMPONENTS)])
    price.price_label = interval.values[len(COMPONENTS) + 1]
    price.snapshot_id = interval.snapshot_id
    price.first_seen_at, price.last_confirmed_at = interval.first_seen_at, interval.last_confirmed_at


CONFIRMATION = ("first_seen_at", "last_confirmed_at")
UPDATABLE = ("effective_to", *COMPONENTS, "unit_prices", "price_label", "snapshot_id", *CONFIRMATION)


def _group_value(name: str, value: Any) -> Any:
    """A hashable stand-in that keeps what must be written: JSON as canonical text, a Decimal with its
    exact representation (2.5 and 2.50 are equal but not the same text)."""
    if name == "unit_prices":
        return _canonical(value)
    if isinstance(value, Decimal):
        return (value, str(value))
    return value


def _update_in_groups(rows: list[tuple[Price, Interval]]) -> None:
    """Write each row's differences, one UPDATE per distinct set of new values.

    A snapshot moves most rows the same way (every current price confirmed at its time, every
    ended price closed at it), so a few set-based UPDATEs replace bulk_update's CASE over every
    row and column, which cost about 10 s for a LiteLLM file's 3,400 rows.
    """
    groups: dict[tuple[tuple[str, Any], ...], list[int]] = defaultdict(list)
    for price, interval in rows:
        want = Price(pk=price.pk)
        _fill(want, interval)
        diff = []
        for name in UPDATABLE:
            old, new = getattr(price, name), getattr(want, name)
            if name == "unit_prices":
                differs = _canonical(old) != _canonical(new)
            else:
                differs = old != new or (old is None) != (new is None)
            if differs:
                diff.append((name, _group_value(name, new)))
        if diff:
            groups[tuple(diff)].append(price.pk)
    for diff, pks in groups.items():
        values = {name: (json.loads(v) if name == "unit_prices" else v[0] if isinstance(v, tuple) else v)
                  for name, v in diff}
        for i in range(0, len(pks), BATCH):
            Price.objects.filter(pk__in=pks[i:i + BATCH]).update(**values)


def _confirmation(price: Price) -> tuple[datetime | None, datetime | None]:
    return price.first_seen_at, price.last_confirmed_at


def _new_price(offering_id: int, provider_id: int, interval: Interval, basis: str) -> dict[str, Any]:
    """A new price row as COPY takes it (no model instance: thousands of them cost a third of a second)."""
    comps = interval.values[: len(COMPONENTS)]
    return {"offering_id": offering_id, "provider_id": provider_id, "effective_from": interval.effective_from,
            "basis": basis, "effective_to": interval.effective_to, **dict(zip(COMPONENTS, comps, strict=True)),
            "unit_prices": JsonText(interval.values[len(COMPONENTS)]),
            "price_label": interval.values[len(COMPONENTS) + 1], "snapshot_id": interval.snapshot_id,
            "first_seen_at": interval.first_seen_at, "last_confirmed_at": interval.last_confirmed_at}


def percent_change(old: Decimal, new: Decimal) -> Decimal | None:
    if old == 0:
        return None
    return ((new - old) / old * 100).quantize(Decimal("0.01"))


def price_changes_rebuild(*, offering_ids: list[int], desired: dict[int, list[Interval]],
                          had_events: set[int] | None = None) -> None:
    """Derive change events from consecutive, touching intervals of each offering (``had_events``: the
    offerings that may have events stored; None means any of them)."""
    stored = offering_ids if had_events is None else [oid for oid in offering_ids if oid in had_events]
    for i in range(0, len(stored), BATCH):
        PriceChange.objects.filter(offering_id__in=stored[i:i + BATCH]).delete()
    events: list[dict[str, Any]] = []
    for offering_id in offering_ids:
        intervals = desired.get(offering_id, [])
        for before, after in itertools.pairwise(intervals):
            if after.effective_from is None or before.effective_to != after.effective_from:
                continue  # a gap (delisted, then back) is not a price change
            events += _change_events(offering_id, before.values, after.values, after.effective_from,
                                     after.snapshot_id)
    bulk_insert(PriceChange, events)


def _change_events(offering_id: int, before: Values, after: Values, at: datetime,
                   snapshot_id: int) -> list[dict[str, Any]]:
    """One event per component whose price moved from one interval to the next, touching one: rows as COPY
    takes them (bulk_create's instances were a percent of a seven-file ingest)."""
    events = []
    for index, component in enumerate(COMPONENTS):
        old, new = before[index], after[index]
        if old is None or new is None or Decimal(old) == Decimal(new):
            continue
        events.append({"offering_id": offering_id, "changed_at": at, "component": component,
                       "old_usd_per_mtok": old, "new_usd_per_mtok": new,
                       "percent_change": percent_change(Decimal(old), Decimal(new)), "snapshot_id": snapshot_id})
    return events

