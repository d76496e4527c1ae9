"""Money is exact (invariant 5), in storage and back out of the API, on SQLite and PostgreSQL.

NUMERIC(20,10) rounded 31 databricks prices of the newest LiteLLM file (15.000020000000002
USD per 1M tokens became 15.00002) and SQLite's decimal affinity kept floats
(15.000020000000003). Money columns are now ExactDecimalField: plain ``numeric`` on
PostgreSQL, fixed-width text on SQLite that sorts and compares like the numbers.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Max, Min, Sum
from rest_framework.test import APIClient

from apps.benchmarks.models import HardwarePrice
from apps.catalog.services import providers_ensure
from apps.common.fields import ENCODED_WIDTH, decode_sortable, encode_sortable, sqlite_reencode
from apps.pricing.models import Price, PriceChange
from apps.sources.models import IngestRun
from apps.sources.registry import get_format
from apps.sources.services import FetchMeta, source_ingest_bytes
from scrapers.records import MTOK, TOKEN_PRICE_FIELDS, PriceRecord
from tests.api.conftest import all_pages, csv_rows, token_client
from tests.conftest import FIXTURES, SHARED_DATA, get_source

pytestmark = pytest.mark.django_db

NEWEST = FIXTURES / "litellm" / "model_prices_2026-07-24_rocry-8442b93.json"
# LiteLLM's per-token keys that are the base offering's components (the parser's direct mapping).
LITELLM_COMPONENT_KEYS = {
    "input_cost_per_token": "input_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "cache_read_input_token_cost": "cached_input_usd_per_mtok",
    "cache_creation_input_token_cost": "cache_write_usd_per_mtok",
}


def text(value: Decimal | None) -> str | None:
    """The API's decimal text, worked out here independently: no exponent, no trailing zeros."""
    if value is None:
        return None
    out = format(value, "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": "1000000/min", "user": "1000000/min"}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(django_user_model) -> APIClient:
    return token_client(django_user_model.objects.create_user("money", password="pw-money-1"))


def ingest(key: str, content: bytes, name: str, observed_at: datetime | None = None) -> IngestRun:
    run = source_ingest_bytes(source=get_source(key), content=content, trigger="command",
                              observed_at=observed_at, meta=FetchMeta(filename=name))
    assert run.status == IngestRun.Status.OK, run.message
    return run


# --- the encoding itself -------------------------------------------------------------------

ORDERED = ["0", "1E-40", "0.0000000001", "0.05", "0.0500000000000000000000000001", "0.5", "2.5", "9",
           "9.999999999999999999999999999999", "10", "15.000020000000002", "100", "10000",
           "9999999999999999999.9999999999999999999999999999999999999999"]


