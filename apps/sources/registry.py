"""Which parser reads each source format, and which service applies its records.

Appliers are named by dotted path and imported lazily so that `sources` does not
import every domain app at start-up (and no import cycle forms).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from django.utils.module_loading import import_string

from scrapers.records import ParseResult, Reject

if TYPE_CHECKING:
    from .models import Snapshot


class ListingCount(NamedTuple):
    """One provider's offerings in two snapshots of a complete listing (FormatSpec.listing)."""

    provider_id: int
    before: int  # listed by the earlier snapshot
    ended: int  # of those, left out by the later one
    after: int  # listed by the later snapshot


def listings_compared(before: Mapping[int, int], after: Mapping[int, int]) -> list[ListingCount]:
    """ListingCount per provider from two listings read whole ({offering id: provider id})."""
    counts: dict[int, list[int]] = {}
    for offering_id, provider_id in before.items():
        count = counts.setdefault(provider_id, [0, 0, 0])
        count[0] += 1
        count[1] += offering_id not in after
    for provider_id in after.values():
        counts.setdefault(provider_id, [0, 0, 0])[2] += 1
    return [ListingCount(provider_id, *count) for provider_id, count in counts.items()]


@dataclass
class ApplyCounts:
    """What ingesting one snapshot did, for the summary line and the run record."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    # Rows refused while applying (e.g. a duplicate offering), on top of the parser's.
    rejects: list[Reject] = field(default_factory=list)

    @classmethod
    def from_history(cls, status: Mapping[int, str], *, in_snapshot: Container[int],
                     rejects: list[Reject]) -> ApplyCounts:
        """Counts from a history rebuild's status per offering ("created", "changed", "unchanged"):
        an unchanged offering counts only if this snapshot showed it."""
        counts = cls(rejects=rejects)
        for offering_id, state in status.items():
            if state == "created":
                counts.created += 1
            elif state == "changed":
                counts.changed += 1
            elif offering_id in in_snapshot:
                counts.unchanged += 1
        return counts


@dataclass(frozen=True)
class FormatSpec:
    parser: str  # module in scrapers/ with parse(bytes) -> ParseResult
    applier: str  # dotted path of apply(*, snapshot, result) -> ApplyCounts
    # The format carries no date of its own: a file ingest must say --observed-at.
    needs_observed_at: bool = True
    label: str = ""
    # Formats whose records have a history built from the source's sightings:
    # rebuild(*, source_id) -> {owner id: status} recomputes it from every accepted sighting;
    # confirm(*, source_id, previous_at, at) -> int moves last_confirmed_at when the newest
    # document is seen again (the cheap, common case).
    rebuild: str | None = None
    confirm: str | None = None
    # Complete listings (an offering left out has ended): listing(before_id, after_id) -> [ListingCount] per
    # provider, of what two snapshots list as current. The shrink guard compares the two.
    listing: str | None = None
    # The parser states each price's validity interval (history from the newest statement, not from sightings).
    # A source's format cannot change once it has snapshots (the admin shows it read-only then), so a source of
    # a format without stated dates has never had a stated price: the history shortcut relies on it.
    stated_dates: bool = False

    def parse(self, data: bytes) -> ParseResult:
        module = importlib.import_module(f"scrapers.{self.parser}")
        return module.parse(data)

    def apply(self, *, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
        func: Callable[..., ApplyCounts] = import_string(self.applier)
        return func(snapshot=snapshot, result=result)


PRICES = "apps.pricing.services.prices_apply_snapshot"
PRICE_HISTORY = {"rebuild": "apps.pricing.services.price_history_rebuild",
                 "confirm": "apps.pricing.services.prices_confirm"}
PRICE_LISTING = "apps.pricing.services.price_listings_compared"

FORMATS: dict[str, FormatSpec] = {
    "litellm": FormatSpec("litellm", PRICES, listing=PRICE_LISTING, **PRICE_HISTORY),
    "openrouter": FormatSpec("openrouter", PRICES, listing=PRICE_LISTING, **PRICE_HISTORY),
    # These two state the validity interval of every price, so the snapshot
    # time only says when we looked. llm-prices comes one vendor per file, so
    # what a file leaves out has not ended: no shrink guard for these.
    "llm-prices": FormatSpec("llm_prices", PRICES, needs_observed_at=False, stated_dates=True, **PRICE_HISTORY),
    "genai-prices": FormatSpec("genai_prices", PRICES, needs_observed_at=False, stated_dates=True, **PRICE_HISTORY),
}


def register(key: str, spec: FormatSpec) -> None:
    """Domain apps add their formats here from AppConfig.ready()."""
    FORMATS[key] = spec


def get_format(key: str) -> FormatSpec:
    try:
        return FORMATS[key]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise LookupError(f"no parser for format {key!r} (known: {known})") from None
