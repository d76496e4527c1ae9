"""Fill the new model attributes on a database filled before they existed.

What the stored rows already say: each alias's modality from its offerings' modes, then every model's
attributes from its identity and its aliases (apps.catalog.attributes, pure functions, so the historical
models suffice). What only the raw documents say (OpenRouter's listing dates, LiteLLM's vision flags)
arrives with the next ingest or a re-parse (``manage.py reparse --source KEY``).
"""

from collections import defaultdict

from django.db import migrations


def fill(apps, schema_editor):
    from apps.catalog import attributes

    Model = apps.get_model("catalog", "Model")
    ModelAlias = apps.get_model("catalog", "ModelAlias")
    Offering = apps.get_model("catalog", "Offering")

    modality: dict[int, str] = {}
    for alias_id, mode in Offering.objects.values_list("alias_id", "mode").distinct().iterator(chunk_size=5000):
        modality[alias_id] = attributes.merge_modality(modality.get(alias_id, ""), attributes.modality_of(mode))
    by_value: dict[str, list[int]] = defaultdict(list)
    for alias_id, value in modality.items():
        if value:
            by_value[value].append(alias_id)
    for value, ids in by_value.items():
        for start in range(0, len(ids), 2000):
            ModelAlias.objects.filter(pk__in=ids[start:start + 2000]).update(modality=value)

    said: dict[int, list] = defaultdict(list)
    for model_id, value in ModelAlias.objects.filter(model__isnull=False).exclude(modality="").values_list(
            "model_id", "modality").iterator(chunk_size=5000):
        said[model_id].append(attributes.Statement(modality=value))
    changed = []
    for model in Model.objects.all().iterator(chunk_size=2000):
        active, identity_says = attributes.from_identity(
            slug=model.slug, creator=model.creator, family=model.family, version=model.version,
            parameter_count_b=model.parameter_count_b)
        merged = attributes.combine(identity_says, said.get(model.pk, ()))
        model.active_parameter_count_b = active
        model.modality, model.open_weights, model.released_on = merged.modality, merged.open_weights, merged.released_on
        changed.append(model)
    Model.objects.bulk_update(changed, ["active_parameter_count_b", "modality", "open_weights", "released_on"],
                              batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_model_attributes")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
