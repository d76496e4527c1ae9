"""Data-quality reads: how far the sources agree (computed live from the market prices' evidence), the largest
disagreements, aggregator markups, price outliers, the unresolved-id tail and stale sources."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from apps.catalog.models import ModelAlias, Offering, Provider
from apps.pricing.market import labels_conflict
from apps.pricing.models import COMPONENTS, MarketPrice, PriceObservation
from apps.sources.models import Snapshot, Source
from apps.sources.selectors import sources_freshness


@dataclass(frozen=True)
class PairAgreement:
    source_a: str
    source_b: str
    pairs: int  # market offerings both sources price now
    disagree: int  # of which some component differs (as decimals) or the label does
    median_gap_pct: Decimal | None  # median of the largest relative gap over the disagreeing pairs

    @property
    def share_pct(self) -> Decimal:
        return Decimal(0) if not self.pairs else (Decimal(self.disagree * 100) / self.pairs).quantize(Decimal("0.1"))


# What a buyer compares first: the matrix looks at these unless told otherwise (sources_agree on a market
# price looks at every component).
HEADLINE = ("input_usd_per_mtok", "output_usd_per_mtok")


def _gap(a: dict, b: dict, components: tuple[str, ...] = COMPONENTS) -> tuple[bool, Decimal | None]:
    """(the two statements differ, the largest relative gap in % of the lower value)."""
    differ = labels_conflict([a.get("price_label", ""), b.get("price_label", "")])
    gap: Decimal | None = None
    for name in components:
        x, y = a.get(name), b.get(name)
        if x is None or y is None:
            continue
        low, high = sorted((Decimal(x), Decimal(y)))
        if low != high:
            differ = True
            if low > 0:
                relative = (high - low) / low * 100
                gap = relative if gap is None or relative > gap else gap
    return differ, gap


def agreement_matrix(queryset: QuerySet[MarketPrice] | None = None, *, like_for_like: bool = True,
                     components: tuple[str, ...] = HEADLINE) -> list[PairAgreement]:
    """For each pair of sources: market offerings both price now, how many disagree, the median gap.

    like_for_like keeps the standard tier, no particular region and the base context tier: tiers,
    regions and long-context rates are where sources most often price different things under one
    name. ``components`` are those compared (input and output by default; COMPONENTS for all).
    """
    qs = MarketPrice.objects.all() if queryset is None else queryset
    if like_for_like:
        qs = qs.filter(service_tier="standard", region="", min_prompt_tokens=0)
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    gaps: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for evidence in qs.filter(source_count__gte=2).values_list("evidence", flat=True).iterator(chunk_size=2000):
        by_source = {e["source"]: e for e in evidence}
        for a, b in combinations(sorted(by_source), 2):
            differ, gap = _gap(by_source[a], by_source[b], components)
            counts[(a, b)][0] += 1
            if differ:
                counts[(a, b)][1] += 1
                if gap is not None:
                    gaps[(a, b)].append(gap)
    return [PairAgreement(a, b, n, d, statistics.median(gaps[(a, b)]).quantize(Decimal("0.1"))
                          if gaps[(a, b)] else None)
            for (a, b), (n, d) in sorted(counts.items())]


# --- the data-quality page's tables: pure reads returning DataFrames ---------------------------------------

COMPONENT_NAMES = {name: name.removesuffix("_usd_per_mtok").replace("_", " ") for name in COMPONENTS}


def agreement_frame(queryset: QuerySet[MarketPrice] | None = None) -> pd.DataFrame:
    """The agreement matrix as a table: one row per pair of sources (like-for-like, input and output)."""
    rows = [{"source_a": p.source_a, "source_b": p.source_b, "pairs": p.pairs, "disagree": p.disagree,
             "share_pct": p.share_pct, "median_gap_pct": p.median_gap_pct} for p in agreement_matrix(queryset)]
    return pd.DataFrame(rows, columns=["source_a", "source_b", "pairs", "disagree", "share_pct", "median_gap_pct"])


def disagreement_count() -> int:
    """Market offerings whose current sources do not agree."""
    return MarketPrice.objects.filter(sources_agree=False).count()


DISAGREEMENT_COLUMNS = ["rank", "provider", "provider_slug", "model", "model_slug", "region", "service_tier",
                        "min_prompt_tokens", "max_gap_pct", "differs_on", "source", "chosen", *COMPONENTS,
                        "price_label", "source_model_id", "last_confirmed_at"]


def _differs_on(evidence: list[dict[str, Any]]) -> str:
    """The components (and the label) on which the sources' current statements differ, in COMPONENTS order."""
    names = []
    for name in COMPONENTS:
        values = {Decimal(e[name]) for e in evidence if e.get(name) is not None}
        if len(values) > 1:
            names.append(COMPONENT_NAMES[name])
    if labels_conflict([e.get("price_label", "") for e in evidence]):
        names.append("label")
    return ", ".join(names)


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def largest_disagreements(limit: int = 50) -> pd.DataFrame:
    """The ``limit`` market offerings whose sources differ most (max_gap_pct, largest first; a gap that cannot
    be a percentage, a label or a zero against a price, last), one row per source's word, the chosen one first."""
    offerings = (MarketPrice.objects.filter(sources_agree=False)
                 .order_by(F("max_gap_pct").desc(nulls_last=True), "provider__name", "model__name", "id")
                 .values_list("provider__name", "provider__slug", "model__name", "model__slug", "region",
                              "service_tier", "min_prompt_tokens", "max_gap_pct", "evidence")[:limit])
    rows = []
    for rank, (provider, provider_slug, model, model_slug, region, tier, min_prompt, gap, evidence) in enumerate(
            offerings, start=1):
        differs = _differs_on(evidence)
        for index, said in enumerate(evidence):
            rows.append({"rank": rank, "provider": provider, "provider_slug": provider_slug, "model": model,
                         "model_slug": model_slug, "region": region, "service_tier": tier,
                         "min_prompt_tokens": min_prompt, "max_gap_pct": gap, "differs_on": differs,
                         "source": said["source"], "chosen": index == 0,
                         **{name: None if said.get(name) is None else Decimal(said[name]) for name in COMPONENTS},
                         "price_label": said.get("price_label", ""), "source_model_id": said.get("source_model_id", ""),
                         "last_confirmed_at": _moment(said.get("last_confirmed_at"))})
    return pd.DataFrame(rows, columns=DISAGREEMENT_COLUMNS)


