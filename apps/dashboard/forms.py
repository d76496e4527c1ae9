"""Page options that are not filters on a list: how to draw, and the workload calculator.

Filters on rows (model, provider, source, as_of…) are the API's FilterSets
(``apps/*/filtersets.py``); these forms hold what only the pages need. Every
form is bound to the query string, so a view can be bookmarked; a bad value
falls back to its default with a message instead of an error page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict

from apps.catalog.size_classes import size_class_choices

COMPONENT_CHOICES = [("blended", "Blended (input:output mix)"), ("input", "Input"), ("output", "Output")]
SCALE_CHOICES = [("log", "Log"), ("linear", "Linear")]
LINES_CHOICES = [("auto", "Automatic"), ("offering", "One per offering"), ("provider", "Cheapest per provider"),
                 ("model", "Cheapest per model"), ("class", "Cheapest per size class")]


def bind(form_class: type[forms.Form], data: QueryDict, **kwargs: Any) -> tuple[forms.Form, dict[str, Any]]:
    """Bind a form to the query string and return (form, values): cleaned where valid, defaults elsewhere."""
    form = form_class(data, **kwargs)
    form.is_valid()
    values: dict[str, Any] = {}
    for name, field in form.fields.items():
        if name in form.cleaned_data and name not in form.errors and not _blank(form.cleaned_data[name]):
            values[name] = form.cleaned_data[name]
        else:
            values[name] = field.initial
    clean = getattr(form, "clean_values", None)
    if clean is not None:
        values = clean(values)
    return form, values


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def error_messages(*forms_: Any) -> list[str]:
    """One sentence per bad parameter: "ratio_in: Ensure this value is less than or equal to 100."."""
    messages = []
    for form in forms_:
        if form is None:
            continue
        errors = form.errors if hasattr(form, "errors") else {}
        for name, problems in errors.items():
            for problem in problems:
                label = "filters" if name == "__all__" else name
                messages.append(f"{label}: {problem}")
    return messages


class BlendForm(forms.Form):
    ratio_in = forms.IntegerField(label="Input share", min_value=0, max_value=100, required=False,
                                  initial=settings.TOKENWATCH_BLEND_INPUT_RATIO)
    ratio_out = forms.IntegerField(label="Output share", min_value=0, max_value=100, required=False,
                                   initial=settings.TOKENWATCH_BLEND_OUTPUT_RATIO)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("ratio_in") == 0 and data.get("ratio_out") == 0:
            raise forms.ValidationError("The input:output mix cannot be 0:0.")
        return data

    def clean_values(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.non_field_errors():
            values["ratio_in"] = self.fields["ratio_in"].initial
            values["ratio_out"] = self.fields["ratio_out"].initial
        if values["ratio_in"] is None:
            values["ratio_in"] = self.fields["ratio_in"].initial
        if values["ratio_out"] is None:
            values["ratio_out"] = self.fields["ratio_out"].initial
        if values["ratio_in"] == 0 and values["ratio_out"] == 0:
            values["ratio_in"] = self.fields["ratio_in"].initial
            values["ratio_out"] = self.fields["ratio_out"].initial
        return values


class TrendOptionsForm(BlendForm):
    component = forms.ChoiceField(choices=COMPONENT_CHOICES, required=False, initial="blended", label="Price")
    scale = forms.ChoiceField(choices=SCALE_CHOICES, required=False, initial="log", label="Scale")
    lines = forms.ChoiceField(choices=LINES_CHOICES, required=False, initial="auto", label="Lines")
    classes = forms.MultipleChoiceField(choices=[], required=False, initial=[], label="Size classes")

    def __init__(self, *args: Any, size_classes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classes"].choices = size_class_choices(size_classes or [])


class ClassTrendForm(BlendForm):
    classes = forms.MultipleChoiceField(choices=[], required=False, label="Size classes")
    scale = forms.ChoiceField(choices=SCALE_CHOICES, required=False, initial="log", label="Scale")

    def __init__(self, *args: Any, size_classes: list[str] | None = None, default_classes: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classes"].choices = size_class_choices(size_classes or [])
        self.fields["classes"].initial = [c for c in (default_classes or []) if c in (size_classes or [])]


class WorkloadForm(forms.Form):
    """A month of traffic: how many tokens in and out, how much of the input is a cache hit, batch or not."""

    input_mtok = forms.DecimalField(label="Input tokens per month (millions)", min_value=Decimal(0),
                                    max_value=Decimal(10_000_000), max_digits=14, decimal_places=3, required=False,
                                    initial=Decimal(300))
    output_mtok = forms.DecimalField(label="Output tokens per month (millions)", min_value=Decimal(0),
                                     max_value=Decimal(10_000_000), max_digits=14, decimal_places=3, required=False,
                                     initial=Decimal(100))
    cached_pct = forms.DecimalField(label="Cached share of input (%)", min_value=Decimal(0), max_value=Decimal(100),
                                    max_digits=5, decimal_places=1, required=False, initial=Decimal(0))
    batch = forms.BooleanField(label="Batch (use the batch tier where offered)", required=False, initial=False)


class BreakEvenForm(forms.Form):
    run = forms.TypedChoiceField(label="Benchmark run (serving stack)", coerce=int, choices=[], required=False)
    hardware_price = forms.TypedChoiceField(label="Hardware price", coerce=int, choices=[], required=False)
    utilisation_pct = forms.IntegerField(label="Average utilisation (%)", min_value=1, max_value=100, required=False,
                                         initial=50)
    api_price = forms.TypedChoiceField(label="API offer to compare", coerce=int, choices=[], required=False)

    def __init__(self, *args: Any, runs: list[tuple[int, str]] | None = None,
                 hardware_prices: list[tuple[int, str]] | None = None,
                 api_prices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["run"].choices = runs or []
        self.fields["hardware_price"].choices = [("", "Cheapest matching instance"), *(hardware_prices or [])]
        self.fields["api_price"].choices = [("", "Cheapest plain offer"), *(api_prices or [])]


class MarketForm(forms.Form):
    # Not "year": the market FilterSet already uses that name to filter sizes to one year.
    project_to = forms.IntegerField(label="Project to year", min_value=2000, max_value=2100, required=False,
                                    initial=2030)
    rate = forms.ChoiceField(label="Growth rate", choices=[("implied", "Implied by the sizes"),
                                                           ("stated", "Stated by the source")],
                             required=False, initial="implied")
