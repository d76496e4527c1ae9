"""List rows are read through column plans (values_list) for speed; they must equal the serializers' output."""

from __future__ import annotations

import json

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.api_common.columns import decimal_text, plan_for
from apps.api_common.renderers import FastJSONRenderer
from tests.api.conftest import all_pages, second_opinion
from tokenwatch.api_router import router

pytestmark = pytest.mark.django_db
LISTS = [(prefix, viewset) for prefix, viewset, _ in router.registry]


@pytest.mark.parametrize(("prefix", "viewset"), LISTS, ids=[p for p, _ in LISTS])
def test_it_gives_exactly_what_the_serializer_gives(client_user, economics, prefix, viewset):
    if prefix == "disagreements":
        second_opinion()  # the shared fixture's sources agree everywhere
    fast = all_pages(client_user, f"/api/v1/{prefix}/?page_size=7")
    request = Request(APIRequestFactory().get(f"/api/v1/{prefix}/"))
    view = viewset(request=request, format_kwarg=None, action="list")
    queryset = view.filter_queryset(view.get_queryset()).order_by("pk")
    slow = view.get_serializer_class()(queryset, many=True, context={"request": request}).data
    # Compared as a client reads them: the serializer hands datetimes to the renderer, which writes the one format.
    assert fast == json.loads(FastJSONRenderer().render([dict(row) for row in slow]))
    assert fast, f"no {prefix} in the test data"


def test_it_writes_decimals_without_trailing_zeros_or_exponents():
    from decimal import Decimal

    assert [decimal_text(Decimal(v)) for v in ("2.5000000000", "10.0000000000", "0E-10", "1E+1", "0.0000001000",
                                               "-33.33", "1234567890.1234567890")] == [
        "2.5", "10", "0", "10", "0.0000001", "-33.33", "1234567890.123456789"]


def test_it_refuses_a_serializer_it_cannot_read_from_columns():
    from rest_framework import serializers

    class Computed(serializers.Serializer):
        everything = serializers.CharField(source="*")

    with pytest.raises(TypeError, match="source='\\*'"):
        plan_for(Computed)