def test_the_sqlite_text_round_trips_and_sorts_as_the_numbers():
    values = [Decimal(v) for v in ORDERED]
    encoded = [encode_sortable(v) for v in values]
    assert all(len(e) == ENCODED_WIDTH for e in encoded)
    assert encoded == sorted(encoded) and len(set(encoded)) == len(encoded)
    assert [decode_sortable(e) for e in encoded] == values
    assert [text(decode_sortable(e)) for e in encoded] == [text(v) for v in values]
    # Equal numbers, equal text: 10, 10.0 and 1E+1 are one value.
    assert encode_sortable(Decimal("10.000")) == encode_sortable(Decimal("1E+1")) == encode_sortable(Decimal(10))
    # A negative lookup bound sorts below every stored value, and in order among negatives.
    negatives = [encode_sortable(Decimal(v)) for v in ("-100", "-10", "-9.5", "-0.05")]
    assert negatives == sorted(negatives) and negatives[-1] < encoded[0]
    assert [decode_sortable(e) for e in negatives] == [Decimal(v) for v in ("-100", "-10", "-9.5", "-0.05")]
    # What cannot be stored exactly is refused, never rounded.
    for bad in ("1E-41", "1E+20", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            encode_sortable(Decimal(bad))


# --- (a) the defect: 31 databricks components of the newest LiteLLM file ----------------------

def databricks_components() -> dict[tuple[str, str], Decimal]:
    """(model key, component) -> Decimal(JSON text) x 1e6 for every databricks/* component that
    NUMERIC(20,10) could not hold (more than 10 fraction digits per 1M tokens)."""
    document = json.loads(NEWEST.read_bytes(), parse_float=Decimal)
    found = {}
    for key, entry in document.items():
        if not key.startswith("databricks/") or not isinstance(entry, dict):
            continue
        for json_key, component in LITELLM_COMPONENT_KEYS.items():
            value = entry.get(json_key)
            if isinstance(value, Decimal) and (value * MTOK).normalize().as_tuple().exponent < -10:
                found[key, component] = value * MTOK
    return found


def test_the_newest_litellm_databricks_prices_are_stored_as_the_source_wrote_them(api):
    expected = databricks_components()
    assert len(expected) == 31
    assert expected["databricks/databricks-claude-opus-4", "input_usd_per_mtok"] == Decimal("15.000020000000002")
    ingest("litellm", NEWEST.read_bytes(), NEWEST.name)
    prices = {p.offering.source_model_id: p for p in Price.objects.select_related("offering").filter(
        offering__source_model_id__startswith="databricks/", offering__service_tier="standard",
        offering__min_prompt_tokens=0, offering__region="")}
    for (key, component), value in expected.items():
        stored = getattr(prices[key], component)
        assert stored == value and text(stored) == text(value), (key, component, stored)
        # Filtering on the exact value finds the row: the bound value is encoded like the stored one.
        assert Price.objects.filter(pk=prices[key].pk, **{component: value}).exists()
    # Out of the API: a row's detail and the list (JSON and CSV) say the same digits.
    price = prices["databricks/databricks-claude-opus-4"]
    detail = api.get(f"/api/v1/prices/{price.pk}/").json()
    assert detail["input_usd_per_mtok"] == "15.000020000000002"
    listed = all_pages(api, "/api/v1/prices/?source_model_id=databricks/databricks-claude-opus-4")
    assert "15.000020000000002" in {r["input_usd_per_mtok"] for r in listed}
    exported = csv_rows(api.get("/api/v1/prices/?format=csv&source_model_id=databricks/databricks-claude-opus-4"))
    assert "15.000020000000002" in {r["input_usd_per_mtok"] for r in exported}


# --- (b) acceptance: every per-token value of every real file, in and back out ----------------

def _real_files() -> list[tuple[str, str]]:
    files = [("litellm", f"litellm/{p.name}") for p in sorted((SHARED_DATA / "litellm").glob("model_prices_*.json"))]
    files += [("openrouter", f"openrouter/{p.name}") for p in sorted((SHARED_DATA / "openrouter").glob("*.json"))]
    files += [("llm-prices", f"llm-prices/{p.name}") for p in sorted((SHARED_DATA / "llm-prices").glob("*.json"))]
    files += [("genai-prices", "genai-prices/data_v2.json")]
    return files


REAL_FILES = _real_files() if SHARED_DATA.is_dir() else [("litellm", "litellm/missing.json")]
OFFERING = ("provider", "source_model_id", "region", "service_tier", "min_prompt_tokens")


def _observed_at(path: str) -> datetime:
    found = re.search(r"(\d{4})-(\d{2})-(\d{2})", path)
    day = tuple(int(g) for g in found.groups()) if found else (2026, 8, 6)
    return datetime(*day, tzinfo=UTC)


def _expected(source_key: str, content: bytes) -> tuple[dict[tuple, set[tuple]], int]:
    """Offering -> the component tuples (API text) its records state, as the ingest keeps them
    (the first of two rows for one offering and start wins); and how many values that is."""
    records = [r for r in get_format(source_key).parse(content).records if isinstance(r, PriceRecord)]
    slugs = {raw: p.slug for raw, p in providers_ensure(raw_providers={r.provider_key for r in records}).items()}
    expected: dict[tuple, set[tuple]] = defaultdict(set)
    seen: set[tuple] = set()
    values = 0
    for r in records:
        # The API writes an absent region as null (JSON) or an empty cell (CSV), never "".
        offering = (slugs[r.provider_key], r.source_model_id, r.region or None, r.service_tier, r.min_prompt_tokens)
        first_key = (*offering, r.effective_from if r.stated_dates else None)
        if first_key in seen:
            continue
        seen.add(first_key)
        components = tuple(getattr(r, name) for name in TOKEN_PRICE_FIELDS)
        values += sum(v is not None for v in components)
        expected[offering].add(tuple(text(v) for v in components))
    return expected, values


def _by_offering(rows: list[dict[str, Any]], *, csv: bool) -> dict[tuple, set[tuple]]:
    out: dict[tuple, set[tuple]] = defaultdict(set)
    for row in rows:
        key = tuple(int(row[k]) if k == "min_prompt_tokens" else (row[k] or None) if k == "region" else row[k]
                    for k in OFFERING)
        if csv:
            # The CSV guards cells that start with =, +, - or @ against spreadsheet formulas.
            key = (key[0], key[1].removeprefix("'"), *key[2:])
        out[key].add(tuple((row[c] or None) if csv else row[c] for c in TOKEN_PRICE_FIELDS))
    return out


@pytest.mark.parametrize(("source_key", "path"), REAL_FILES, ids=[p for _, p in REAL_FILES])
def test_every_per_token_price_of_every_real_file_comes_back_exact(source_key, path, shared_data, api):
    content = (shared_data / path).read_bytes()
    ingest(source_key, content, Path(path).name, _observed_at(path))
    expected, values = _expected(source_key, content)
    assert values > 0
    url = f"/api/v1/prices/?source={source_key}"
    from_json = _by_offering(all_pages(api, f"{url}&page_size=1000"), csv=False)
    from_csv = _by_offering(csv_rows(api.get(f"{url}&format=csv")), csv=True)
    assert from_json == expected
    assert from_csv == expected


# --- (c) filters and ordering on a price column are numeric ------------------------------------

# USD per token -> 9, 10, 100, 0.5, 0.05, 15.000020000000002, 0 USD per 1M tokens, and no input price.
LADDER = {"m9": "0.000009", "m10": "0.00001", "m100": "0.0001", "m0_5": "0.0000005", "m0_05": "0.00000005",
          "mexact": "0.000015000020000000002", "mzero": "0", "mnone": None}


def _document(prices: dict[str, str | None]) -> bytes:
    """A LiteLLM file with these input prices, written as raw JSON numbers (the parser reads their digits)."""
    entries = []
    for key, per_token in prices.items():
        fields = {"litellm_provider": '"openai"', "mode": '"chat"', "output_cost_per_token": "0.000001"}
        if per_token is not None:
            fields["input_cost_per_token"] = per_token
        body = ", ".join(f"{json.dumps(name)}: {value}" for name, value in fields.items())
        entries.append(json.dumps(key) + ": {" + body + "}")
    return ("{" + ", ".join(entries) + "}").encode()


@pytest.fixture
def ladder():
    return ingest("litellm", _document(LADDER), "ladder.json", datetime(2025, 1, 1, tzinfo=UTC))


def _inputs(rows: list[dict[str, Any]]) -> list[str | None]:
    return [r["input_usd_per_mtok"] or None for r in rows]


ASCENDING = ["0", "0.05", "0.5", "9", "10", "15.000020000000002", "100", None]


def test_ordering_by_a_price_is_numeric_with_nulls_last(ladder, api):
    assert _inputs(all_pages(api, "/api/v1/prices/?ordering=input_usd_per_mtok")) == ASCENDING
    assert _inputs(all_pages(api, "/api/v1/prices/?ordering=-input_usd_per_mtok")) == [None, *ASCENDING[-2::-1]]
    # Keyset pages continue after a money value: two rows a page, the same order, nothing twice.
    assert _inputs(all_pages(api, "/api/v1/prices/?ordering=input_usd_per_mtok&page_size=2")) == ASCENDING
    assert _inputs(all_pages(api, "/api/v1/prices/?ordering=-input_usd_per_mtok&page_size=3")) == [
        None, *ASCENDING[-2::-1]]
    assert _inputs(csv_rows(api.get("/api/v1/prices/?format=csv&ordering=input_usd_per_mtok"))) == ASCENDING


@pytest.mark.parametrize(("query", "expected"), [
    ("min_input_usd_per_mtok=10", ["10", "15.000020000000002", "100"]),
    ("min_input_usd_per_mtok=9.5", ["10", "15.000020000000002", "100"]),
    ("max_input_usd_per_mtok=9.99", ["0", "0.05", "0.5", "9"]),
    ("max_input_usd_per_mtok=10", ["0", "0.05", "0.5", "9", "10"]),
    ("min_input_usd_per_mtok=0.06&max_input_usd_per_mtok=0.5", ["0.5"]),
    ("min_input_usd_per_mtok=0.05&max_input_usd_per_mtok=0.05", ["0.05"]),
    ("min_input_usd_per_mtok=15.00002", ["15.000020000000002", "100"]),
    ("max_input_usd_per_mtok=15.00002", ["0", "0.05", "0.5", "9", "10"]),
    ("min_input_usd_per_mtok=-1", ["0", "0.05", "0.5", "9", "10", "15.000020000000002", "100"]),
    ("max_input_usd_per_mtok=-1", []),
    ("min_input_usd_per_mtok=0", ["0", "0.05", "0.5", "9", "10", "15.000020000000002", "100"]),
])
def test_price_filters_compare_numbers(ladder, api, query, expected):
    assert _inputs(all_pages(api, f"/api/v1/prices/?{query}&ordering=input_usd_per_mtok")) == expected


def test_orm_lookups_and_aggregates_are_exact(ladder):
    prices = Price.objects.filter(input_usd_per_mtok__isnull=False)
    assert prices.aggregate(low=Min("input_usd_per_mtok"), high=Max("input_usd_per_mtok")) == {
        "low": Decimal(0), "high": Decimal(100)}
    assert Price.objects.get(input_usd_per_mtok=Decimal("15.000020000000002")).offering.source_model_id == "mexact"
    assert Price.objects.filter(input_usd_per_mtok=Decimal("10.000")).count() == 1
    assert Price.objects.filter(input_usd_per_mtok__in=[Decimal("0.5"), Decimal("0.05")]).count() == 2
    assert Price.objects.filter(input_usd_per_mtok__gt=0).count() == 6  # as the benchmarks' API price pick asks
    assert Price.objects.filter(input_usd_per_mtok__range=(Decimal("0.05"), Decimal(10))).count() == 4
    assert list(prices.order_by("-input_usd_per_mtok").values_list("input_usd_per_mtok", flat=True)[:2]) == [
        Decimal(100), Decimal("15.000020000000002")]
    # Avg/Sum (no caller in apps/ uses them on money) are numeric on both databases: SQLite reads the
    # padded text as a number, at float precision as it always did for decimals; PostgreSQL is exact.
    sums = prices.aggregate(total=Sum("input_usd_per_mtok"), mean=Avg("input_usd_per_mtok"))
    exact_total = Decimal("134.550020000000002")
    assert abs(sums["total"] - exact_total) < Decimal("1e-9") and abs(sums["mean"] - exact_total / 7) < Decimal("1e-9")
    # Writes through update() and bulk_update() (the history rebuild's) keep every digit.
    long = Decimal("0.123456789012345678901234567890")
    Price.objects.filter(offering__source_model_id="m9").update(input_usd_per_mtok=long)
    assert Price.objects.get(offering__source_model_id="m9").input_usd_per_mtok == long
    row = Price.objects.get(offering__source_model_id="m10")
    row.input_usd_per_mtok = Decimal("12.3456789012345678901234567890")
    Price.objects.bulk_update([row], ["input_usd_per_mtok"])
    assert Price.objects.get(pk=row.pk).input_usd_per_mtok == Decimal("12.3456789012345678901234567890")
    # m9 now differs from this bound only in its 29th and 30th digits.
    assert list(prices.filter(input_usd_per_mtok__gt=Decimal("0.1234567890123456789012345678"))
                .order_by("input_usd_per_mtok").values_list("offering__source_model_id", flat=True)) == [
        "m9", "m0_5", "m10", "mexact", "m100"]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT typeof(input_usd_per_mtok), length(input_usd_per_mtok) "
                           "FROM pricing_price WHERE input_usd_per_mtok IS NOT NULL")
            assert cursor.fetchall() == [("text", ENCODED_WIDTH)]


