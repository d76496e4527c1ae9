"""Writes for the catalog: providers by source key, aliases resolved to canonical models."""

from __future__ import annotations

import csv
import fnmatch
from collections import defaultdict
from collections.abc import Iterable
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

from . import attributes, identity
from .attributes import Statement
from .models import Model, ModelAlias, Offering, Provider

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
    by_slug = {p.slug: p for p in Provider.objects.filter(slug__any_of={spec.slug for spec in specs.values()})}
    # Only the new ones are written (an ingest nearly always knows every provider already); ignore_conflicts:
    # another worker may create the same provider concurrently.
    missing = {spec.slug: spec for spec in specs.values() if spec.slug not in by_slug}
    if missing:
        Provider.objects.bulk_create([Provider(slug=s.slug, name=s.name, kind=s.kind) for s in missing.values()],
                                     ignore_conflicts=True)
        by_slug.update({p.slug: p for p in Provider.objects.filter(slug__any_of=list(missing))})
    return {raw: by_slug[spec.slug] for raw, spec in specs.items()}


@lru_cache(maxsize=1)
def _curated() -> dict[tuple[str, str], identity.ModelIdentity]:
    return identity.load_curated(FIXTURES / "aliases.csv")


# What ingest fills on a canonical model besides its identity (a curator's edit in the admin stands).
ATTRIBUTE_FIELDS = ("active_parameter_count_b", "modality", "open_weights", "released_on")
STATEMENT_FIELDS = ("released_on", "modality", "open_weights")


def model_attributes(*, slug: str, creator: str, family: str, version: str, parameter_count_b: Decimal | None,
                     statements: Iterable[Statement] = ()) -> dict[str, object]:
    """The attribute fields of a canonical model: what its identity says, merged with what the sources say
    of its aliases (apps.catalog.attributes)."""
    active, said = attributes.from_identity(slug=slug, creator=creator, family=family, version=version,
                                            parameter_count_b=parameter_count_b)
    merged = attributes.combine(said, statements)
    return {"active_parameter_count_b": active, "modality": merged.modality, "open_weights": merged.open_weights,
            "released_on": merged.released_on}


def models_ensure(identities: list[identity.ModelIdentity], statements: dict[str, list[Statement]] | None = None,
                  *, differ: set[str] | None = None) -> dict[str, int]:
    """Get or create the canonical model of each identity (slug -> model id); new ones start with their attributes
    (``statements``: slug -> what the sources say of the aliases that name it).

    ``differ`` collects the slugs whose stored attributes are not what these statements give: models that
    existed, or that a concurrent ingest created first with its own source's word, which then need a refresh.
    """
    unique = {i.slug: i for i in identities}
    statements = statements or {}
    wanted = {i.slug: model_attributes(slug=i.slug, creator=i.creator, family=i.family, version=i.version,
                                       parameter_count_b=i.parameter_count_b, statements=statements.get(i.slug, ()))
              for i in unique.values()}
    fields = ("pk", "slug", "curated_fields", *wanted[next(iter(wanted))]) if wanted else ("pk", "slug")
    found: dict[str, int] = {}

    def read(slugs: list[str]) -> None:
        for row in Model.objects.filter(slug__any_of=slugs).order_by().values(*fields):
            found[row["slug"]] = row["pk"]
            if differ is not None and any(row[f] != v for f, v in wanted[row["slug"]].items()
                                          if f not in (row["curated_fields"] or ())):
                differ.add(row["slug"])

    read(list(unique))
    new = [i for slug, i in unique.items() if slug not in found]
    if new:
        # Rows, not instances, through COPY on PostgreSQL: building and binding 800 model instances was a tenth
        # of a LiteLLM ingest. Every column is given (COPY applies no Python-side default). Only the new ones,
        # straight into the table (expect_new): the temporary table for conflicts, created and dropped each
        # time, is needed only when a concurrent ingest created one of them first.
        insert_ignoring_conflicts(Model, [
            {"slug": i.slug, "name": i.name, "creator": i.creator, "family": i.family, "version": i.version,
             "parameter_count_b": i.parameter_count_b, "variant": i.variant, "size_class": identity.size_class(i),
             **wanted[i.slug], "curated_fields": []}
            for i in new], conflict=["slug"], expect_new=True)
        read([i.slug for i in new])  # ours, or a concurrent ingest's (whose attributes may differ)
    return found


