"""FastJSONRenderer writes exactly what DRF's JSONRenderer writes (with the API's date-time format), only faster."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from apps.api_common.renderers import ApiJSONEncoder, FastJSONRenderer


class JSONRenderer(JSONRenderer):
    # DRF's renderer with the API's one encoder change: date-times as 2026-01-05T12:30:01.123456Z.
    encoder_class = ApiJSONEncoder

SAMPLES = [
    {"results": [{"id": 1, "input_usd_per_mtok": "0.15", "effective_to": None, "ok": True}], "next": None},
    {"when": datetime(2026, 1, 5, 12, 30, 1, 123456, tzinfo=UTC), "day": date(2026, 1, 5), "at": time(7, 5)},
    {"east": datetime(2026, 1, 5, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     "naive": datetime(2026, 1, 5, 12, 0)},
    {"price": Decimal("0.5"), "big": Decimal("1234567.25")},
    {"text": "Ünïcödé — 東京 \u2028 line \u2029 para", "quote": 'he said "hi"\n\t\\'},
    {"lazy": gettext_lazy("This field is required."), "id": uuid.UUID(int=7)},
    {1: "integer key", "nested": [[1, 2.5, -0.0], {"deep": [None, False]}]},
    {"huge": 2**70, "tiny": -(2**70)},
    ReturnList([ReturnDict({"a": 1}, serializer=None)], serializer=None),
    [], {}, "plain", 3, 0.25,
]
# Floats that Python writes with an exponent: orjson writes 1e-7 where Python writes 1e-07. The same
# number for every JSON reader, not the same bytes.
EXPONENT_FLOATS = [1.5e-07, {"price": Decimal("0.0000001"), "big": Decimal("12345678901234567890.5")}, 1e22]


@pytest.mark.parametrize("data", SAMPLES)
def test_same_bytes_as_drf(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


@pytest.mark.parametrize("data", EXPONENT_FLOATS)
def test_floats_with_an_exponent_read_back_the_same(data):
    fast, drf = FastJSONRenderer().render(data), JSONRenderer().render(data)
    assert json.loads(fast) == json.loads(drf)


def test_indented_output_is_drf_s():
    data = {"a": [1, 2], "b": {"c": "d"}}
    fast = FastJSONRenderer().render(data, "application/json; indent=2")
    assert fast == JSONRenderer().render(data, "application/json; indent=2")
    assert b"\n  " in fast


def test_nothing_renders_as_empty_bytes():
    assert FastJSONRenderer().render(None) == b""