# Like-for-like offerings for comparing providers: the standard tier, no particular region, the base context tier,
# a plain price (a labelled one, free or unknown, has nothing to compare).
LIKE_FOR_LIKE = {"service_tier": "standard", "region": "", "min_prompt_tokens": 0, "price_label": ""}
_GENERIC_TOKENS = {"ai", "api", "cloud", "labs", "inc", "the"}


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t} - _GENERIC_TOKENS


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def is_creators_provider(creator: str, slug: str, name: str) -> bool:
    """Is this (first-party) provider the model creator's own API? The creator as the catalogue spells it
    ("openai", "google", "qwen", "moonshotai") against the provider's slug and name ("google-ai-studio",
    "Alibaba Cloud (Qwen)", "Moonshot AI"): equal once punctuation is gone, or one of their words, or so
    without a trailing "ai". A first-party provider that resells other makers' models (Perplexity) matches none."""
    creator_key = _key(creator)
    if not creator_key or creator_key in _GENERIC_TOKENS:
        return False
    names = _tokens(slug) | _tokens(name) | {_key(slug), _key(name)}
    stem = creator_key.removesuffix("ai")
    return creator_key in names or (len(stem) >= 3 and stem in names)


MARKUP_COLUMNS = ["model", "model_slug", "creator", "aggregator", "aggregator_slug", "first_party", "first_party_slug",
                  "aggregator_input_usd_per_mtok", "first_party_input_usd_per_mtok", "input_markup_pct",
                  "aggregator_output_usd_per_mtok", "first_party_output_usd_per_mtok", "output_markup_pct",
                  "aggregator_source", "first_party_source", "aggregator_last_confirmed_at",
                  "first_party_last_confirmed_at"]
