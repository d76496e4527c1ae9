"""Every format the registry can parse is a format a Source may have (the admin's form validates choices)."""

from __future__ import annotations

import pytest

from apps.sources.models import Source
from apps.sources.registry import get_format


@pytest.mark.django_db
def test_the_probe_source_passes_the_models_validation():
    from apps.probes.services import PROBE_SOURCE_KEY

    source = Source(key=PROBE_SOURCE_KEY, name="tokenwatch probes", format="probe", schedule="")
    source.full_clean()  # the admin's ModelForm runs the same field validation
    assert get_format(source.format) is not None


def test_every_registered_format_is_a_source_format():
    from apps.sources import registry

    registered = set(registry.FORMATS)
    assert registered, "registry has formats"
    assert registered <= set(Source.Format.values)
