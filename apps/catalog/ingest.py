"""Apply the curated provider landscape (providers-csv): kind, offering, differentiation, target metric.

Order independence (invariant 4): a provider's curated fields are those of the
*newest* providers-csv snapshot that lists it (observation time, then sha256),
so this applier re-reads the source's other ok snapshots (small, curated
files) rather than letting the last upload win.
"""

from __future__ import annotations

from apps.sources.models import Snapshot
from apps.sources.registry import ApplyCounts, FormatSpec, get_format
from scrapers.providers_csv import ProviderRecord
from scrapers.records import ParseError, ParseResult

from .models import Provider
from .services import provider_spec_for, providers_ensure

FIELDS = ["kind", "primary_offering", "key_differentiation", "target_metric"]


def providers_apply(*, snapshot: Snapshot, result: ParseResult) -> ApplyCounts:
    """Update each listed provider's kind and positioning, creating providers the catalog lacks."""
    records = [r for r in result.records if isinstance(r, ProviderRecord)]
    slug_of = {r.provider: provider_spec_for(r.provider).slug for r in records}
    mine = (snapshot.observed_at, snapshot.sha256)
    others = (Snapshot.objects.filter(source=snapshot.source, parse_status=Snapshot.Status.OK)
              .exclude(pk=snapshot.pk).order_by("observed_at", "sha256"))
    spec = get_format(snapshot.source.format)
    # Later statements overwrite earlier ones: walk older snapshots, this one, then newer ones.
    stated: dict[str, ProviderRecord] = {}
    newer: list[Snapshot] = []
    for other in others:
        if (other.observed_at, other.sha256) < mine:
            _collect(stated, other, spec, set(slug_of.values()))
        else:
            newer.append(other)
    for record in records:
        stated[slug_of[record.provider]] = record
    for other in newer:
        _collect(stated, other, spec, set(slug_of.values()))

    existed = set(Provider.objects.filter(slug__in=set(slug_of.values())).values_list("slug", flat=True))
    providers = providers_ensure(raw_providers=set(slug_of))
    counts = ApplyCounts()
    changed: dict[int, Provider] = {}
    for provider in {p.pk: p for p in providers.values()}.values():
        record = stated[provider.slug]
        values = {
            "kind": record.kind or provider.kind,
            "primary_offering": record.primary_offering,
            "key_differentiation": record.key_differentiation,
            "target_metric": record.target_metric,
        }
        if provider.slug not in existed:
            counts.created += 1
        elif all(getattr(provider, f) == v for f, v in values.items()):
            counts.unchanged += 1
            continue
        else:
            counts.changed += 1
        for f, v in values.items():
            setattr(provider, f, v)
        changed[provider.pk] = provider
    Provider.objects.bulk_update(list(changed.values()), FIELDS)
    return counts


def _collect(stated: dict[str, ProviderRecord], snapshot: Snapshot, spec: FormatSpec, slugs: set[str]) -> None:
    try:
        other = spec.parse(bytes(snapshot.content))
    except ParseError:
        return
    for record in other.records:
        slug = provider_spec_for(record.provider).slug
        if slug in slugs:
            stated[slug] = record
