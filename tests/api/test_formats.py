"""Issue 13: one timestamp format and one null convention in every list's JSON and CSV.

Timestamps are ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (apps/api_common/timestamps.py), so a column
that mixes whole-second and sub-second times parses with a plain ``pandas.to_datetime``.
An absent value is JSON null and an empty CSV cell, never "".
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.conf import settings

from apps.api_common.columns import plan_for
from apps.common.timestamps import DATETIME_FORMAT, TIMESTAMP_RE, timestamp_text
from tests.api.conftest import all_pages, csv_rows, second_opinion
from tokenwatch.api_router import router

pytestmark = pytest.mark.django_db
LISTS = [prefix for prefix, _, _ in router.registry]
# Anything that starts like a date-time must be one in the one format (catches a time in a text or JSON column).
LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:")


def _viewset(prefix: str):
    return next(v for p, v, _ in router.registry if p == prefix)


def _datetime_fields(prefix: str) -> list[str]:
    plan = plan_for(_viewset(prefix).serializer_class)
    return [c.name for c in plan.columns if c.kind == "datetime"]


def _values(value):
    """Every scalar inside a JSON value (nested lists of evidence, unit prices…)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    else:
        yield value


def _rows(client, prefix: str) -> list[dict]:
    if prefix == "disagreements":
        second_opinion()  # the shared fixture's sources agree everywhere
    rows = all_pages(client, f"/api/v1/{prefix}/")
    assert rows, f"{prefix}: the fixture gives this list no rows"
    return rows


def test_it_is_one_format_in_one_place():
    # Serializers hand datetimes to the renderers, which write them with timestamp_text (DRF's strftime would
    # write the year 962 as "962").
    assert settings.REST_FRAMEWORK["DATETIME_FORMAT"] is None
    assert TIMESTAMP_RE.match(timestamp_text(datetime(962, 1, 26, 23, 59, 59, 999999, tzinfo=UTC)))
    assert DATETIME_FORMAT == "%Y-%m-%dT%H:%M:%S.%fZ"  # the same text, for years 1000-9999
    # The format's "Z" is literal: it is only true while the API's times are in UTC.
    assert settings.TIME_ZONE == "UTC" and settings.USE_TZ
    assert timestamp_text(datetime(2025, 2, 6, 2, 56, 3, tzinfo=UTC)) == "2025-02-06T02:56:03.000000Z"
    assert timestamp_text(datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=UTC)) == "2026-07-24T18:23:43.215560Z"


@pytest.mark.parametrize("prefix", LISTS)
def test_it_writes_every_json_time_in_the_one_format(client_user, economics, prefix):
    rows = _rows(client_user, prefix)
    fields = _datetime_fields(prefix)
    for row in rows:
        for name in fields:
            assert row[name] is None or TIMESTAMP_RE.match(row[name]), (prefix, name, row[name])
        for value in _values(row):
            if isinstance(value, str) and LOOKS_LIKE_TIME.match(value):
                assert TIMESTAMP_RE.match(value), (prefix, value)
    if fields:  # and each column parses as a whole, without a format argument
        frame = pd.DataFrame(rows)
        for name in fields:
            parsed = pd.to_datetime(frame[name], utc=True)
            assert parsed.notna().sum() == frame[name].notna().sum()
    # The one object's page says the same as its row in the list.
    lookup = getattr(_viewset(prefix), "lookup_field", "pk")
    detail = client_user.get(f"/api/v1/{prefix}/{rows[0]['id' if lookup == 'pk' else lookup]}/").json()
    assert {name: detail[name] for name in fields} == {name: rows[0][name] for name in fields}


