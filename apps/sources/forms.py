"""The curator's upload form (admin): a file for a source, with its column schema shown."""

from __future__ import annotations

import importlib

from django import forms

from scrapers.csvtools import Column

from .models import Source
from .registry import get_format
from .services import MAX_UPLOAD_BYTES


def column_schema(source_format: str) -> tuple[Column, ...]:
    """The documented columns of a CSV format (empty for JSON formats)."""
    try:
        module = importlib.import_module(f"scrapers.{get_format(source_format).parser}")
    except LookupError:
        return ()
    return tuple(getattr(module, "COLUMNS", ()))


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Source.objects.order_by("key"), help_text="Which parser reads the file.")
    file = forms.FileField(help_text=f"CSV or JSON, at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    observed_at = forms.DateTimeField(
        required=False, help_text="When the file describes the market (YYYY-MM-DD or YYYY-MM-DD HH:MM, UTC). "
        "Needed for files without a date of their own.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes, over the {MAX_UPLOAD_BYTES:,}-byte limit.")
        return upload