_MARKUP_FIELDS = ("model_id", "model__name", "model__slug", "model__creator", "provider__name", "provider__slug",
                  "input_usd_per_mtok", "output_usd_per_mtok", "source__key", "last_confirmed_at")


def markup_pct(resold: Decimal | None, own: Decimal | None) -> Decimal | None:
    """(resold - own) / own x 100; None when either is missing or the own price is zero."""
    if resold is None or own is None or own == 0:
        return None
    return (resold - own) / own * 100


def aggregator_markups() -> pd.DataFrame:
    """Aggregators' market prices against the model creator's own (first-party) market price, like-for-like.

    One row per aggregator x model the creator also sells itself; the markup is relative to the creator's
    price (OpenRouter's gpt-4o against OpenAI's). The aggregators with the most such models first, and the
    largest markup (either way) first within each.
    """
    resold = (MarketPrice.objects.filter(provider__kind=Provider.Kind.AGGREGATOR, **LIKE_FOR_LIKE)
              .exclude(model__creator=""))
    own: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in (MarketPrice.objects.filter(provider__kind=Provider.Kind.FIRST_PARTY, **LIKE_FOR_LIKE,
                                           model__in=resold.values("model_id"))
                .values_list(*_MARKUP_FIELDS)):
        if is_creators_provider(row[3], row[5], row[4]):
            own[row[0]].append(row)
    rows = []
    for model_id, model, model_slug, creator, name, slug, input_usd, output_usd, source, confirmed in (
            resold.values_list(*_MARKUP_FIELDS)):
        for *_, fp_name, fp_slug, fp_input, fp_output, fp_source, fp_confirmed in own.get(model_id, []):
            markups = (markup_pct(input_usd, fp_input), markup_pct(output_usd, fp_output))
            if markups == (None, None):
                continue
            rows.append(dict(zip(MARKUP_COLUMNS, (
                model, model_slug, creator, name, slug, fp_name, fp_slug, input_usd, fp_input, markups[0],
                output_usd, fp_output, markups[1], source, fp_source, confirmed, fp_confirmed), strict=True)))

    per_aggregator = Counter(row["aggregator_slug"] for row in rows)

    def order(row: dict[str, Any]) -> tuple[int, str, Decimal, str, str]:
        largest = max(abs(m) for m in (row["input_markup_pct"], row["output_markup_pct"]) if m is not None)
        return (-per_aggregator[row["aggregator_slug"]], row["aggregator"].lower(), -largest, row["model"].lower(),
                row["first_party"].lower())

    return pd.DataFrame(sorted(rows, key=order), columns=MARKUP_COLUMNS)


OUTLIER_COLUMNS = ["provider", "provider_slug", "model", "model_slug", "region", "basis", "usd_per_mtok",
                   "median_others_usd_per_mtok", "others", "times", "direction", "input_usd_per_mtok",
                   "output_usd_per_mtok", "source", "last_confirmed_at"]
OUTLIER_FACTOR = 10
OUTLIER_MIN_OTHERS = 3  # the median of two others is their mean, which one outlier drags anywhere


