"""Reads for the dashboard pages: querysets in, DataFrames out. No HTTP, no Plotly.

Each function reads with ``values()`` (one query, no model instances, no N+1)
and shapes the rows with pandas. Money stays Decimal in table columns; chart
columns (``usd_per_mtok`` in step frames) are floats, since Plotly draws floats.
The domain selectors (``apps.pricing``, ``apps.benchmarks``, ``apps.market``)
are reused where they already answer the question.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from apps.catalog.attributes import MODALITY_SHORT, creator_label, family_label
from apps.catalog.models import Model, Offering, Provider
from apps.pricing.market import FACT_FIELDS, Evidence, MarketRow, market_rows
from apps.pricing.models import COMPONENTS, MarketPrice, Price, PriceChange
from apps.pricing.selectors import prices_as_of
from apps.sources.models import IngestRun, Rejection, Snapshot, Source, held_reason
from apps.sources.selectors import sources_fetched_ids, sources_freshness

GROUPS = ("offering", "provider", "model", "class")  # what one line of a price chart stands for

PRICE_VALUES = {
    "price_id": "id",
    "offering_id": "offering_id",
    "provider_slug": "offering__provider__slug",
    "provider": "offering__provider__name",
    "provider_kind": "offering__provider__kind",
    "model_slug": "offering__alias__model__slug",
    "model": "offering__alias__model__name",
    "size_class": "offering__alias__model__size_class",
    "source": "offering__source__key",
    "source_model_id": "offering__source_model_id",
    "region": "offering__region",
    "service_tier": "offering__service_tier",
    "min_prompt_tokens": "offering__min_prompt_tokens",
    "mode": "offering__mode",
    "effective_from": "effective_from",
    "effective_to": "effective_to",
    "input_usd_per_mtok": "input_usd_per_mtok",
    "output_usd_per_mtok": "output_usd_per_mtok",
    "cached_input_usd_per_mtok": "cached_input_usd_per_mtok",
    "price_label": "price_label",
    "basis": "basis",
    "snapshot_id": "snapshot_id",
    "observed_at": "snapshot__observed_at",
    # What a person reads beside a price: when a document first stated it, and the newest look at a
    # document that still states it (a price the newest file states is as young as that file).
    "first_seen_at": "first_seen_at",
    "last_confirmed_at": "last_confirmed_at",
}


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def end_of(day: date) -> datetime:
    """The last instant of a day (UTC): an as-of date includes prices that start on it."""
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC)


# --- prices ------------------------------------------------------------------------------


def price_frame(prices: QuerySet[Price], *, fields: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per price interval with its offering, model, provider and provenance (one query).

    Unordered: the model's default ordering would join and sort by provider name for nothing.
    ``fields`` narrows the columns (names of :data:`PRICE_VALUES`) for large reads.
    """
    names = list(fields or PRICE_VALUES)
    paths = [PRICE_VALUES[name] for name in names]
    frame = pd.DataFrame(list(prices.order_by().values_list(*paths)), columns=names)
    for column in ("provider", "model", "model_slug", "size_class", "region", "price_label"):
        if column in frame:
            frame[column] = frame[column].fillna("")
    return frame


CHART_FIELDS = ("price_id", "offering_id", "provider_slug", "provider", "model_slug", "model", "size_class", "source",
                "source_model_id", "region", "service_tier", "effective_from", "effective_to", "input_usd_per_mtok",
                "output_usd_per_mtok", "price_label", "observed_at", "first_seen_at", "last_confirmed_at")


def chart_frame(prices: QuerySet[Price], component: str, ratio: tuple[int, int]) -> pd.DataFrame:
    """:func:`chartable` rows read straight from the database: labelled and incomplete prices stay there."""
    plain = prices.filter(price_label="")
    if component in ("input", "blended"):
        plain = plain.filter(input_usd_per_mtok__isnull=False)
    if component in ("output", "blended"):
        plain = plain.filter(output_usd_per_mtok__isnull=False)
    return chartable(price_frame(plain, fields=CHART_FIELDS), component, ratio)


def blend(input_usd: Decimal | None, output_usd: Decimal | None, ratio: tuple[int, int]) -> Decimal | None:
    """Blended USD per 1M tokens for an input:output mix; None unless both prices are known."""
    if input_usd is None or output_usd is None:
        return None
    ri, ro = ratio
    return (ri * input_usd + ro * output_usd) / Decimal(ri + ro)


def component_values(frame: pd.DataFrame, component: str, ratio: tuple[int, int]) -> list[Decimal | None]:
    """The chosen component per row: input, output or blended."""
    if component == "input":
        return list(frame["input_usd_per_mtok"])
    if component == "output":
        return list(frame["output_usd_per_mtok"])
    return [blend(i, o, ratio) for i, o in zip(frame["input_usd_per_mtok"], frame["output_usd_per_mtok"],
                                               strict=True)]


def chartable(frame: pd.DataFrame, component: str, ratio: tuple[int, int]) -> pd.DataFrame:
    """Rows with a plain positive price for the component, as ``usd_per_mtok`` (float).

    A labelled price (free, variable, unknown) or a zero is a fact to state, not a
    point on a cost curve (and a log axis has no zero), so those rows leave here.
    """
    if frame.empty:
        return frame.assign(usd_per_mtok=pd.Series(dtype=float), usd_exact=pd.Series(dtype=object))
    values = component_values(frame, component, ratio)
    usd = [float(v) if v is not None and v > 0 else np.nan for v in values]
    out = frame.assign(usd_per_mtok=usd, usd_exact=values)
    return out[(out["price_label"] == "") & out["usd_per_mtok"].notna()].reset_index(drop=True)


STEP_COLUMNS = ["series", "label", "color_key", "start", "end", "open_end", "start_stated", "start_note",
                "usd_per_mtok", "usd_exact", "previous_usd_per_mtok", "provider", "source_model_id", "region", "source",
                "observed_at", "first_seen_at", "last_confirmed_at", "price_id", "market_note"]


