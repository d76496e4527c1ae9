"""Providers, canonical models with their aliases, and offerings."""

from __future__ import annotations

from rest_framework import serializers

from apps.api_common.serializers import ApiModelSerializer
from apps.catalog.models import Model, ModelAlias, Offering, Provider


class ProviderSerializer(ApiModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "slug", "name", "kind", "homepage", "primary_offering", "key_differentiation",
                  "target_metric", "notes"]
        extra_kwargs = {
            "id": {"help_text": "Provider id."},
            "slug": {"help_text": "Stable key, e.g. openai; the provider filter of other lists takes it."},
            "name": {"help_text": "Display name."},
            "kind": {"help_text": "first-party (model maker), inference cloud, hyperscaler, aggregator (resells "
                                  "others), silicon vendor, local runtime, or unknown."},
            "homepage": {"help_text": "Provider's website."},
            "primary_offering": {"help_text": "What it mainly sells (curated)."},
            "key_differentiation": {"help_text": "What sets it apart (curated)."},
            "target_metric": {"help_text": "The metric it competes on (curated)."},
            "notes": {"help_text": "Curator's notes."},
        }


class AliasBriefSerializer(ApiModelSerializer):
    source = serializers.CharField(source="source.key", help_text="Key of the source that uses this raw id.")

    class Meta:
        model = ModelAlias
        fields = ["id", "source", "raw_id", "status"]
        extra_kwargs = {
            "id": {"help_text": "Alias id (/api/v1/aliases/{id}/)."},
            "raw_id": {"help_text": "The raw model id exactly as the source spells it."},
            "status": {"help_text": "How it was resolved: rule, curated table or a curator (manual)."},
        }


class ModelSerializer(ApiModelSerializer):
    aliases = AliasBriefSerializer(many=True, read_only=True,
                                   help_text="Raw ids that name this model in each source.")

    class Meta:
        model = Model
        fields = ["id", "slug", "name", "creator", "family", "version", "parameter_count_b",
                  "active_parameter_count_b", "variant", "size_class", "modality", "open_weights", "released_on",
                  "aliases"]
        extra_kwargs = {
            "id": {"help_text": "Model id."},
            "slug": {"help_text": "Canonical model slug, e.g. llama-3-70b-instruct; the model filter takes it."},
            "name": {"help_text": "Display name."},
            "creator": {"help_text": "Who made the model (meta, openai…)."},
            "family": {"help_text": "Model family (llama, gpt-4o…)."},
            "version": {"help_text": "Version within the family (3.1, 2024-08-06…)."},
            "parameter_count_b": {"help_text": "Parameters, in billions (exact decimal string); null = "
                                               "undisclosed."},
            "variant": {"help_text": "instruct, chat, base; null for closed models."},
            "size_class": {"help_text": "Size class for comparisons across models, e.g. 70b-class."},
            "active_parameter_count_b": {"help_text": "Mixture-of-experts models: parameters active per token, in "
                                                      "billions (exact decimal string); null for dense or unknown."},
            "modality": {"help_text": "text, vision (text + image input), multimodal (image and audio/video "
                                      "input), audio, image, video, embedding, rerank, moderation, ocr; null = "
                                      "unknown."},
            "open_weights": {"help_text": "true: weights published; false: closed; null: unknown."},
            "released_on": {"help_text": "Release date (the date in a dated id, or the earliest date a source "
                                         "lists the model); null = not stated."},
        }


class ModelAliasSerializer(ApiModelSerializer):
    source = serializers.CharField(source="source.key", help_text="Key of the source that uses this raw id.")
    model = serializers.CharField(source="model.slug", allow_null=True,
                                  help_text="Canonical model slug; null while unresolved or ignored.")

    class Meta:
        model = ModelAlias
        fields = ["id", "source", "raw_id", "model", "status", "rule", "provider_hint", "name_hint", "updated_at"]
        extra_kwargs = {
            "id": {"help_text": "Alias id."},
            "raw_id": {"help_text": "The raw model id exactly as the source spells it."},
            "status": {"help_text": "rule, curated, manual (a curator), unresolved (the queue) or ignored."},
            "rule": {"help_text": "The rule or curated-table row that resolved it."},
            "provider_hint": {"help_text": "The source's provider key for this id."},
            "name_hint": {"help_text": "The source's display name for this id."},
            "updated_at": {"help_text": "Last change (ISO 8601 UTC)."},
        }


class AliasResolveSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, help_text="Slug of the canonical model the raw id names.")

    def validate_model(self, value: str) -> Model:
        model = Model.objects.filter(slug=value).first()
        if model is None:
            raise serializers.ValidationError(f"No canonical model {value!r} (see /api/v1/models/).")
        return model


class OfferingSerializer(ApiModelSerializer):
    provider = serializers.CharField(source="provider.slug", help_text="Provider slug.")
    provider_kind = serializers.ChoiceField(source="provider.kind", choices=Provider.Kind.choices,
                                            help_text="What kind of seller the provider is.")
    model = serializers.CharField(source="alias.model.slug", allow_null=True,
                                  help_text="Canonical model slug; null while the raw id is unresolved.")
    alias = serializers.IntegerField(source="alias_id", help_text="Alias id of the raw model id.")
    source = serializers.CharField(source="source.key", help_text="Key of the source that lists it.")

    class Meta:
        model = Offering
        fields = ["id", "provider", "provider_kind", "model", "source_model_id", "display_name", "region",
                  "service_tier", "min_prompt_tokens", "mode", "max_input_tokens", "max_output_tokens", "alias",
                  "source"]
        extra_kwargs = {
            "id": {"help_text": "Offering id."},
            "source_model_id": {"help_text": "The raw model id exactly as the source spells it."},
            "display_name": {"help_text": "The source's display name."},
            "region": {"help_text": "Region; null = not region-specific."},
            "service_tier": {"help_text": "standard, batch, flex, priority…"},
            "min_prompt_tokens": {"help_text": "Long-context tier: applies above this many prompt tokens "
                                               "(0 = base)."},
            "mode": {"help_text": "chat, embedding, image_generation…"},
            "max_input_tokens": {"help_text": "Context window for input, tokens; null = not stated."},
            "max_output_tokens": {"help_text": "Most output tokens per request; null = not stated."},
        }