def price_outliers(*, factor: int = OUTLIER_FACTOR, min_others: int = OUTLIER_MIN_OTHERS,
                   ratio: tuple[int, int] | None = None) -> pd.DataFrame:
    """Market offerings priced more than ``factor`` times above or below the median of the same canonical model's
    other market offerings (standard tier, base context tier, plain positive prices; any region).

    The basis is the blended price (``ratio``, 3:1 by default) where every offering of the model has input and
    output prices, else the input price. Shown, not rejected: an outlier may be a real premium or a typo.
    """
    ri, ro = ratio or (settings.TOKENWATCH_BLEND_INPUT_RATIO, settings.TOKENWATCH_BLEND_OUTPUT_RATIO)
    by_model: dict[int, list[dict[str, Any]]] = defaultdict(list)
    fields = ("model_id", "provider__name", "provider__slug", "model__name", "model__slug", "region",
              "input_usd_per_mtok", "output_usd_per_mtok", "source__key", "last_confirmed_at")
    plain = MarketPrice.objects.filter(**{key: value for key, value in LIKE_FOR_LIKE.items() if key != "region"})
    # Only models with enough offerings to judge: most have one or two, and reading them costs the most.
    judged = (plain.order_by().values("model_id").annotate(n=Count("id")).filter(n__gt=min_others)
              .values("model_id"))
    for values in plain.filter(model_id__in=judged).values_list(*fields).iterator(chunk_size=5000):
        row = dict(zip(fields, values, strict=True))
        if row["input_usd_per_mtok"] is not None and row["input_usd_per_mtok"] > 0:
            by_model[row["model_id"]].append(row)
    label = f"blended {ri}:{ro}"
    rows = []
    for offers in by_model.values():
        if len(offers) <= min_others:
            continue
        blended = all(o["output_usd_per_mtok"] is not None for o in offers)
        prices = [(ri * o["input_usd_per_mtok"] + ro * o["output_usd_per_mtok"]) / (ri + ro) if blended
                  else o["input_usd_per_mtok"] for o in offers]
        for index, (offer, price) in enumerate(zip(offers, prices, strict=True)):
            median = statistics.median(prices[:index] + prices[index + 1:])
            times = price / median if price >= median else median / price
            if times > factor:
                rows.append({"provider": offer["provider__name"], "provider_slug": offer["provider__slug"],
                             "model": offer["model__name"], "model_slug": offer["model__slug"],
                             "region": offer["region"], "basis": label if blended else "input", "usd_per_mtok": price,
                             "median_others_usd_per_mtok": median, "others": len(offers) - 1, "times": times,
                             "direction": "above" if price > median else "below",
                             "input_usd_per_mtok": offer["input_usd_per_mtok"],
                             "output_usd_per_mtok": offer["output_usd_per_mtok"], "source": offer["source__key"],
                             "last_confirmed_at": offer["last_confirmed_at"]})
    rows.sort(key=lambda r: (-r["times"], r["model"].lower(), r["provider"].lower()))
    return pd.DataFrame(rows, columns=OUTLIER_COLUMNS)


# A provider or vendor prefix before the model's own name: "moonshotai." in bedrock/moonshotai.kimi-k2,
# "us.anthropic." in a regional Bedrock id. Only words followed by a name (two letters): "qwen1.5" and
# "gpt-4.1" keep their dots.
_VENDOR_DOTS = re.compile(r"^(?:[a-z][a-z0-9_-]*\.(?=[a-z]{2}))+")
_FIRST_TOKEN = re.compile(r"[-_:\s]+")
_LETTERS = re.compile(r"[a-z]+")


def family_guess(raw_id: str) -> str:
    """The family an unresolved raw id probably belongs to: its leading name, without provider prefixes
    ("openrouter/moonshotai/kimi-k2" and "bedrock/moonshotai.kimi-k2-thinking" are both "kimi")."""
    name = raw_id.strip().lower().rsplit("/", 1)[-1].removeprefix("ft:")  # a fine-tune is its base's family
    name = _VENDOR_DOTS.sub("", name)
    token = _FIRST_TOKEN.split(name, maxsplit=1)[0]
    letters = _LETTERS.match(token)
    if letters and len(letters.group()) >= 2:
        return letters.group()
    return token or name


UNRESOLVED_COLUMNS = ["family", "offerings", "ids", "sources", "examples"]


