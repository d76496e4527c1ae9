"""A curator's decisions in the admin outlive re-ingests and re-parses, and go back to fixtures/ as a file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.catalog import identity
from apps.catalog.models import Model, ModelAlias
from apps.catalog.selectors import curated_aliases_export
from apps.catalog.services import aliases_reresolve
from apps.sources.models import Snapshot
from apps.sources.services import snapshot_reparse

pytestmark = pytest.mark.django_db
OLD = "litellm/model_prices_2024-04-22_tokencost-569280a.json"
NEWER = "litellm/model_prices_2024-09-23_tokencost-50ea0a0.json"


def _decide_in_the_admin(admin_client) -> tuple[ModelAlias, ModelAlias, Model]:
    """Resolve one unresolved raw id by hand and mark one rule-resolved raw id as not a model, through the admin."""
    unresolved = ModelAlias.objects.filter(status=ModelAlias.Status.UNRESOLVED).order_by("raw_id").first()
    ruled = ModelAlias.objects.filter(status=ModelAlias.Status.RULE, raw_id__startswith="gpt-").order_by("raw_id")[0]
    target = Model.objects.create(slug="curated-model-1", name="Curated Model 1", creator="someone",
                                  family="curated", version="1", variant="")
    change = reverse("admin:catalog_modelalias_change", args=[unresolved.pk])
    response = admin_client.post(change, {"model": target.pk, "status": unresolved.status})
    assert response.status_code == 302, response.content[:2000]
    changelist = reverse("admin:catalog_modelalias_changelist")
    response = admin_client.post(changelist, {"action": "mark_ignored", "_selected_action": [ruled.pk]})
    assert response.status_code == 302
    unresolved.refresh_from_db()
    ruled.refresh_from_db()
    assert (unresolved.status, unresolved.model, unresolved.curator) == ("manual", target, "admin")
    assert (ruled.status, ruled.model, ruled.curator) == ("ignored", None, "admin")
    return unresolved, ruled, target


def test_it_keeps_manual_and_ignored_decisions_across_reingest_reparse_and_new_rules(ingest_file, admin_client):
    ingest_file("litellm", OLD, observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    manual, ignored, target = _decide_in_the_admin(admin_client)
    # The source renames both (new hints): automatic aliases are resolved again, a curator's stand.
    ModelAlias.objects.filter(pk__in=[manual.pk, ignored.pk]).update(name_hint="renamed upstream")

    ingest_file("litellm", NEWER, observed_at=datetime(2024, 9, 23, tzinfo=UTC))
    for snapshot in Snapshot.objects.filter(source__key="litellm").order_by("observed_at"):
        assert snapshot_reparse(snapshot=snapshot).status != "failed"
    aliases_reresolve()

    manual.refresh_from_db()
    ignored.refresh_from_db()
    assert (manual.status, manual.model, manual.rule) == (ModelAlias.Status.MANUAL, target, "manual")
    assert (ignored.status, ignored.model) == (ModelAlias.Status.IGNORED, None)
    assert manual.name_hint != "renamed upstream"  # the hints did move: the re-ingest looked at both


def test_the_exported_alias_table_loads_and_round_trips(ingest_file, admin_client, tmp_path):
    ingest_file("litellm", OLD, observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    manual, _, target = _decide_in_the_admin(admin_client)

    response = admin_client.get(reverse("admin:catalog_modelalias_export_curated"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="aliases.csv"'
    assert (response["X-Manual-Rows"], response["X-Left-Out"]) == ("1", "1")  # the ignored one has no row
    text = response.content.decode()
    assert text.splitlines()[0] == ",".join(identity.CURATED_COLUMNS)
    exported = tmp_path / "aliases.csv"
    exported.write_text(text, encoding="utf-8")

    table = identity.load_curated(exported)
    bundled = identity.load_curated(identity.DEFAULT_ALIASES_PATH)
    assert set(bundled) < set(table)  # nothing of the bundled table is lost
    mine = table[("litellm", manual.raw_id)]
    assert (mine.slug, mine.name, mine.creator, mine.family, mine.rule) == (
        target.slug, target.name, "someone", "curated", "curated")
    assert any(line.endswith(f"curator admin {manual.updated_at:%Y-%m-%d}") for line in text.splitlines())
    # The exported table resolves the raw id the curator resolved, in a fresh database too.
    assert identity.resolve(manual.raw_id, source="litellm", curated=table).slug == target.slug
    # Exporting again on top of the exported file changes nothing.
    assert curated_aliases_export(base=exported).text == text


def test_an_attribute_a_curator_edits_in_the_admin_is_kept(ingest_file, admin_client):
    from apps.catalog.services import models_attributes_refresh

    ingest_file("litellm", OLD, observed_at=datetime(2024, 4, 23, tzinfo=UTC))
    model = Model.objects.get(slug="gpt-4")
    assert model.open_weights is False and model.curated_fields == []
    form = {f: getattr(model, f) or "" for f in ("slug", "name", "creator", "family", "version", "variant",
                                                  "size_class", "modality")}
    form |= {"parameter_count_b": "", "active_parameter_count_b": "", "released_on": "2024-05-13",
             "open_weights": "unknown", "curated_fields": "[]"}
    response = admin_client.post(reverse("admin:catalog_model_change", args=[model.pk]), form)
    assert response.status_code == 302, response.content[:3000]
    model.refresh_from_db()
    assert (model.open_weights, str(model.released_on)) == (None, "2024-05-13")
    assert model.curated_fields == ["open_weights", "released_on"]

    models_attributes_refresh()
    ingest_file("litellm", NEWER, observed_at=datetime(2024, 9, 23, tzinfo=UTC))
    model.refresh_from_db()
    assert (model.open_weights, str(model.released_on)) == (None, "2024-05-13")