def test_price_change_direction_compares_numbers(ladder, api):
    # 9 -> 10 is up (as text, "9" > "10"); 100 -> 0.5 is down; 0.05 -> 0.5 is up.
    moved = {**LADDER, "m9": "0.00001", "m100": "0.0000005", "m0_05": "0.0000005"}
    ingest("litellm", _document(moved), "ladder2.json", datetime(2025, 2, 1, tzinfo=UTC))
    up = all_pages(api, "/api/v1/price-changes/?direction=up")
    down = all_pages(api, "/api/v1/price-changes/?direction=down")
    assert sorted((r["source_model_id"], r["old_usd_per_mtok"], r["new_usd_per_mtok"]) for r in up) == [
        ("m0_05", "0.05", "0.5"), ("m9", "9", "10")]
    assert [(r["source_model_id"], r["old_usd_per_mtok"], r["new_usd_per_mtok"]) for r in down] == [
        ("m100", "100", "0.5")]
    assert PriceChange.objects.filter(old_usd_per_mtok=Decimal(100), new_usd_per_mtok=Decimal("0.5")).count() == 1


def test_hardware_prices_sort_by_usd_per_hour_numerically(api):
    ingest("hardware-csv", (FIXTURES / "hardware" / "lambda_gpu_prices.csv").read_bytes(), "lambda_gpu_prices.csv",
           datetime(2025, 6, 1, tzinfo=UTC))
    stored = sorted(HardwarePrice.objects.values_list("usd_per_hour", flat=True))
    assert len(stored) > 3 and len({len(text(v)) for v in stored}) > 1  # values of several widths
    rows = all_pages(api, "/api/v1/hardware-prices/?ordering=usd_per_hour&page_size=2")
    assert [Decimal(r["usd_per_hour"]) for r in rows] == stored
    cheapest = min(stored)
    assert HardwarePrice.objects.filter(usd_per_hour__lte=cheapest).count() == stored.count(cheapest)