def unresolved_families(*, examples: int = 3) -> pd.DataFrame:
    """Unresolved raw ids grouped by :func:`family_guess`, the families covering most offerings first: where a
    curator's rule or alias resolves the most at once."""
    offerings: dict[str, int] = defaultdict(int)
    ids: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sources: dict[str, set[str]] = defaultdict(set)
    aliases = (ModelAlias.objects.filter(status=ModelAlias.Status.UNRESOLVED).order_by()
               .annotate(n=Count("offerings")).values_list("raw_id", "source__key", "n"))
    for raw_id, source, n in aliases.iterator(chunk_size=5000):
        family = family_guess(raw_id)
        offerings[family] += n
        ids[family][raw_id] += n
        sources[family].add(source)
    rows = []
    for family, covered in offerings.items():
        named = sorted(ids[family].items(), key=lambda item: (-item[1], item[0]))
        rows.append({"family": family, "offerings": covered, "ids": len(named), "sources": ", ".join(
            sorted(sources[family])), "examples": ", ".join(raw for raw, _ in named[:examples])})
    rows.sort(key=lambda r: (-r["offerings"], -r["ids"], r["family"]))
    return pd.DataFrame(rows, columns=UNRESOLVED_COLUMNS)


STALE_COLUMNS = ["key", "name", "status", "data_as_of", "age_days", "limit_hours", "last_fetched_at", "held"]


def stale_sources(*, now: datetime | None = None) -> pd.DataFrame:
    """Sources whose newest data is older than their limit (by the data's own date, not the last fetch), and
    scheduled sources with no data at all ("never", as the Sources page says); those first, then the oldest.
    Files-only sources nobody loaded are not late."""
    now = now or timezone.now()
    freshness = sources_freshness()
    rows = []
    for source in Source.objects.order_by("key").values("id", "key", "name", "url", "schedule", "enabled",
                                                         "freshness_hours"):
        fresh = freshness.get(source["id"])
        data_as_of = fresh.data_as_of if fresh else None
        scheduled = bool(source["enabled"] and source["url"] and source["schedule"])
        age = now - data_as_of if data_as_of else None
        if age is None and not scheduled:
            continue
        if age is not None and age <= timedelta(hours=source["freshness_hours"]):
            continue
        rows.append({"key": source["key"], "name": source["name"], "status": "stale" if age is not None else "never",
                     "data_as_of": data_as_of,
                     "age_days": Decimal(int(age.total_seconds())) / 86400 if age is not None else None,
                     "limit_hours": source["freshness_hours"],
                     "last_fetched_at": fresh.last_fetched_at if fresh else None, "held": fresh.held if fresh else 0})
    rows.sort(key=lambda r: (r["age_days"] is not None, -(r["age_days"] or 0), r["key"]))
    return pd.DataFrame(rows, columns=STALE_COLUMNS)


# --- identity coverage (manage.py identity_report and the quality page) ------------------------------

CHAT = "chat"


@dataclass(frozen=True)
class Coverage:
    """How many offerings of one source (one provider, one mode) name a canonical model."""

    source: str
    provider: str  # "" = every provider of the source
    mode: str  # "" = every mode
    resolved: int
    total: int
    snapshot_id: int | None  # the newest accepted snapshot counted; None = every offering ever seen
    observed_at: datetime | None

    @property
    def share_pct(self) -> Decimal:
        return Decimal(0) if not self.total else (Decimal(self.resolved * 100) / self.total).quantize(Decimal("0.1"))


def newest_snapshots() -> dict[str, Snapshot]:
    """Each source's newest accepted snapshot (by observation time), by source key."""
    newest: dict[str, Snapshot] = {}
    for source in Source.objects.order_by("key"):
        snapshot = (Snapshot.objects.filter(source=source, parse_status=Snapshot.Status.OK)
                    .order_by("-observed_at", "-id").only("id", "observed_at", "source_id").first())
        if snapshot is not None:
            newest[source.key] = snapshot
    return newest


def offerings_of(snapshot: Snapshot | None, source_key: str) -> QuerySet[Offering]:
    """The offerings a snapshot states (or, without one, every offering of the source)."""
    queryset = Offering.objects.filter(source__key=source_key)
    if snapshot is not None:
        queryset = queryset.filter(pk__in=PriceObservation.objects.filter(snapshot=snapshot).values("offering_id"))
    return queryset


