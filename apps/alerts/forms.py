"""The watch form: a model or provider is named by its slug (thousands of models make a poor select)."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.catalog.models import Model, Provider

from .models import Watch


class SlugChoiceField(forms.ModelChoiceField):
    """A model or provider by slug, typed; an unknown slug says so."""

    widget = forms.TextInput

    def __init__(self, queryset: Any, what: str, **kwargs: Any) -> None:
        super().__init__(queryset, to_field_name="slug", required=False,
                         error_messages={"invalid_choice": f"No {what} has this slug."}, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int):  # an instance's id when the form edits a watch
            found = self.queryset.filter(pk=value).values_list("slug", flat=True).first()
            return found or value
        return super().prepare_value(value)


class WatchForm(forms.ModelForm):
    model = SlugChoiceField(Model.objects.all(), "model", label="Model (slug)",
                            help_text="e.g. gpt-4o, llama-3.1-70b-instruct")
    provider = SlugChoiceField(Provider.objects.all(), "provider", label="Provider (slug)",
                               help_text="e.g. openai, groq")
    size_class = forms.ChoiceField(required=False, choices=())

    class Meta:
        model = Watch
        fields = ["name", "target", "model", "provider", "size_class", "condition", "component",
                  "blend_input_ratio", "blend_output_ratio", "threshold_usd_per_mtok", "change_pct",
                  "email", "digest", "webhook_url", "webhook_secret"]
        labels = {"threshold_usd_per_mtok": "Threshold (USD per 1M tokens)", "change_pct": "Change (%)",
                  "webhook_url": "Webhook URL (https)"}
        widgets = {"webhook_secret": forms.PasswordInput(render_value=True)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        classes = Model.objects.exclude(size_class="").order_by("size_class").values_list(
            "size_class", flat=True).distinct()
        self.fields["size_class"].choices = [("", "—"), *((c, c) for c in classes)]