def _series_keys(frame: pd.DataFrame, group: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    if group == "offering":
        region = frame["region"].map(lambda r: f" ({r})" if r else "")
        tier = frame["service_tier"].map(lambda t: "" if t == "standard" else f" [{t}]")
        label = frame["provider"] + region + tier + " · " + frame["source"]
        # Two offerings with the same provider, region, tier and source differ by their raw id: show it then.
        clash = label.groupby(label).transform("size") > 1
        label = label.where(~clash, label + " · " + frame["source_model_id"].str.rsplit("/", n=1).str[-1])
        return frame["offering_id"].astype(str), label, frame["provider_slug"]
    if group == "provider":
        return frame["provider_slug"], frame["provider"], frame["provider_slug"]
    if group == "model":
        named = frame["model_slug"].where(frame["model_slug"] != "", "unresolved")
        return named, frame["model"].where(frame["model"] != "", "(unresolved id)"), named
    if group == "class":
        named = frame["size_class"].where(frame["size_class"] != "", "unclassified")
        return named, named, named
    raise ValueError(f"unknown grouping {group!r}")


def _ns(values: pd.Series) -> np.ndarray:
    """Moments as int64 nanoseconds since the epoch (UTC); NaT (no date) as the int64 minimum."""
    return pd.to_datetime(values, utc=True).to_numpy(dtype="datetime64[ns]").astype("int64")


NAT = np.iinfo("int64").min
DAY_NS = 86_400 * 10**9


def _start_note(effective_from: int, effective_to: int, first_seen: int) -> str:
    """How the drawn start of a segment is known, for hover text."""
    if effective_from != NAT:
        return ""
    if effective_to != NAT:
        return "start not stated by the source"
    return f"start not stated; first seen {pd.Timestamp(first_seen, tz=UTC):%Y-%m-%d}"


def _first_seen(frame: pd.DataFrame) -> pd.Series:
    """When each price was first seen: its first sighting, else (rows stored before sightings) its snapshot's time."""
    if "first_seen_at" not in frame:
        return frame["observed_at"]
    seen = pd.to_datetime(frame["first_seen_at"], utc=True)
    return seen.where(seen.notna(), pd.to_datetime(frame["observed_at"], utc=True))


def history_start() -> datetime | None:
    """Where tokenwatch's price knowledge begins: the earliest stated start, else the earliest snapshot."""
    first = Price.objects.aggregate(first=Min("effective_from"))["first"]
    return first or Snapshot.objects.filter(observations__isnull=False).aggregate(first=Min("observed_at"))["first"]


SAME_OFFER = ("provider", "source_model_id", "region", "source")


@dataclass(frozen=True)
class DrawnBounds:
    """Where each price interval is drawn, as int64 nanoseconds (NAT where a date is missing)."""

    horizon: int
    froms: np.ndarray
    tos: np.ndarray
    observed: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def _drawn_bounds(frame: pd.DataFrame, *, until: datetime, since: datetime | None) -> DrawnBounds:
    """Drawn start: the stated one; else the data's start for a dated end; else when it was first seen.
    Drawn end: the stated end, at most ``until``; else ``until``."""
    horizon = _ns(pd.Series([until]))[0]
    froms, tos, observed = _ns(frame["effective_from"]), _ns(frame["effective_to"]), _ns(_first_seen(frame))
    known = np.concatenate([froms[froms != NAT], observed[observed != NAT]])
    window_start = _ns(pd.Series([since]))[0] if since is not None else (known.min() if len(known) else horizon)
    starts = np.where(froms != NAT, froms, np.where(tos != NAT, window_start,
                                                    np.where(observed != NAT, observed, window_start)))
    ends = np.where(tos != NAT, np.minimum(tos, horizon), horizon)
    return DrawnBounds(horizon, froms, tos, observed, starts, ends)


def _later(a: object, b: object) -> object:
    """The later of two moments, either of which may be missing."""
    if a is None or pd.isna(a):  # type: ignore[call-overload]
        return b
    if b is None or pd.isna(b):  # type: ignore[call-overload]
        return a
    return max(pd.Timestamp(a), pd.Timestamp(b))  # type: ignore[arg-type]


def price_steps(frame: pd.DataFrame, *, group: str, until: datetime, since: datetime | None = None) -> pd.DataFrame:
    """Step segments per series: the lowest price in force in the group over each interval.

    For ``group="offering"`` a series is one offering and its segments are its
    price intervals. For provider, model or class, a series is the cheapest
    offer of the group at each moment (which offer that was is in the provenance
    columns). ``previous_usd_per_mtok`` is set where a segment directly follows
    another at a different price: those are the price changes.

    A price with no stated start (genai-prices states dates only around a
    change) is drawn from what is known, not from the dawn of time: an interval
    that ends (the source dates the next price) starts where the chart's data
    starts, but an open, undated price starts where it was first seen.
    Otherwise a model first listed in a 2026 file would appear priced in
    2024, and a flat line would hide the fall the dated sources record.
    ``since`` is where the data starts (:func:`history_start`).
    """
    if frame.empty:
        return pd.DataFrame(columns=STEP_COLUMNS)
    bounds_all = _drawn_bounds(frame, until=until, since=since)
    horizon, froms, tos, observed = bounds_all.horizon, bounds_all.froms, bounds_all.tos, bounds_all.observed
    starts_all, ends_all = bounds_all.starts, bounds_all.ends
    values_all = frame["usd_per_mtok"].to_numpy(dtype=float)
    keys, labels, colors = _series_keys(frame, group)
    provenance = {name: frame[name].tolist() if name in frame else [None] * len(frame)
                  for name in ("provider", "source_model_id", "region", "source", "observed_at", "first_seen_at",
                               "last_confirmed_at", "price_id", "market_note")}
    exact = frame["usd_exact"].tolist() if "usd_exact" in frame else [None] * len(frame)
    out: list[dict[str, object]] = []
    for key, positions in pd.Series(range(len(frame))).groupby(keys.to_numpy(), sort=False):
        index_all = positions.to_numpy()
        starts, ends, values = starts_all[index_all], ends_all[index_all], values_all[index_all]
        live = starts < ends
        if not live.any():
            continue
        index_all, starts, ends, values = index_all[live], starts[live], ends[live], values[live]
        bounds = np.unique(np.concatenate([starts, ends]))
        previous: dict[str, object] | None = None
        for at, nxt in itertools.pairwise(bounds):
            valid = (starts <= at) & (ends > at)
            if not valid.any():
                previous = None
                continue
            local = int(np.flatnonzero(valid)[np.argmin(values[valid])])
            position = int(index_all[local])
            value = float(values[local])
            open_end = bool(nxt == horizon and tos[position] == NAT)
            if previous is not None and previous["usd_per_mtok"] == value and previous["end"] == at:
                previous["end"] = nxt  # the same price goes on (another row saying the same thing)
                previous["open_end"] = open_end
                if all(previous[k] == provenance[k][position] for k in SAME_OFFER):
                    # The same offer's later interval (another component moved) confirms this price too.
                    previous["last_confirmed_at"] = _later(previous["last_confirmed_at"],
                                                           provenance["last_confirmed_at"][position])
                continue
            segment = {
                "series": key, "label": labels.iat[position], "color_key": colors.iat[position], "start": at,
                "end": nxt, "open_end": open_end, "start_stated": bool(froms[position] != NAT),
                "start_note": _start_note(froms[position], tos[position], observed[position]),
                "usd_per_mtok": value, "usd_exact": exact[position],
                "previous_usd_per_mtok": (previous["usd_per_mtok"]
                                          if previous is not None and previous["end"] == at else np.nan),
                **{name: values_[position] for name, values_ in provenance.items()},
            }
            out.append(segment)
            previous = segment
    steps = pd.DataFrame(out, columns=STEP_COLUMNS)
    if steps.empty:
        return steps
    steps["start"] = pd.to_datetime(steps["start"], utc=True)
    steps["end"] = pd.to_datetime(steps["end"], utc=True)
    return steps


def series_value_at(steps: pd.DataFrame, series: str, moment: datetime) -> float | None:
    """The step value of one series at a moment, or None where it has none."""
    rows = steps[(steps["series"] == series)]
    at = pd.Timestamp(moment)
    hit = rows[(rows["start"] <= at) & (rows["end"] > at)]
    return None if hit.empty else float(hit.iloc[0]["usd_per_mtok"])


def base_chat_prices(queryset: QuerySet[Price] | None = None) -> QuerySet[Price]:
    """Standard-tier, base-context token prices: the like-for-like set cost trends compare."""
    qs = Price.objects.all() if queryset is None else queryset
    return qs.filter(offering__service_tier="standard", offering__min_prompt_tokens=0)


def size_classes() -> list[str]:
    return list(Model.objects.exclude(size_class="").values_list("size_class", flat=True)
                .distinct().order_by("size_class"))


def model_choices() -> list[tuple[str, str]]:
    """(slug, "name (n offerings)") for models that have offerings, most offered first within name order."""
    rows = (Model.objects.annotate(n=Count("aliases__offerings")).filter(n__gt=0)
            .order_by("name", "slug").values_list("slug", "name", "n"))
    return [(slug, f"{name} ({n})") for slug, name, n in rows]


def provider_choices() -> list[tuple[str, str]]:
    rows = (Provider.objects.annotate(n=Count("offerings")).filter(n__gt=0)
            .order_by("name", "slug").values_list("slug", "name"))  # slug breaks ties: two are named 01.AI
    return list(rows)


def source_choices(*, priced: bool = False) -> list[tuple[str, str]]:
    """(key, name) of every source, or with ``priced`` only those that list token prices."""
    sources = Source.objects.order_by("key")
    if priced:
        sources = sources.filter(offerings__isnull=False).distinct()
    return list(sources.values_list("key", "name"))


# --- the overview ------------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    offerings: int
    providers: int
    models: int
    cheapest: dict[str, object] | None  # the step segment in force now: usd_per_mtok, provider, source…
    usd_90d: float | None
    usd_1y: float | None

    def _change(self, old: float | None) -> float | None:
        if self.cheapest is None or not old:
            return None
        return (float(self.cheapest["usd_per_mtok"]) - old) / old * 100  # type: ignore[arg-type]

    @property
    def change_90d_pct(self) -> float | None:
        return self._change(self.usd_90d)

    @property
    def change_1y_pct(self) -> float | None:
        return self._change(self.usd_1y)


def headline(*, size_class: str = "70b-class", ratio: tuple[int, int] = (3, 1), now: datetime | None = None,
             steps: pd.DataFrame | None = None, per_source: bool = False) -> Headline:
    """Counts tracked now, and the cheapest blended price of a size class with its 90-day and 1-year change.

    The cheapest price is the same lower envelope the overview chart draws
    (:func:`price_steps`), so the figure and the line beside it agree; labelled
    and zero prices never win. Pass the chart's ``steps`` (grouped by class, at
    the same ratio) to reuse them. The cheapest is a market price (one answer per
    offering) unless ``per_source`` asks for the lowest source row.
    """
    now = now or timezone.now()
    counts = prices_as_of(now).aggregate(offerings=Count("offering_id", distinct=True),
                                         providers=Count("offering__provider_id", distinct=True),
                                         models=Count("offering__alias__model_id", distinct=True))
    offerings, providers, models = counts["offerings"], counts["providers"], counts["models"]
    if steps is None or size_class not in set(steps["series"]):
        prices = base_chat_prices().filter(offering__alias__model__size_class=size_class)
        since = history_start()
        frame = chart_frame(prices, "blended", ratio) if per_source else \
            market_chart_frame(prices, "blended", ratio, until=now, since=since)
        steps = price_steps(frame, group="class", until=now, since=since)
    steps = steps[steps["series"] == size_class]
    if steps.empty:
        return Headline(offerings, providers, models, None, None, None)
    at_now = steps[(steps["start"] <= pd.Timestamp(now)) & (steps["end"] >= pd.Timestamp(now))]
    cheapest = at_now.iloc[-1].to_dict() if not at_now.empty else None
    return Headline(offerings, providers, models, cheapest,
                    series_value_at(steps, size_class, now - timedelta(days=90)),
                    series_value_at(steps, size_class, now - timedelta(days=365)))


CHANGE_VALUES = {
    "changed_at": "changed_at",
    "provider": "offering__provider__name",
    "provider_slug": "offering__provider__slug",
    "model": "offering__alias__model__name",
    "model_slug": "offering__alias__model__slug",
    "source_model_id": "offering__source_model_id",
    "region": "offering__region",
    "service_tier": "offering__service_tier",
    "min_prompt_tokens": "offering__min_prompt_tokens",  # long-context tiers are offerings of their own
    "component": "component",
    "old_usd_per_mtok": "old_usd_per_mtok",
    "new_usd_per_mtok": "new_usd_per_mtok",
    "percent_change": "percent_change",
    "source": "offering__source__key",
    "observed_at": "snapshot__observed_at",
    "snapshot_id": "snapshot_id",
}


def change_frame(changes: QuerySet[PriceChange]) -> pd.DataFrame:
    """Price changes with when the new price was first seen and last confirmed (one query).

    A change has no link to its price, but the new price is the offering's
    interval that starts at the change (``changed_at`` is its ``effective_from``,
    unique per offering).
    """
    # Unordered: (offering, effective_from) is unique, and Price's default ordering joined and sorted the
    # provider per change row (two thirds of the query's time).
    new_price = Price.objects.filter(offering_id=OuterRef("offering_id"),
                                     effective_from=OuterRef("changed_at")).order_by()
    changes = changes.annotate(new_first_seen_at=Subquery(new_price.values("first_seen_at")[:1]),
                               new_last_confirmed_at=Subquery(new_price.values("last_confirmed_at")[:1]))
    names = [*CHANGE_VALUES, "first_seen_at", "last_confirmed_at"]
    rows = list(changes.values_list(*CHANGE_VALUES.values(), "new_first_seen_at", "new_last_confirmed_at"))
    frame = pd.DataFrame(rows, columns=names)
    frame["component"] = frame["component"].str.replace("_usd_per_mtok", "", regex=False).str.replace("_", " ")
    for column in ("model", "model_slug", "region"):
        frame[column] = frame[column].fillna("")
    return frame


def latest_changes(*, limit: int = 15, until: datetime | None = None) -> pd.DataFrame:
    """The most recent price changes that have taken effect (announced future changes excluded)."""
    until = until or timezone.now()
    return change_frame(PriceChange.objects.filter(changed_at__lte=until).order_by("-changed_at", "-id")[:limit])


def upcoming_changes(*, limit: int = 15) -> pd.DataFrame:
    """Changes a source states for a future date."""
    return change_frame(PriceChange.objects.filter(changed_at__gt=timezone.now()).order_by("changed_at", "id")[:limit])


# --- sources ------------------------------------------------------------------------------

SOURCE_COLUMNS = ["key", "name", "format", "url", "schedule", "enabled", "scheduled", "licence", "freshness_hours",
                  "data_as_of", "last_fetched_at", "held", "last_run_at", "last_run_status", "last_run_message",
                  "last_run_failed", "snapshots", "failed_snapshots", "latest_snapshot_id", "offerings", "rejections",
                  "freshness", "freshness_note", "fetched"]
# Runs that look at the source (a fetch, a file, an upload). A curator's reparse or review is not a
# fetch: a review that rejects a held file must not read as "the last fetch was rejected".
FETCH_TRIGGERS = (IngestRun.Trigger.COMMAND, IngestRun.Trigger.TASK, IngestRun.Trigger.UPLOAD, IngestRun.Trigger.API)


def _age(delta: timedelta) -> str:
    hours = max(int(delta.total_seconds() // 3600), 0)
    if hours < 1:
        return "under an hour"
    return f"{hours} h" if hours < 48 else f"{hours // 24:,} days"


def _span(hours: int) -> str:
    """A freshness limit as a person says it: 24 h, 30 days, 5 years (not 43,800 h)."""
    if hours < 48 or hours % 24:
        return f"{hours:,} h"
    days = hours // 24
    return f"{days // 365} years" if days % 365 == 0 and days >= 730 else f"{days:,} days"


def _freshness(source: dict[str, object], now: datetime) -> tuple[str, str]:
    """(fresh | stale | never | manual, why), judged by the date of the newest data, not by the last fetch.

    A file loaded a minute ago that is dated last July is July's data: fetching
    often does not make old data fresh. ``never`` is a scheduled source with no
    data at all; ``manual`` a files-only source nobody has loaded yet (nothing is late).
    """
    data_as_of = source["data_as_of"]
    limit = int(source["freshness_hours"])  # type: ignore[call-overload]
    files = "" if source["scheduled"] else " Files only."
    if data_as_of is None:
        if source["scheduled"]:
            return "never", "Scheduled, but no data yet."
        return "manual", "Files only, none loaded yet."
    age = now - data_as_of  # type: ignore[operator]
    if age > timedelta(hours=limit):
        return "stale", f"Newest data {_age(age)} old; expected within {_span(limit)}.{files}"
    return "fresh", f"Newest data {_age(age)} old; within {_span(limit)}.{files}"


def source_health(*, now: datetime | None = None) -> pd.DataFrame:
    """Every source with its freshness, last fetch, last attempt, held snapshots and counts (grouped queries)."""
    now = now or timezone.now()
    sources = list(Source.objects.values("id", "key", "name", "format", "url", "schedule", "enabled", "licence",
                                         "freshness_hours"))
    freshness = sources_freshness()
    fetched = sources_fetched_ids()
    last_ids = (IngestRun.objects.filter(trigger__in=FETCH_TRIGGERS).values("source_id").annotate(last=Max("id"))
                .values_list("last", flat=True))
    last_runs = {r["source_id"]: r for r in IngestRun.objects.filter(id__in=list(last_ids))
                 .values("source_id", "started_at", "status", "message")}
    snaps = {r["source_id"]: r for r in Snapshot.objects.values("source_id").annotate(
        n=Count("id"), failed=Count("id", filter=Q(parse_status=Snapshot.Status.FAILED)), latest=Max("id"))}
    offerings = dict(Offering.objects.values("source_id").annotate(n=Count("id")).values_list("source_id", "n"))
    rejections = dict(Rejection.objects.values("snapshot__source_id").annotate(n=Count("id"))
                      .values_list("snapshot__source_id", "n"))
    rows = []
    for source in sources:
        sid = source["id"]
        run = last_runs.get(sid, {})
        snap = snaps.get(sid, {})
        fresh = freshness.get(sid)
        row = {
            **{k: source[k] for k in ("key", "name", "format", "url", "schedule", "enabled", "licence",
                                      "freshness_hours")},
            "scheduled": bool(source["enabled"] and source["url"] and source["schedule"]),
            "data_as_of": fresh.data_as_of if fresh else None,
            "last_fetched_at": fresh.last_fetched_at if fresh else None,
            "held": fresh.held if fresh else 0,
            "last_run_at": run.get("started_at"), "last_run_status": run.get("status", ""),
            "last_run_message": run.get("message", ""),
            "last_run_failed": run.get("status") == IngestRun.Status.FAILED,
            "snapshots": snap.get("n", 0), "failed_snapshots": snap.get("failed", 0),
            "latest_snapshot_id": snap.get("latest"),
            "offerings": offerings.get(sid, 0), "rejections": rejections.get(sid, 0),
        }
        row["freshness"], row["freshness_note"] = _freshness(row, now)
        row["fetched"] = sid in fetched
        rows.append(row)
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def source_warnings(health: pd.DataFrame) -> pd.DataFrame:
    """Sources to warn about: the last fetch (or file) failed, or a source that tokenwatch fetches has data
    older than its limit. Not failures (issue 14): a scheduled source that has not fetched yet and whose
    fetch never failed (the offline demo), data that came only from files, however old (the bundled
    snapshots say their dates in the overview's demo note), a held snapshot (a curator decides)."""
    if health.empty:
        return health
    stale_fetch = health["fetched"] & (health["freshness"] == "stale")
    return health[health["last_run_failed"] | stale_fetch].reset_index(drop=True)


HELD_VALUES = {
    "id": "id",
    "source": "source__key",
    "observed_at": "observed_at",
    "filename": "filename",
    "record_count": "record_count",
    "error": "error",
}


def held_frame(snapshots: QuerySet[Snapshot]) -> pd.DataFrame:
    """Snapshots held for a curator (they would end too much of a source's market), oldest first, with the reason."""
    rows = list(snapshots.filter(parse_status=Snapshot.Status.HELD).order_by("observed_at", "id")
                .values_list(*HELD_VALUES.values()))
    frame = pd.DataFrame(rows, columns=list(HELD_VALUES))
    frame["error"] = [held_reason(str(e)) for e in frame["error"]]  # the file has its own column
    return frame


REJECTION_VALUES = {
    "source": "snapshot__source__key",
    "snapshot_id": "snapshot_id",
    "observed_at": "snapshot__observed_at",
    "filename": "snapshot__filename",
    "locator": "locator",
    "reason": "reason",
    "raw_excerpt": "raw_excerpt",
}


def rejection_frame(rejections: QuerySet[Rejection], *, limit: int = 500) -> pd.DataFrame:
    rows = list(rejections.order_by("-snapshot__observed_at", "id").values(*REJECTION_VALUES.values())[:limit])
    frame = pd.DataFrame(rows, columns=list(REJECTION_VALUES.values()))
    frame.columns = list(REJECTION_VALUES)
    return frame


# --- provider comparison and the workload calculator ----------------------------------------

OFFERING_COLUMNS = ["offering_id", "provider", "provider_slug", "provider_kind", "model", "model_slug",
                    "source_model_id", "region", "service_tier", "min_prompt_tokens", "mode", "input_usd_per_mtok",
                    "output_usd_per_mtok", "cached_input_usd_per_mtok", "blended_usd_per_mtok", "price_label",
                    "source", "observed_at", "first_seen_at", "last_confirmed_at", "effective_from", "price_id",
                    "snapshot_id"]


def offering_prices(prices: QuerySet[Price], *, ratio: tuple[int, int]) -> pd.DataFrame:
    """The price of each offering in ``prices`` (usually already narrowed to one moment) with its blend."""
    frame = price_frame(prices)
    if frame.empty:
        return pd.DataFrame(columns=OFFERING_COLUMNS)
    frame["blended_usd_per_mtok"] = component_values(frame, "blended", ratio)
    frame["price_label"] = [label or ("zero" if blended is not None and blended == 0 else "")
                            for label, blended in zip(frame["price_label"], frame["blended_usd_per_mtok"],
                                                      strict=True)]
    kinds = dict(Provider.Kind.choices)
    frame["provider_kind"] = frame["provider_kind"].map(lambda k: kinds.get(k, k))
    return _sorted_offerings(frame)[OFFERING_COLUMNS]


def _sorted_offerings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["min_prompt_tokens", "provider", "source_model_id", "region", "service_tier"],
                             kind="stable").reset_index(drop=True)


def rankable(frame: pd.DataFrame) -> pd.Series:
    """Rows that may be ranked by price: a plain positive blended price (no label, no zero)."""
    if frame.empty:
        return pd.Series(dtype=bool)
    return frame["blended_usd_per_mtok"].map(lambda v: v is not None and not pd.isna(v) and v > 0) & (
        frame["price_label"] == "")


# --- market prices: one answer per offering, every source's word beside it (issue 10) ----------------
#
# The policy that picks the answer lives in apps.pricing.market; these functions only read its
# results (MarketPrice rows, or market_rows_as_of for a moment) and shape them for the pages.


@dataclass(frozen=True)
class Word:
    """One source's current statement about a market offering, as the pages show it."""

    source: str
    source_model_id: str
    values: tuple[Decimal | None, ...]  # in COMPONENTS order
    price_label: str
    last_confirmed_at: datetime | None

    def value(self, component: str) -> Decimal | None:
        return self.values[COMPONENTS.index(component)]


@dataclass(frozen=True)
class MarketOffer:
    """A market offering: the chosen source price, whether the sources agree, and every source's word."""

    price_id: int
    sources_agree: bool
    max_gap_pct: Decimal | None
    words: tuple[Word, ...]  # the chosen first
    why: str  # why the first word was chosen, in the policy's terms


def _why(ranks: list[tuple[object, ...]]) -> str:
    """The policy's reason for the first of ranked statements, from the first three parts of the policy's
    rank (``Evidence.rank``: the confirmation's UTC day, own provider, priority)."""
    if len(ranks) < 2:
        return "only source"
    first, second = ranks[0], ranks[1]
    if first[0] != second[0]:
        return "newest confirmation"
    if first[1] != second[1]:
        return "confirmed the same day; the provider's own price list"
    if first[2] != second[2]:
        return "confirmed the same day; higher source priority"
    return "confirmed the same day; source order"


def _day(value: datetime | None) -> date:
    """The UTC day a confirmation counts for in the policy (``Evidence.rank``)."""
    return (value or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).date()


def offers_from_rows(rows: Sequence[MarketRow]) -> list[MarketOffer]:
    """Market offers from rows the policy computed (``market_rows_as_of``)."""
    offers = []
    for row in rows:
        words = tuple(_word(e) for e in row.evidence)
        why = _why([e.rank() for e in row.evidence])
        offers.append(MarketOffer(row.chosen.price_id, row.sources_agree, row.max_gap_pct, words, why))
    return offers


def _word(evidence: Evidence) -> Word:
    return Word(evidence.source, evidence.raw_id, tuple(evidence.values), evidence.price_label,
                evidence.last_confirmed_at)


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def offers_from_stored(markets: QuerySet[MarketPrice]) -> list[MarketOffer]:
    """Market offers from the stored MarketPrice rows (the current market), one query plus the sources'
    priorities (to say why a statement was chosen)."""
    sources = {key: (priority, own) for key, priority, own in
               Source.objects.values_list("key", "priority", "own_provider_slug")}
    offers = []
    for price_id, agree, gap, evidence, provider_slug in markets.order_by().values_list(
            "price_id", "sources_agree", "max_gap_pct", "evidence", "provider__slug"):
        words = tuple(Word(e["source"], e.get("source_model_id") or "",
                           tuple(_decimal(e.get(c)) for c in COMPONENTS), e.get("price_label") or "",
                           datetime.fromisoformat(e["last_confirmed_at"]) if e.get("last_confirmed_at") else None)
                      for e in evidence)
        ranks = []
        for word in words:
            priority, own = sources.get(word.source, (0, ""))
            ranks.append((_day(word.last_confirmed_at), bool(own) and own == provider_slug, priority))
        offers.append(MarketOffer(price_id, agree, gap, words, _why(ranks)))
    return offers


MARKET_COLUMNS = ["sources_agree", "max_gap_pct", "source_count", "words", "why"]


def market_offering_prices(offers: Sequence[MarketOffer], *, ratio: tuple[int, int],
                           source_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per market offering, shaped like :func:`offering_prices` (the chosen source price and its
    provenance), with the agreement columns beside it. ``source_rows``, the :func:`offering_prices` of the
    source prices the offers were chosen from when a page has read them already, saves reading the chosen
    rows again (any chosen row not among them is read)."""
    by_price = {offer.price_id: offer for offer in offers}
    frame = pd.DataFrame(columns=OFFERING_COLUMNS)
    if source_rows is not None and not source_rows.empty:
        frame = source_rows[source_rows["price_id"].isin(list(by_price))]
    missing = set(by_price) - set(frame["price_id"])
    if missing:
        read = offering_prices(Price.objects.filter(id__in=list(missing)), ratio=ratio)
        frame = _sorted_offerings(pd.concat([frame, read], ignore_index=True)) if not frame.empty else read
    if frame.empty:
        return pd.DataFrame(columns=[*OFFERING_COLUMNS, *MARKET_COLUMNS])
    chosen = [by_price[int(i)] for i in frame["price_id"]]
    return frame.reset_index(drop=True).assign(
        sources_agree=[o.sources_agree for o in chosen], max_gap_pct=[o.max_gap_pct for o in chosen],
        source_count=[len(o.words) for o in chosen], words=[o.words for o in chosen], why=[o.why for o in chosen])


def unresolved_offering_prices(source_rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`offering_prices` whose offering has no canonical model: no market row (nothing to
    reconcile them with), listed as the source states them."""
    frame = source_rows[source_rows["model_slug"] == ""] if not source_rows.empty else source_rows
    return frame.reset_index(drop=True).assign(sources_agree=None, max_gap_pct=None, source_count=1,
                                               words=[()] * len(frame), why="unresolved id: not reconciled")


# What the market timeline reads per source price besides the policy's own FACT_FIELDS, and the frame
# columns it takes from those (chart name: FACT_FIELDS name).
TIMELINE_EXTRA = {
    "effective_to": "effective_to",
    "first_seen_at": "first_seen_at",
    "observed_at": "snapshot__observed_at",
    "offering_id": "offering_id",
    "provider": "offering__provider__name",
    "model_slug": "offering__alias__model__slug",
    "model": "offering__alias__model__name",
    "size_class": "offering__alias__model__size_class",
}
TIMELINE_FACTS = {
    "price_id": "pk", "provider_slug": "provider__slug", "source": "offering__source__key",
    "source_model_id": "offering__source_model_id", "region": "offering__region",
    "service_tier": "offering__service_tier", "input_usd_per_mtok": "input_usd_per_mtok",
    "output_usd_per_mtok": "output_usd_per_mtok", "price_label": "price_label", "effective_from": "effective_from",
    "last_confirmed_at": "last_confirmed_at",
}
_KEY_FACTS = tuple(FACT_FIELDS.index(name) for name in (
    "provider_id", "offering__alias__model_id", "offering__region", "offering__service_tier",
    "offering__min_prompt_tokens"))


def market_chart_frame(prices: QuerySet[Price], component: str, ratio: tuple[int, int], *, until: datetime,
                       since: datetime | None) -> pd.DataFrame:
    """:func:`chart_frame` for market prices: at every moment, each market offering's price is the one the
    policy chooses among the source prices in force then (``market_rows``, with confirmations later than
    the moment not known yet, as ``market_rows_as_of`` does), so a chart's cheapest line follows the
    market's answer, not the lowest copy any source ever printed.

    Each row is a stretch of time over which one source price was the market's choice; rows keep their
    price's own stated start and end where the stretch starts and ends with it.
    """
    qs = prices.filter(offering__alias__model__isnull=False).order_by()
    rows = list(qs.values_list(*FACT_FIELDS, *TIMELINE_EXTRA.values()))
    if not rows:
        return chartable(pd.DataFrame(columns=[*CHART_FIELDS, "market_note"]), component, ratio)
    n_facts = len(FACT_FIELDS)
    columns = list(zip(*rows, strict=True))
    data = {name: columns[FACT_FIELDS.index(path)] for name, path in TIMELINE_FACTS.items()}
    data.update({name: columns[n_facts + i] for i, name in enumerate(TIMELINE_EXTRA)})
    text = ("provider", "model", "model_slug", "size_class", "region", "price_label")
    for column in text:
        data[column] = _blank_nulls(data[column])
    base = pd.DataFrame(data)
    for column in text:
        if base[column].dtype == object:  # all NULL: blanked as before, keeping that column's dtype
            base[column] = base[column].fillna("")
    facts = rows  # each row starts with the FACT_FIELDS (_confirmed_by passes only those to the policy)
    drawn = _drawn_bounds(base, until=until, since=since)
    groups: dict[tuple[object, ...], list[int]] = {}
    market_key = operator.itemgetter(*_KEY_FACTS)
    for index, fact in enumerate(facts):
        groups.setdefault(market_key(fact), []).append(index)
    confirmed_ns = _ns(base["last_confirmed_at"])
    confirmed_at = FACT_FIELDS.index("last_confirmed_at")
    originals_from, originals_to = data["effective_from"], data["effective_to"]
    starts, ends = drawn.starts.tolist(), drawn.ends.tolist()
    out_rows: list[int] = []
    out_from: list[object] = []
    out_to: list[object] = []
    out_note: list[str] = []
    for members in groups.values():
        if len(members) == 1:  # one source: nothing to choose
            out_rows.append(members[0])
            out_from.append(originals_from[members[0]])
            out_to.append(originals_to[members[0]])
            out_note.append("")
            continue
        for index, start, end, note in _market_stretches(members, facts, drawn, confirmed_ns, confirmed_at):
            out_rows.append(index)
            # A stretch that starts (ends) where its price does keeps the price's own stated start (end).
            out_from.append(originals_from[index] if start == starts[index] else _stamp(start))
            out_to.append(originals_to[index] if end == ends[index] else _stamp(end))
            out_note.append(note)
    frame = base.iloc[out_rows].reset_index(drop=True)
    frame["effective_from"] = pd.Series(out_from, dtype=object)
    frame["effective_to"] = pd.Series(out_to, dtype=object)
    frame["market_note"] = out_note
    return chartable(frame, component, ratio)


def _confirmed_by(fact: tuple[object, ...], position: int, moment: datetime) -> tuple[object, ...]:
    """A fact (the FACT_FIELDS at the start of a row) as known at a moment: a confirmation later than it is not
    known yet (as market_rows_as_of)."""
    confirmed = fact[position]
    known = min(confirmed, moment) if isinstance(confirmed, datetime) else confirmed
    return (*fact[:position], known, *fact[position + 1:len(FACT_FIELDS)])


def _blank_nulls(values: Sequence[object]) -> Sequence[object]:
    """NULL text as "" before a frame is built (fillna on pandas' string columns cost ~4 ms a column of
    5,000 rows); a column of only NULLs is left for fillna, so its dtype stays what it was."""
    if all(value is None for value in values):
        return values
    return ["" if value is None else value for value in values]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _stamp(ns: int) -> datetime:
    """Nanoseconds since the epoch (from datetimes, so whole microseconds) back to an aware datetime."""
    return _EPOCH + timedelta(microseconds=int(ns) // 1000)


def agreement_note(agree: bool | None, gap: Decimal | None) -> str:
    """The mark for disagreeing sources: "⚠ sources differ (+97.5 %)"; empty where they agree."""
    if agree is None or agree:
        return ""
    if gap is None:
        return "⚠ sources differ"
    shown = gap.quantize(Decimal("0.1")).normalize()
    return f"⚠ sources differ (+{shown:f} %)"


def _market_stretches(members: list[int], facts: list[tuple[object, ...]], drawn: DrawnBounds,
                      confirmed_ns: np.ndarray, confirmed_at: int) -> list[tuple[int, int, int, str]]:
    """(row, start, end, note) for each stretch over which one of ``members`` (the source prices of one market
    offering) was the policy's choice. The choice can change only where a price starts or ends, or where a
    confirmation stops being as recent as a later one (the policy compares confirmations by UTC day);
    between those moments it is evaluated at the stretch's last instant, so the last stretch (ending now)
    agrees with the current market."""
    # Plain ints: a few prices per offering, where numpy's per-call cost would dominate.
    spans = [(i, int(drawn.starts[i]), int(drawn.ends[i])) for i in members]
    low, high = min(start for _, start, _ in spans), int(drawn.horizon)
    moments = {start for _, start, _ in spans} | {end for _, _, end in spans}
    # The policy compares confirmations by UTC day: a statement confirmed on day D stops tying with
    # statements confirmed later at the start of day D + 1.
    confirmed = {i: int(confirmed_ns[i]) for i in members}
    moments |= {(c // DAY_NS + 1) * DAY_NS for c in confirmed.values() if c != NAT}
    ordered = sorted(m for m in moments if low <= m <= high)
    by_price = {facts[i][0]: i for i in members}
    decided: dict[tuple[tuple[int, int | None], ...], tuple[int, str]] = {}
    stretches: list[list[object]] = []
    for a, b in itertools.pairwise(ordered):
        live = [i for i, start, end in spans if start <= a < end]
        if not live:
            continue
        if len(live) == 1:
            chosen, note = live[0], ""
        else:
            # Evaluated at the stretch's last instant; what the policy sees of each statement then is its
            # confirmation's UTC day (capped at that instant): the same days, the same answer.
            instant = b - 1000  # one microsecond before b, in nanoseconds
            state = tuple((i, min(confirmed[i], instant) // DAY_NS if confirmed[i] != NAT else None)
                          for i in live)
            if state not in decided:
                moment = _stamp(instant)
                known = [_confirmed_by(facts[i], confirmed_at, moment) for i in live]
                [row] = list(market_rows(known))
                decided[state] = (by_price[row.chosen.price_id], agreement_note(row.sources_agree, row.max_gap_pct))
            chosen, note = decided[state]
        last = stretches[-1] if stretches else None
        if last is not None and last[0] == chosen and last[2] == a and last[3] == note:
            last[2] = b
        else:
            stretches.append([chosen, a, b, note])
    return [(int(c), int(a), int(b), str(n)) for c, a, b, n in stretches]


@dataclass(frozen=True)
class Workload:
    input_mtok_per_month: Decimal
    output_mtok_per_month: Decimal
    cached_share_pct: Decimal
    batch: bool


SOURCE_OFFER_KEY = ("source", "provider_slug", "source_model_id", "region", "min_prompt_tokens")
MARKET_OFFER_KEY = ("provider_slug", "region", "min_prompt_tokens")  # one model: a market offering but its tier


def monthly_costs(offerings: pd.DataFrame, workload: Workload, *,
                  key: Sequence[str] = SOURCE_OFFER_KEY) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Offerings ranked by the monthly cost of a workload, and the ones left out with the reason.

    Cost = uncached input x input price + cached input x cached price (the input
    price where no cached price is listed) + output x output price. With
    ``batch``, an offering's batch tier replaces its standard tier where the
    source lists one. Long-context tiers, other tiers and labelled or zero
    prices are not ranked: they are listed with the reason. ``key`` names what a batch tier must share
    with the standard one it replaces: the source's offer, or (for market rows) the market offering.
    """
    given = list(offerings.columns) if not offerings.empty else list(OFFERING_COLUMNS)
    columns = [*given, "tier_used", "monthly_usd", "rank"]
    if offerings.empty:
        return pd.DataFrame(columns=columns), pd.DataFrame(columns=[*given, "reason"])
    frame = offerings.copy()
    key = list(key)
    base = frame[(frame["min_prompt_tokens"] == 0) & (frame["service_tier"] == "standard")].copy()
    base["tier_used"] = "standard"
    if workload.batch:
        batch = frame[(frame["min_prompt_tokens"] == 0) & (frame["service_tier"] == "batch")]
        batch_by_key = {tuple(r[k] for k in key): r for r in batch.to_dict("records")}
        replaced = []
        for record in base.to_dict("records"):
            swap = batch_by_key.get(tuple(record[k] for k in key))
            replaced.append({**swap, "tier_used": "batch"} if swap is not None else
                            {**record, "tier_used": "standard (no batch tier)"})
        base = pd.DataFrame(replaced, columns=[*given, "tier_used"])
    used_ids = set(base["offering_id"])
    left_out = frame[~frame["offering_id"].isin(used_ids)].copy()
    left_out["reason"] = [
        (f"long-context tier (> {int(t):,} prompt tokens)" if t else f"{tier} tier")
        for t, tier in zip(left_out["min_prompt_tokens"], left_out["service_tier"], strict=True)]
    ok = rankable(base)
    labelled = base[~ok].copy()
    labelled["reason"] = [
        {"free": "labelled free: a zero price is not an offer to rank",
         "zero": "price is zero: a fact to check, not the cheapest offer",
         "variable": "labelled variable: no fixed price",
         "unknown": "price unknown"}.get(label, "no input or output price")
        for label in labelled["price_label"]]
    ranked = base[ok].copy()
    cached = workload.cached_share_pct / Decimal(100)
    in_total, out_total = workload.input_mtok_per_month, workload.output_mtok_per_month
    costs = []
    for record in ranked.to_dict("records"):
        cached_price = record["cached_input_usd_per_mtok"]
        if cached_price is None or pd.isna(cached_price):
            cached_price = record["input_usd_per_mtok"]
        costs.append(in_total * (1 - cached) * record["input_usd_per_mtok"] + in_total * cached * cached_price
                     + out_total * record["output_usd_per_mtok"])
    ranked["monthly_usd"] = costs
    ranked = ranked.sort_values("monthly_usd", key=lambda s: s.map(float), kind="stable").reset_index(drop=True)
    ranked["rank"] = range(1, len(ranked) + 1)
    excluded = pd.concat([labelled.drop(columns=["tier_used"]), left_out], ignore_index=True)
    return ranked[columns], excluded[[*given, "reason"]]


def speed_for_model(model: Model) -> pd.DataFrame:
    """Measured speed of a model per provider (benchmark runs naming a provider), with provenance."""
    from apps.benchmarks.models import BenchmarkRun

    rows = list(BenchmarkRun.objects.filter(alias__model=model, provider__isnull=False).values(
        "provider__slug", "provider__name", "tokens_per_s", "request_tokens_per_s_mean", "ttft_p50_ms",
        "p99_latency_ms", "mostly_failed", "measured_at", "source__key", "snapshot__observed_at", "input_tokens",
        "output_tokens", "concurrency"))
    frame = pd.DataFrame(rows, columns=["provider__slug", "provider__name", "tokens_per_s",
                                        "request_tokens_per_s_mean", "ttft_p50_ms", "p99_latency_ms",
                                        "mostly_failed", "measured_at", "source__key", "snapshot__observed_at",
                                        "input_tokens", "output_tokens", "concurrency"])
    return frame.rename(columns={"provider__slug": "provider_slug", "provider__name": "provider",
                                 "source__key": "benchmark_source", "snapshot__observed_at": "benchmark_observed_at"})


def price_vs_speed(offerings: pd.DataFrame, speed: pd.DataFrame) -> pd.DataFrame:
    """Each provider's cheapest rankable blended price beside its measured per-request speed."""
    if offerings.empty or speed.empty:
        return pd.DataFrame(columns=["provider_slug", "provider", "blended_usd_per_mtok", "source_model_id",
                                     "source", "observed_at", "last_confirmed_at", "request_tokens_per_s_mean",
                                     "ttft_p50_ms", "mostly_failed", "benchmark_source", "measured_at"])
    priced = offerings[rankable(offerings) & (offerings["min_prompt_tokens"] == 0)
                       & (offerings["service_tier"] == "standard")].copy()
    if priced.empty:
        return price_vs_speed(priced, pd.DataFrame())
    priced["_f"] = priced["blended_usd_per_mtok"].map(float)
    cheapest = priced.sort_values("_f").groupby("provider_slug", as_index=False).first()
    merged = cheapest.merge(speed.drop(columns=["provider"]), on="provider_slug", how="inner")
    return merged[["provider_slug", "provider", "blended_usd_per_mtok", "source_model_id", "source", "observed_at",
                   "last_confirmed_at", "request_tokens_per_s_mean", "ttft_p50_ms", "mostly_failed", "benchmark_source",
                   "measured_at"]]


def same_price_once(costs: pd.DataFrame) -> pd.DataFrame:
    """Self-hosting costs with one row per run and instance price: sheets that agree are named together.

    The curated sheet and the SkyPilot catalog often list the same Lambda
    instance at the same hourly price, and the catalog repeats it per region;
    a chart bar per copy would only stack identical bars.
    """
    if costs.empty:
        return costs.assign(utilisation_pct=[], price_sources=[])
    key = ["run_id", "provider", "instance_type", "pricing_model", "usd_per_hour"]
    rows = []
    for _, group in costs.groupby(key, sort=False):
        first = group.iloc[0].to_dict()
        regions = sorted({r for value in group["regions"] for r in str(value or "").split(", ") if r})
        first["regions"] = ("any" if not regions else ", ".join(regions) if len(regions) <= 3
                            else f"{len(regions)} regions")
        first["price_source"] = ", ".join(sorted(set(group["price_source"])))
        first["price_observed_at"] = group["price_observed_at"].min()
        first["utilisation_pct"] = first["utilisation"] * 100
        rows.append(first)
    return pd.DataFrame(rows).sort_values(["run_id", "usd_per_mtok"], kind="stable").reset_index(drop=True)


# --- detail pages ---------------------------------------------------------------------------


def history_frame(prices: QuerySet[Price], *, ratio: tuple[int, int]) -> pd.DataFrame:
    """Every price interval, newest first within each offering, with its blend and provenance."""
    frame = price_frame(prices)
    if frame.empty:
        return frame.assign(blended_usd_per_mtok=[])
    frame["blended_usd_per_mtok"] = component_values(frame, "blended", ratio)
    order = pd.to_datetime(frame["effective_from"], utc=True)
    frame = frame.assign(_order=order).sort_values(["provider", "source_model_id", "region", "service_tier",
                                                    "min_prompt_tokens", "_order"], kind="stable", na_position="first")
    return frame.drop(columns=["_order"]).reset_index(drop=True)


MODEL_FRAME_COLUMNS = [
    "slug", "name", "creator", "creator_label", "family", "family_label", "version", "variant", "size_class",
    "parameter_count_b", "active_parameter_count_b", "modality", "modality_label", "open_weights", "released_on",
    "cheapest_input_usd_per_mtok", "cheapest_output_usd_per_mtok", "cheapest_provider", "cheapest_provider_slug",
    "context_tokens", "providers", "offerings",
]


def cheapest_market_prices(*, ratio: tuple[int, int] = (3, 1)) -> dict[int, tuple[Decimal, Decimal | None, str, str]]:
    """Per canonical model: (input, output, provider name, provider slug) of its cheapest current market
    offering, in USD per 1M tokens.

    Like for like: standard tier, base context tier, any region, plain prices only (a free, variable
    or zero price is a fact to label, never the cheapest offer). Ranked by the blended price
    (``ratio`` input:output, 3:1 as public leaderboards do) where both prices are known, those
    offerings first; else by the input price.
    """
    rows = (MarketPrice.objects.filter(service_tier="standard", min_prompt_tokens=0, price_label="",
                                       input_usd_per_mtok__gt=0)
            .values_list("model_id", "input_usd_per_mtok", "output_usd_per_mtok", "provider__name", "provider__slug")
            .iterator(chunk_size=5000))
    best: dict[int, tuple[tuple[int, Decimal], tuple[Decimal, Decimal | None, str, str]]] = {}
    w_in, w_out = ratio
    for model_id, usd_in, usd_out, name, slug in rows:
        if usd_out is not None and usd_out > 0:
            rank = (0, (usd_in * w_in + usd_out * w_out) / (w_in + w_out))
        else:
            rank = (1, usd_in)
        if model_id not in best or rank < best[model_id][0]:
            best[model_id] = (rank, (usd_in, usd_out if usd_out else None, name, slug))
    return {model_id: offer for model_id, (_, offer) in best.items()}


def models_frame() -> pd.DataFrame:
    """Canonical models with offerings: identity, the attributes analysts filter by (readable creator and
    family, parameters total and active, modality, open weights, release date), the cheapest current
    market price, the largest context window of their offerings, and how many providers and offerings
    carry them."""
    rows = list(Model.objects.annotate(
        offerings=Count("aliases__offerings", distinct=True),
        providers=Count("aliases__offerings__provider", distinct=True),
        context_tokens=Max("aliases__offerings__max_input_tokens"),
    ).filter(offerings__gt=0).values(
        "pk", "slug", "name", "creator", "family", "version", "variant", "size_class", "parameter_count_b",
        "active_parameter_count_b", "modality", "open_weights", "released_on", "offerings", "providers",
        "context_tokens").order_by("name"))
    cheapest = cheapest_market_prices()
    for row in rows:
        offer = cheapest.get(row.pop("pk"))
        row["cheapest_input_usd_per_mtok"], row["cheapest_output_usd_per_mtok"] = offer[:2] if offer else (None, None)
        row["cheapest_provider"], row["cheapest_provider_slug"] = offer[2:] if offer else (None, None)
        row["creator_label"] = creator_label(row["creator"])
        row["family_label"] = family_label(row["family"])
        row["modality_label"] = MODALITY_SHORT.get(row["modality"], row["modality"])
    frame = pd.DataFrame(rows, columns=MODEL_FRAME_COLUMNS)
    # Keep None (not NaN) for an unknown open-weights flag, so it shows and exports as nothing.
    frame["open_weights"] = frame["open_weights"].astype(object)
    return frame


def providers_frame() -> pd.DataFrame:
    kinds = dict(Provider.Kind.choices)
    rows = list(Provider.objects.annotate(
        offering_count=Count("offerings", distinct=True),
        model_count=Count("offerings__alias__model", distinct=True),
    ).values("slug", "name", "kind", "offering_count", "model_count", "primary_offering").order_by("name"))
    frame = pd.DataFrame(rows, columns=["slug", "name", "kind", "offering_count", "model_count", "primary_offering"])
    frame = frame.rename(columns={"offering_count": "offerings", "model_count": "models"})
    frame["kind"] = frame["kind"].map(lambda k: kinds.get(k, k))
    return frame