def identity_coverage(*, modes: tuple[str, ...] = ("", CHAT), by_provider: bool = False,
                      every_offering: bool = False) -> list[Coverage]:
    """Offerings resolved to a canonical model per source (and provider), on each source's newest accepted
    snapshot (the offerings that document states, not every offering ever seen) unless ``every_offering``;
    one row per mode of ``modes`` ("" = all modes), sources without offerings left out."""
    newest = {} if every_offering else newest_snapshots()
    source_keys = sorted(set(Offering.objects.values_list("source__key", flat=True).distinct()))
    if not every_offering:
        source_keys = [key for key in source_keys if key in newest]
    keys = ["provider__slug"] if by_provider else []
    rows: list[Coverage] = []
    resolved = Q(alias__model__isnull=False)
    # Every mode counted in one pass over the snapshot's offerings.
    counts = {}
    for i, mode in enumerate(modes):
        in_mode = Q(mode=mode) if mode else Q()
        counts |= {f"total_{i}": Count("id", filter=in_mode), f"resolved_{i}": Count("id", filter=in_mode & resolved)}
    for source_key in source_keys:
        snapshot = newest.get(source_key)
        queryset = offerings_of(snapshot, source_key)
        counted = (queryset.values(*keys) if keys else queryset.values("source_id")).annotate(**counts)
        by_mode: list[list[Coverage]] = [[] for _ in modes]
        for row in counted.order_by(*keys):
            for i, mode in enumerate(modes):
                if row[f"total_{i}"]:
                    by_mode[i].append(Coverage(source_key, row.get("provider__slug", ""), mode, row[f"resolved_{i}"],
                                               row[f"total_{i}"], snapshot.pk if snapshot else None,
                                               snapshot.observed_at if snapshot else None))
        rows += [c for group in by_mode for c in group]
    return rows


def unresolved_tail(*, source_key: str, mode: str = CHAT, limit: int = 20,
                    every_offering: bool = False) -> tuple[int, list[tuple[str, int]]]:
    """(unresolved offerings of ``mode`` on the source's newest snapshot, the ``limit`` raw ids covering most
    of them as (raw id, offerings), most first)."""
    return _tail(None if every_offering else newest_snapshots().get(source_key), source_key, mode, limit)


def _tail(snapshot: Snapshot | None, source_key: str, mode: str, limit: int) -> tuple[int, list[tuple[str, int]]]:
    queryset = offerings_of(snapshot, source_key).filter(alias__model__isnull=True, mode=mode)
    ranked = (queryset.values("alias__raw_id").annotate(offerings=Count("id"))
              .order_by("-offerings", "alias__raw_id").values_list("alias__raw_id", "offerings"))
    return queryset.count(), list(ranked[:limit])


COVERAGE_COLUMNS = ["source", "snapshot_id", "observed_at", "chat_resolved", "chat_total", "chat_share_pct",
                    "resolved", "total", "share_pct"]
TAIL_COLUMNS = ["source", "rank", "raw_id", "offerings"]


def identity_coverage_frame() -> pd.DataFrame:
    """One row per source: chat offerings resolved on its newest snapshot, then every mode (identity_report's
    numbers)."""
    by_source: dict[str, dict[str, Any]] = {}
    for c in identity_coverage():
        row = by_source.setdefault(c.source, {"source": c.source, "snapshot_id": c.snapshot_id,
                                              "observed_at": c.observed_at, "chat_resolved": 0, "chat_total": 0,
                                              "chat_share_pct": None})
        prefix = "chat_" if c.mode == CHAT else ""
        row.update({f"{prefix}resolved": c.resolved, f"{prefix}total": c.total, f"{prefix}share_pct": c.share_pct})
    return pd.DataFrame(list(by_source.values()), columns=COVERAGE_COLUMNS)


def unresolved_tail_frame(*, limit: int = 10) -> pd.DataFrame:
    """The unresolved chat tail of each source's newest snapshot: its ``limit`` raw ids covering most offerings."""
    rows = []
    for source_key, snapshot in sorted(newest_snapshots().items()):
        _, ranked = _tail(snapshot, source_key, CHAT, limit)
        rows += [{"source": source_key, "rank": i, "raw_id": raw, "offerings": n}
                 for i, (raw, n) in enumerate(ranked, start=1)]
    return pd.DataFrame(rows, columns=TAIL_COLUMNS)