@pytest.mark.parametrize("prefix", LISTS)
def test_it_writes_every_csv_time_in_the_one_format(client_user, economics, prefix):
    if prefix == "disagreements":
        second_opinion()
    rows = csv_rows(client_user.get(f"/api/v1/{prefix}/?format=csv"))
    assert rows
    fields = _datetime_fields(prefix)
    for row in rows:
        for name in fields:
            assert row[name] == "" or TIMESTAMP_RE.match(row[name]), (prefix, name, row[name])
        for value in row.values():
            if LOOKS_LIKE_TIME.match(value):
                assert TIMESTAMP_RE.match(value), (prefix, value)


def test_a_column_of_whole_second_and_sub_second_times_parses_as_it_is_stored(client_user, prices):
    """The issue's case: 2025-02-06T02:56:03Z beside 2026-07-24T18:23:43.215560Z, in JSON and in CSV."""
    from apps.pricing.models import Price

    first, second = Price.objects.order_by("id")[:2]
    whole = datetime(2025, 2, 6, 2, 56, 3, tzinfo=UTC)
    fine = datetime(2026, 7, 24, 18, 23, 43, 215560, tzinfo=UTC)
    Price.objects.filter(pk=first.pk).update(last_confirmed_at=whole)
    Price.objects.filter(pk=second.pk).update(last_confirmed_at=fine)

    json_frame = pd.DataFrame(all_pages(client_user, "/api/v1/prices/?ordering=id"))
    body = b"".join(client_user.get("/api/v1/prices/?format=csv&ordering=id").streaming_content)
    csv_frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
    for frame in (json_frame, csv_frame):
        parsed = pd.to_datetime(frame["last_confirmed_at"], utc=True)
        assert parsed.iloc[0] == pd.Timestamp(whole) and parsed.iloc[1] == pd.Timestamp(fine)
        # Microseconds kept: two confirmations within one second keep their order.
        assert parsed.iloc[1].microsecond == 215560
    assert json_frame["last_confirmed_at"].iloc[0] == "2025-02-06T02:56:03.000000Z"
    assert csv_frame["last_confirmed_at"].iloc[1] == "2026-07-24T18:23:43.215560Z"


def test_the_old_mixed_format_is_what_pandas_refused():
    """Why the fixed width: the mixed column of the issue does not parse without format='ISO8601'."""
    with pytest.raises(ValueError):
        pd.to_datetime(pd.Series(["2025-02-06T02:56:03Z", "2026-07-24T18:23:43.215560Z"]), utc=True)
    fixed = pd.Series(["2025-02-06T02:56:03.000000Z", "2026-07-24T18:23:43.215560Z"])
    assert pd.to_datetime(fixed, utc=True).notna().all()


# --- null convention ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", LISTS)
def test_no_json_value_is_an_empty_string(client_user, economics, prefix):
    """An absent value is null in JSON (and an empty CSV cell), never ""."""
    for row in _rows(client_user, prefix):
        empty = [name for name, value in row.items() if value == ""]
        assert not empty, (prefix, empty, row)


def test_region_is_null_in_json_and_empty_in_csv_and_missing_in_pandas_from_both(client_user, prices):
    json_rows = all_pages(client_user, "/api/v1/offerings/?ordering=id")
    response = client_user.get("/api/v1/offerings/?format=csv&ordering=id")
    body = b"".join(response.streaming_content)
    assert {row["region"] for row in json_rows} == {None}
    from_csv_text = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)["region"]
    assert set(from_csv_text) == {""}
    from_json = pd.DataFrame(json_rows)["region"]
    from_csv = pd.read_csv(io.BytesIO(body))["region"]
    assert from_json.isna().all() and from_csv.isna().all()
    # The single object, and the schema, say the same.
    assert client_user.get(f"/api/v1/offerings/{json_rows[0]['id']}/").json()["region"] is None


def test_a_region_that_is_set_is_text_in_both(client_user, prices):
    from apps.catalog.models import Offering

    offering = Offering.objects.order_by("id").first()
    Offering.objects.filter(pk=offering.pk).update(region="eu-west-1")
    assert client_user.get(f"/api/v1/offerings/{offering.pk}/").json()["region"] == "eu-west-1"
    rows = csv_rows(client_user.get("/api/v1/offerings/?format=csv&ordering=id"))
    assert rows[0]["region"] == "eu-west-1"


