"""Provider/model/source keys resolve from a per-process map, and the database where the map has no answer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.api_common import filters
from apps.catalog.models import Provider
from apps.pricing.filtersets import PriceFilterSet
from apps.pricing.models import Price

pytestmark = pytest.mark.django_db


def provider_filter(*slugs: str) -> PriceFilterSet:
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    data.setlist("provider", list(slugs))
    return PriceFilterSet(data, queryset=Price.objects.all())


def test_known_slugs_need_no_query_after_the_first():
    a = Provider.objects.create(slug="alpha", name="Alpha", kind="first-party")
    b = Provider.objects.create(slug="beta", name="Beta", kind="first-party")
    assert provider_filter("alpha").is_valid()
    with CaptureQueriesContext(connection) as queries:
        filterset = provider_filter("beta", "alpha")
        assert filterset.is_valid()
    assert len(queries) == 0
    assert filterset.form.cleaned_data["provider"] == [b.pk, a.pk]
    sql = str(filterset.qs.query)
    assert "IN" in sql and " OR " not in sql


def test_a_provider_created_after_the_map_is_found_in_the_database():
    Provider.objects.create(slug="alpha", name="Alpha", kind="first-party")
    assert provider_filter("alpha").is_valid()
    new = Provider.objects.create(slug="newcomer", name="Newcomer", kind="first-party")
    filterset = provider_filter("newcomer")
    assert filterset.is_valid()
    assert [p.pk for p in filterset.form.cleaned_data["provider"]] == [new.pk]


def test_an_unknown_slug_is_still_an_error_naming_it():
    Provider.objects.create(slug="alpha", name="Alpha", kind="first-party")
    assert provider_filter("alpha").is_valid()
    filterset = provider_filter("alpha", "nope")
    assert not filterset.is_valid()
    assert "nope" in str(filterset.errors["provider"])


def test_the_map_expires(monkeypatch):
    Provider.objects.create(slug="alpha", name="Alpha", kind="first-party")
    assert provider_filter("alpha").is_valid()
    Provider.objects.filter(slug="alpha").update(slug="renamed")
    clock = [filters.time_monotonic() + filters.KEY_MAP_TTL_SECONDS + 1]
    monkeypatch.setattr(filters, "time_monotonic", lambda: clock[0])
    filterset = provider_filter("alpha")
    assert not filterset.is_valid()
    assert provider_filter("renamed").is_valid()


def test_a_filtered_queryset_gets_no_map():
    assert filters.key_map(Provider.objects.filter(kind="first-party"), "slug") is None
    assert filters.key_map(Provider.objects.all(), "slug") == {}
