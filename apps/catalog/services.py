"""Writes for the catalog: providers by source key, aliases resolved to canonical models."""

from __future__ import annotations

import csv
import fnmatch
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.common.bulk import insert_ignoring_conflicts
from apps.sources.models import Source

from . import identity
from .models import Model, ModelAlias, Provider

FIXTURES = Path(settings.BASE_DIR) / "fixtures"


@dataclass(frozen=True)
class ProviderSpec:
    slug: str
    name: str
    kind: str


@lru_cache(maxsize=1)
def _provider_map() -> tuple[dict[str, ProviderSpec], list[tuple[str, ProviderSpec]]]:
    exact: dict[str, ProviderSpec] = {}
    patterns: list[tuple[str, ProviderSpec]] = []
    with open(FIXTURES / "provider_map.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            spec = ProviderSpec(row["provider_slug"], row["provider_name"], row["kind"])
            if "*" in row["raw_provider"]:
                patterns.append((row["raw_provider"], spec))
            else:
                exact[row["raw_provider"]] = spec
    return exact, patterns


def provider_spec_for(raw_provider: str) -> ProviderSpec:
    """Map a source's provider key to our provider (curated table, then a slug of the key)."""
    exact, patterns = _provider_map()
    if raw_provider in exact:
        return exact[raw_provider]
    for pattern, spec in patterns:
        if fnmatch.fnmatchcase(raw_provider, pattern):
            suffix = raw_provider[len(pattern.rstrip("*")):]
            if "{suffix}" in spec.slug:
                return ProviderSpec(spec.slug.format(suffix=slugify(suffix)), spec.name.format(suffix=suffix),
                                    spec.kind)
            return spec
    return ProviderSpec(slugify(raw_provider.replace("_", "-")) or "unknown", raw_provider, Provider.Kind.UNKNOWN)


def providers_ensure(*, raw_providers: set[str]) -> dict[str, Provider]:
    """Get or create a Provider for each raw key; returns raw key -> Provider."""
    specs = {raw: provider_spec_for(raw) for raw in raw_providers}
    slugs = {spec.slug for spec in specs.values()}
    # ignore_conflicts: another worker may create the same provider concurrently.
    Provider.objects.bulk_create(
        [Provider(slug=s.slug, name=s.name, kind=s.kind) for s in {sp.slug: sp for sp in specs.values()}.values()],
        ignore_conflicts=True,
    )
    by_slug = {p.slug: p for p in Provider.objects.filter(slug__in=slugs)}
    return {raw: by_slug[spec.slug] for raw, spec in specs.items()}


@lru_cache(maxsize=1)
def _curated() -> dict[tuple[str, str], identity.ModelIdentity]:
    return identity.load_curated(FIXTURES / "aliases.csv")


def models_ensure(identities: list[identity.ModelIdentity]) -> dict[str, Model]:
    unique = {i.slug: i for i in identities}
    Model.objects.bulk_create(
        [
            Model(
                slug=i.slug, name=i.name, creator=i.creator, family=i.family, version=i.version,
                parameter_count_b=i.parameter_count_b, variant=i.variant, size_class=identity.size_class(i),
            )
            for i in unique.values()
        ],
        ignore_conflicts=True,
    )
    return {m.slug: m for m in Model.objects.filter(slug__in=unique)}


def aliases_ensure(*, source: Source, items: dict[str, tuple[str, str]]) -> dict[str, int]:
    """Get or create the alias of each raw id (raw id -> (provider key, display name)), resolving new ones;
    returns raw id -> alias id.

    Existing aliases are left alone: a curator's manual decision is never
    overwritten by a re-ingest. Ids, not instances, and the source's whole alias list rather than an IN
    list of every raw id: building 3,000 instances twice was an eighth of a LiteLLM ingest.
    """
    def known() -> dict[str, int]:
        return dict(ModelAlias.objects.filter(source=source).values_list("raw_id", "pk").iterator(chunk_size=5000))

    existing = {raw: pk for raw, pk in known().items() if raw in items}
    new_ids = [raw for raw in items if raw not in existing]
    if new_ids:
        curated = _curated()
        resolved: dict[str, identity.ModelIdentity] = {}
        for raw in new_ids:
            provider_key, name = items[raw]
            ident = identity.resolve(raw, source=source.key, provider=provider_key, model_name=name,
                                     curated=curated)
            if ident is not None:
                resolved[raw] = ident
        models = models_ensure(list(resolved.values()))
        aliases = []
        for raw in new_ids:
            provider_key, name = items[raw]
            ident = resolved.get(raw)
            row = {"source_id": source.pk, "raw_id": raw, "model_id": None, "status": ModelAlias.Status.UNRESOLVED,
                   "rule": "", "provider_hint": provider_key[:100], "name_hint": name[:300],
                   "updated_at": timezone.now()}
            if ident is not None:
                row.update(model_id=models[ident.slug].pk, rule=ident.rule[:100],
                           status=ModelAlias.Status.CURATED if ident.rule == "curated" else ModelAlias.Status.RULE)
            aliases.append(row)
        # ignore conflicts: another worker may create the same alias concurrently.
        insert_ignoring_conflicts(ModelAlias, aliases, conflict=["source_id", "raw_id"])
        every = known()
        existing.update({raw: every[raw] for raw in new_ids})
    return existing


def aliases_sync_hints(*, hints: dict[int, tuple[str, str]]) -> int:
    """Give aliases the provider key and name of the newest snapshot that lists them (not the first to arrive),
    and resolve again by rule those whose hints moved: identity is then a function of the snapshots.

    A curator's decision (manual, ignored) stands whatever the hints say. Returns how many aliases changed.
    """
    moved = [pk for pk, provider_hint, name_hint in ModelAlias.objects.filter(pk__in=list(hints)).values_list(
        "pk", "provider_hint", "name_hint").iterator(chunk_size=5000)
        if (provider_hint, name_hint) != (hints[pk][0][:100], hints[pk][1][:300])]
    if not moved:
        return 0
    changed: list[ModelAlias] = []
    for alias in ModelAlias.objects.filter(pk__in=moved).select_related("source"):
        provider_key, name = hints[alias.pk]
        alias.provider_hint, alias.name_hint = provider_key[:100], name[:300]
        changed.append(alias)
    curated = _curated()
    automatic = {ModelAlias.Status.UNRESOLVED, ModelAlias.Status.RULE, ModelAlias.Status.CURATED}
    found = {}
    for alias in changed:
        if alias.status in automatic:
            found[alias.pk] = identity.resolve(alias.raw_id, source=alias.source.key, provider=alias.provider_hint,
                                               model_name=alias.name_hint, curated=curated)
    models = models_ensure([i for i in found.values() if i is not None])
    for alias in changed:
        if alias.pk not in found:
            continue
        ident = found[alias.pk]
        if ident is None:
            alias.model, alias.status, alias.rule = None, ModelAlias.Status.UNRESOLVED, ""
        else:
            alias.model = models[ident.slug]
            alias.status = ModelAlias.Status.CURATED if ident.rule == "curated" else ModelAlias.Status.RULE
            alias.rule = ident.rule[:100]
    ModelAlias.objects.bulk_update(changed, ["provider_hint", "name_hint", "model", "status", "rule"],
                                   batch_size=2000)
    return len(changed)


@transaction.atomic
def alias_resolve(*, alias: ModelAlias, model: Model) -> ModelAlias:
    """A curator names the canonical model of an alias (admin and API use this)."""
    from apps.pricing.market import market_prices_refresh

    before = alias.model_id
    alias.model = model
    alias.status = ModelAlias.Status.MANUAL
    alias.rule = "manual"
    alias.save(update_fields=["model", "status", "rule", "updated_at"])
    # Its offerings now belong to another market offering (and may leave the one they were in).
    providers = set(alias.offerings.values_list("provider_id", flat=True))
    market_prices_refresh(pairs={(p, m) for p in providers for m in (before, model.pk) if m is not None})
    return alias


def model_create(*, slug: str, name: str, family: str = "", creator: str = "", version: str = "",
                 parameter_count_b: Decimal | None = None, variant: str = "") -> Model:
    return Model.objects.create(slug=slug, name=name, family=family, creator=creator, version=version,
                                parameter_count_b=parameter_count_b, variant=variant)


def aliases_reresolve(*, source: Source | None = None) -> int:
    """Run the rules and curated table again over unresolved aliases (after either changed).

    Only unresolved aliases are touched: rule, curated and manual decisions stand.
    Returns how many were resolved.
    """
    _curated.cache_clear()
    curated = _curated()
    queryset = ModelAlias.objects.filter(status=ModelAlias.Status.UNRESOLVED).select_related("source")
    if source is not None:
        queryset = queryset.filter(source=source)
    found: dict[int, identity.ModelIdentity] = {}
    for alias in queryset.iterator(chunk_size=2000):
        ident = identity.resolve(alias.raw_id, source=alias.source.key, provider=alias.provider_hint,
                                 model_name=alias.name_hint, curated=curated)
        if ident is not None:
            found[alias.pk] = ident
    if not found:
        return 0
    models = models_ensure(list(found.values()))
    with transaction.atomic():
        updates = []
        for alias in ModelAlias.objects.filter(pk__in=found, status=ModelAlias.Status.UNRESOLVED):
            ident = found[alias.pk]
            alias.model = models[ident.slug]
            alias.status = ModelAlias.Status.CURATED if ident.rule == "curated" else ModelAlias.Status.RULE
            alias.rule = ident.rule[:100]
            updates.append(alias)
        ModelAlias.objects.bulk_update(updates, ["model", "status", "rule"], batch_size=2000)
    return len(updates)