# --- the SQLite migration's re-encoding ---------------------------------------------------------

def test_the_sqlite_migration_rewrites_plain_numbers_as_sortable_text(ladder):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps every digit through ALTER ... TYPE numeric; nothing to rewrite")
    from django.apps import apps as global_apps

    # What SQLite's table rebuild leaves: the old REALs printed as text.
    with connection.cursor() as cursor:
        for source_model_id, raw in (("m9", "9"), ("m10", "10.0"), ("m0_05", "5e-02"), ("m100", "100")):
            cursor.execute("UPDATE pricing_price SET input_usd_per_mtok = %s WHERE offering_id = "
                           "(SELECT id FROM catalog_offering WHERE source_model_id = %s)", [raw, source_model_id])
    step = sqlite_reencode(("pricing.Price", "input_usd_per_mtok"))
    # The step reads only the editor's connection (a real schema editor cannot open inside the test's transaction).
    step.code(global_apps, SimpleNamespace(connection=connection))
    values = list(Price.objects.filter(input_usd_per_mtok__isnull=False).order_by("input_usd_per_mtok")
                  .values_list("input_usd_per_mtok", flat=True))
    assert [text(v) for v in values] == ASCENDING[:-1]


@pytest.mark.django_db
def test_postgresql_reads_money_without_a_python_converter_and_exactly(postgres):
    """numeric arrives as Decimal from psycopg: the field adds no per-value converter there, and values, sums
    and products come back exact (2.50 keeps its digits; no float anywhere)."""
    from django.db import connection
    from django.db.models import F, Sum

    from apps.pricing.models import Price

    field = Price._meta.get_field("input_usd_per_mtok")
    assert field.get_db_converters(connection) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2.50::numeric, 0.000000015::numeric * 3, NULL::numeric")
        assert cursor.fetchone() == (Decimal("2.50"), Decimal("0.000000045"), None)
    assert Price.objects.aggregate(total=Sum("input_usd_per_mtok"))["total"] is None
    assert not Price.objects.annotate(doubled=F("input_usd_per_mtok") * 2).exists()