def models_attributes_refresh(*, model_ids: Iterable[int] | None = None) -> int:
    """Recompute the attributes of canonical models (all of them without ``model_ids``) from their identity
    and what the sources say of their aliases, leaving the fields a curator set; returns how many changed.

    A pure function of the stored rows, so it is also the rebuild path for databases filled before
    these attributes existed (``manage.py rebuild_history``, ``load_demo``).
    """
    models = Model.objects.all()
    aliases = ModelAlias.objects.filter(model__isnull=False)
    if model_ids is not None:
        ids = sorted(set(model_ids))
        if not ids:
            return 0
        models, aliases = models.filter(pk__any_of=ids), aliases.filter(model_id__any_of=ids)
        if transaction.get_connection().in_atomic_block:
            # Two ingests refreshing one model: the second waits for the first to commit, then reads its
            # aliases too (read committed), so the last refresh hears every source. Locked in id order.
            list(Model.objects.filter(pk__any_of=ids).order_by("pk").select_for_update().values_list("pk", flat=True))
    said: dict[int, list[Statement]] = defaultdict(list)
    for model_id, released_on, modality, open_weights in aliases.values_list(
            "model_id", *STATEMENT_FIELDS).iterator(chunk_size=5000):
        if released_on is not None or modality or open_weights is not None:
            said[model_id].append(Statement(released_on, modality, open_weights))
    # Written grouped by value: a few UPDATEs, not one CASE per row (every model changes in a backfill).
    changes: dict[tuple[tuple[str, object], ...], list[int]] = defaultdict(list)
    fields = ("pk", "slug", "creator", "family", "version", "parameter_count_b", "curated_fields", *ATTRIBUTE_FIELDS)
    for row in models.values(*fields).iterator(chunk_size=5000):
        wanted = model_attributes(slug=row["slug"], creator=row["creator"], family=row["family"],
                                  version=row["version"], parameter_count_b=row["parameter_count_b"],
                                  statements=said.get(row["pk"], ()))
        kept = set(row["curated_fields"] or ())
        diff = tuple((f, v) for f, v in wanted.items() if f not in kept and row[f] != v)
        if diff:
            changes[diff].append(row["pk"])
    for diff, pks in changes.items():
        for start in range(0, len(pks), 2000):
            Model.objects.filter(pk__in=pks[start:start + 2000]).update(**dict(diff))
    return sum(len(pks) for pks in changes.values())


def aliases_ensure(*, source: Source, items: dict[str, tuple[str, str]],
                   statements: dict[str, Statement] | None = None) -> dict[str, int]:
    """Get or create the alias of each raw id (raw id -> (provider key, display name)), resolving new ones;
    returns raw id -> alias id.

    Existing aliases are left alone: a curator's manual decision is never
    overwritten by a re-ingest. Ids, not instances, and the source's whole alias list rather than an IN
    list of every raw id: building 3,000 instances twice was an eighth of a LiteLLM ingest.
    ``statements`` (raw id -> what this snapshot says of the model: release date, modality, open weights)
    are merged into the aliases, and the canonical models they name are given the result.
    """
    statements = statements or {}

    def known() -> dict[str, tuple[int, tuple[object, ...]]]:
        # No order (the model's joins the sources table to sort): the rows become a dict.
        rows = (ModelAlias.objects.filter(source=source).order_by()
                .values_list("raw_id", "pk", "model_id", *STATEMENT_FIELDS))
        return {raw: (pk, tuple(rest)) for raw, pk, *rest in rows}

    every = known()
    existing = {raw: every[raw][0] for raw in items if raw in every}
    touched: set[int] = set()  # models whose aliases now say more
    restated: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for raw, said in statements.items():
        if raw not in every:
            continue
        pk, (model_id, *stored) = every[raw]
        merged = attributes.merge([Statement(*stored), said])  # type: ignore[arg-type]
        if (merged.released_on, merged.modality, merged.open_weights) != tuple(stored):
            restated[(merged.released_on, merged.modality, merged.open_weights)].append(pk)
            if model_id is not None:
                touched.add(model_id)
    for values, pks in restated.items():
        ModelAlias.objects.filter(pk__in=pks).update(**dict(zip(STATEMENT_FIELDS, values, strict=True)))
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
        by_slug: dict[str, list[Statement]] = defaultdict(list)
        for raw, ident in resolved.items():
            if raw in statements:
                by_slug[ident.slug].append(statements[raw])
        # Models created now start with what all their (new) aliases say; those that existed, or that a
        # concurrent ingest created first with its own source's word, need a refresh that hears both.
        differ: set[str] = set()
        models = models_ensure(list(resolved.values()), by_slug, differ=differ)
        touched.update(models[slug] for slug in differ if slug in by_slug)
        # A model that already had aliases must hear all of them: what the new ones say alone can equal what
        # is stored while the whole vote differs (Gemma 2 9B: two text and two vision listings arriving in
        # another order), so comparing with the new statements alone would leave it stale.
        joined = {models[slug] for slug in by_slug}
        if joined:
            touched.update(ModelAlias.objects.filter(model_id__any_of=joined).order_by()
                           .values_list("model_id", flat=True).distinct())
        aliases = []
        # One instant for the aliases this ingest creates; the statuses as plain text (thousands of rows).
        now, source_id, nothing = timezone.now(), source.pk, Statement()
        unresolved, curated_status, by_rule = (str(ModelAlias.Status.UNRESOLVED), str(ModelAlias.Status.CURATED),
                                               str(ModelAlias.Status.RULE))
        for raw in new_ids:
            provider_key, name = items[raw]
            ident = resolved.get(raw)
            said = statements.get(raw, nothing)
            row = {"source_id": source_id, "raw_id": raw, "model_id": None, "status": unresolved,
                   "rule": "", "provider_hint": provider_key[:100], "name_hint": name[:300],
                   "released_on": said.released_on, "modality": said.modality, "open_weights": said.open_weights,
                   "curator": "", "updated_at": now}  # every column: COPY leaves out none
            if ident is not None:
                row.update(model_id=models[ident.slug], rule=ident.rule[:100],
                           status=curated_status if ident.rule == "curated" else by_rule)
            aliases.append(row)
        # ignore conflicts: another worker may create the same alias concurrently.
        insert_ignoring_conflicts(ModelAlias, aliases, conflict=["source_id", "raw_id"], expect_new=True)
        # The new ones' ids only (ours, or a concurrent worker's): rereading the source's whole list was a
        # tenth of the aliases step of an ingest with a few hundred new raw ids among thousands. The whole list
        # when most are new (a source's first document): a key array as long as the list costs more.
        if len(new_ids) < len(every):
            existing.update(ModelAlias.objects.filter(source=source, raw_id__any_of=new_ids).order_by()
                            .values_list("raw_id", "pk"))
        else:
            every = known()
            existing.update({raw: every[raw][0] for raw in new_ids})
    if touched:
        models_attributes_refresh(model_ids=touched)
    return existing