# The computed tables (not in the router): the same two rules for their rows and their own fields.
COMPUTED = {
    "compare": {"model": "llama-3-70b-instruct", "input_tokens": 1000, "output_tokens": 100},
    "market-projections": {"year_from": 2024, "year_to": 2026},
    "economics/self-hosting-costs": {},
    "economics/break-even": {"model": "gpt-4o", "usd_per_hour": "31.92", "tokens_per_s": "3800"},
    "economics/price-trend": {"model": "gpt-4o"},
    "economics/market-cagrs": {},
}


@pytest.mark.parametrize("path", list(COMPUTED))
def test_computed_tables_follow_both_rules(client_user, economics, path):
    body = client_user.get(f"/api/v1/{path}/", COMPUTED[path]).json()
    assert body["results"], path
    times = [v for v in _values(body) if isinstance(v, str) and LOOKS_LIKE_TIME.match(v)]
    assert all(TIMESTAMP_RE.match(v) for v in times), (path, times)
    empty = [row for row in body["results"] if "" in row.values()]
    assert not empty, (path, empty[:1])
    rows = csv_rows(client_user.get(f"/api/v1/{path}/", COMPUTED[path], HTTP_ACCEPT="text/csv"))
    assert all(TIMESTAMP_RE.match(v) for row in rows for v in row.values() if LOOKS_LIKE_TIME.match(v))


# --- counts -----------------------------------------------------------------------------------------

COUNTED = {"providers", "models", "aliases", "offerings", "benchmarks", "hardware-prices", "market-segments",
           "market-estimates", "sources"}


@pytest.mark.parametrize("prefix", LISTS)
def test_catalogue_sized_lists_count_their_rows_and_time_series_do_not(client_user, economics, prefix):
    if prefix == "disagreements":
        second_opinion()
    body = client_user.get(f"/api/v1/{prefix}/?page_size=2").json()
    if prefix in COUNTED:
        assert body["count"] == len(all_pages(client_user, f"/api/v1/{prefix}/"))
        # The same count on every page.
        assert body["next"] is None or client_user.get(body["next"]).json()["count"] == body["count"]
    else:
        assert "count" not in body


def test_a_count_is_of_the_filtered_rows(client_user, prices):
    everything = client_user.get("/api/v1/offerings/").json()["count"]
    openai = client_user.get("/api/v1/offerings/?provider=openai").json()
    assert 0 < openai["count"] < everything
    assert openai["count"] == len(all_pages(client_user, "/api/v1/offerings/?provider=openai"))
    assert client_user.get("/api/v1/offerings/?provider=openai&source_model_id=nothing-like-it").json()["count"] == 0


def test_the_schema_states_which_lists_have_a_count(client_user):
    schema = client_user.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]

    def page_schema(prefix: str) -> dict:
        ok = schema["paths"][f"/api/v1/{prefix}/"]["get"]["responses"]["200"]["content"]["application/json"]
        return components[ok["schema"]["$ref"].rsplit("/", 1)[-1]]

    assert "count" in page_schema("providers")["required"]
    assert page_schema("providers")["properties"]["count"]["type"] == "integer"
    assert "count" not in page_schema("prices")["properties"]
    assert "No total count" in page_schema("prices")["description"]


def test_an_unformatted_time_reaching_the_renderers_is_written_in_the_one_format():
    from apps.api_common.csv import text_cell
    from apps.api_common.renderers import FastJSONRenderer

    moment = datetime(2025, 2, 6, 2, 56, 3, tzinfo=UTC)
    assert FastJSONRenderer().render({"at": moment}) == b'{"at":"2025-02-06T02:56:03.000000Z"}'
    assert text_cell(moment) == "2025-02-06T02:56:03.000000Z"