def aliases_sync_hints(*, hints: dict[int, tuple[str, str]], source_id: int | None = None) -> int:
    """Give aliases the provider key and name of the newest snapshot that lists them (not the first to arrive),
    and resolve again by rule those whose hints moved: identity is then a function of the snapshots.

    A curator's decision (manual, ignored) stands whatever the hints say. Returns how many aliases changed.
    """
    # With the source known, its aliases are read whole rather than through an IN list of every id (planning
    # a 3,000-parameter IN cost more than reading the few hundred extra rows).
    aliases = (ModelAlias.objects.filter(source_id=source_id) if source_id is not None
               else ModelAlias.objects.filter(pk__in=list(hints)))
    moved = [pk for pk, provider_hint, name_hint in aliases.order_by().values_list("pk", "provider_hint", "name_hint")
             if pk in hints and (provider_hint, name_hint) != (hints[pk][0][:100], hints[pk][1][:300])]
    if not moved:
        return 0
    changed: list[ModelAlias] = []
    before: dict[int, int | None] = {}
    for alias in ModelAlias.objects.filter(pk__in=moved).select_related("source"):
        before[alias.pk] = alias.model_id
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
            alias.model_id = models[ident.slug]
            alias.status = ModelAlias.Status.CURATED if ident.rule == "curated" else ModelAlias.Status.RULE
            alias.rule = ident.rule[:100]
    ModelAlias.objects.bulk_update(changed, ["provider_hint", "name_hint", "model", "status", "rule"],
                                   batch_size=2000)
    # Models that gained (or lost) an alias: what its source says moves with it.
    models_attributes_refresh(model_ids={m for a in changed if a.pk in found
                                         for m in (a.model_id, before[a.pk]) if m is not None})
    return len(changed)


@transaction.atomic
def alias_resolve(*, alias: ModelAlias, model: Model, curator: str = "") -> ModelAlias:
    """A curator names the canonical model of an alias (admin and API use this)."""
    from apps.pricing.market import market_prices_refresh

    before = alias.model_id
    alias.model = model
    alias.status = ModelAlias.Status.MANUAL
    alias.rule = "manual"
    alias.curator = curator[:150]
    alias.save(update_fields=["model", "status", "rule", "curator", "updated_at"])
    # Its offerings now belong to another market offering (and may leave the one they were in).
    models_attributes_refresh(model_ids=[m for m in (before, model.pk) if m is not None])
    providers = set(alias.offerings.values_list("provider_id", flat=True))
    market_prices_refresh(pairs={(p, m) for p in providers for m in (before, model.pk) if m is not None})
    return alias


def model_create(*, slug: str, name: str, family: str = "", creator: str = "", version: str = "",
                 parameter_count_b: Decimal | None = None, variant: str = "") -> Model:
    return Model.objects.create(slug=slug, name=name, family=family, creator=creator, version=version,
                                parameter_count_b=parameter_count_b, variant=variant,
                                **model_attributes(slug=slug, creator=creator, family=family, version=version,
                                                   parameter_count_b=parameter_count_b))


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
            alias.model_id = models[ident.slug]
            alias.status = ModelAlias.Status.CURATED if ident.rule == "curated" else ModelAlias.Status.RULE
            alias.rule = ident.rule[:100]
            updates.append(alias)
        ModelAlias.objects.bulk_update(updates, ["model", "status", "rule"], batch_size=2000)
        models_attributes_refresh(model_ids={a.model_id for a in updates})
        # Their offerings' prices are now evidence for the models they name: the market gains those rows now,
        # not at each source's next ingest.
        from apps.pricing.market import market_prices_refresh

        market_prices_refresh(pairs=set(Offering.objects.filter(alias_id__any_of=[a.pk for a in updates])
                                        .order_by().values_list("provider_id", "alias__model_id")))
    return len(updates)
