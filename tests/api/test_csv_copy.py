"""CSV export on PostgreSQL (apps/api_common/pgcopy.py): byte for byte what the all-SQL COPY and the Python
path write, with the related rows spliced in from Python, on a corpus of query strings and hostile text."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.api_common.columns import plan_for, postgres_copy_query, postgres_csv_blocks
from apps.api_common.pgcopy import Splice, copy_csv_blocks, export_query, pg_csv_field, splice_line, timestamp_cell
from apps.catalog.models import Offering, Provider
from tests.api.conftest import second_opinion
from tokenwatch.api_router import router

# Text a spreadsheet or a CSV reader trips on: separators, quotes, line breaks, formulas, COPY's end marker,
# backslashes, non-ASCII, leading and trailing space.
HOSTILE = ['a,b', 'say "hi"', "two\nlines", "cr\rhere", "=1+2", "-5", "+x", "@SUM(A1)", "\ttab", "\\.",
           "back\\slash", "naïve 模型 🚀", " padded ", '","', '"', ","]

QUERIES = {
    "prices": ["", "provider=openai", "current=true", "ordering=-effective_from", "ordering=provider",
               "effective_from_after=2025-03-01", "as_of=2025-02-01", "model=gpt-4o", "effective_from_after=2099-01-01",
               "ordering=-id&provider=openai&current=true", "effective_from_after=9999-01-01"],
    "current-prices": ["", "provider=openai"],
    "price-changes": ["", "provider=openai", "ordering=-changed_at"],
    "offerings": ["", "provider=openai"],
}


def view_for(prefix: str, query: str):
    viewset = next(v for p, v, _ in router.registry if p == prefix)
    request = Request(APIRequestFactory().get(f"/api/v1/{prefix}/?{query}"))
    view = viewset(request=request, format_kwarg=None, action="list", kwargs={})
    return view, plan_for(view.get_serializer_class()).bind(request)


def text(blocks) -> bytes:
    return b"".join(b if isinstance(b, bytes) else b.encode() for b in blocks)


def the_three(prefix: str, query: str) -> tuple[bytes, bytes, bytes]:
    """The export (pgcopy), the all-SQL COPY of the same join, and the Python converters' CSV."""
    view, bound = view_for(prefix, query)
    queryset = view.filter_queryset(view.get_queryset())
    export = export_query(bound, queryset)
    assert export is not None
    reference = postgres_copy_query(bound, queryset)
    python = bound.csv_blocks(queryset.values_list(*bound.plan.paths))
    return text(export.blocks()), text(postgres_csv_blocks(bound, reference)), "".join(python).encode()


@pytest.fixture
def hostile(economics):
    """Provider names, raw ids and regions that need quoting or the formula guard, on rows that get prices."""
    offerings = list(Offering.objects.order_by("pk"))
    for i, offering in enumerate(offerings):
        offering.source_model_id = f"{HOSTILE[i % len(HOSTILE)]}{offering.source_model_id}"
        offering.region = HOSTILE[(i + 3) % len(HOSTILE)]
        offering.mode = HOSTILE[(i + 5) % len(HOSTILE)] if i % 2 else ""
    Offering.objects.bulk_update(offerings, ["source_model_id", "region", "mode"])
    for i, provider in enumerate(Provider.objects.order_by("pk")):
        provider.name = HOSTILE[i % len(HOSTILE)] + provider.name
        provider.save(update_fields=["name"])


pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.parametrize(("prefix", "query"), [(p, q) for p, qs in QUERIES.items() for q in qs])
def test_it_writes_the_bytes_of_the_all_sql_copy(postgres, client_user, hostile, prefix, query):
    exported, reference, _ = the_three(prefix, query)
    assert exported == reference
    response = client_user.get(f"/api/v1/{prefix}/?{query}&format=csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == exported


@pytest.mark.postgres
@pytest.mark.parametrize(("prefix", "query"), [(p, q) for p, qs in QUERIES.items() for q in qs])
def test_it_writes_the_bytes_of_the_python_path_on_the_fixture(postgres, economics, prefix, query):
    exported, _, python = the_three(prefix, query)
    assert exported == python


@pytest.mark.postgres
def test_the_python_path_reads_back_the_same_cells_from_hostile_text(postgres, hostile):
    exported, _, python = the_three("prices", "")
    assert parse(exported) == parse(python)


@pytest.mark.postgres
def test_it_splices_the_offering_columns_of_prices_and_price_changes(postgres, economics):
    for prefix in ("prices", "price-changes"):
        view, bound = view_for(prefix, "")
        export = export_query(bound, view.filter_queryset(view.get_queryset()))
        assert export.related is not None, f"{prefix}: the offering columns should come from Python"
        assert export.points == (("L", 2), ("R", 1))  # after id and offering; before snapshot
        assert "catalog_provider" not in export.sql  # the joins left the per-row statement
        assert export.key_is_second_field and "_csv_key" not in export.sql  # the offering id is in the line


@pytest.mark.postgres
@pytest.mark.parametrize("prefix", [p for p, _, _ in router.registry])
def test_every_list_writes_the_bytes_of_the_all_sql_copy(postgres, client_user, economics, prefix):
    if prefix == "disagreements":
        second_opinion()
    view, bound = view_for(prefix, "")
    queryset = view.filter_queryset(view.get_queryset())
    export = export_query(bound, queryset)
    reference = postgres_copy_query(bound, queryset)
    assert (export is None) == (reference is None)
    if export is not None:
        assert text(export.blocks()) == text(postgres_csv_blocks(bound, reference))


@pytest.mark.postgres
def test_a_failing_copy_raises_and_leaves_the_connection_usable(postgres):
    with connection.cursor() as cursor, pytest.raises(Exception, match="division by zero"):
        list(copy_csv_blocks(cursor, "COPY (SELECT 1 / (g - 3) FROM generate_series(1, 5) g) TO STDOUT", ()))
    with connection.cursor() as cursor:
        # The failed statement aborted the test's transaction: roll back to a clean state, then query again.
        cursor.execute("ROLLBACK")
        cursor.execute("SELECT 42")
        assert cursor.fetchone() == (42,)


@pytest.mark.postgres
def test_it_yields_blocks_of_about_the_asked_size_whatever_the_row_count(postgres):
    sql = "COPY (SELECT g, repeat('x', 90) FROM generate_series(1, 20000) g) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        sizes = [len(block) for block in copy_csv_blocks(cursor, sql, (), block_bytes=64 * 1024)]
    assert sum(sizes) == sum(len(f"{g},{'x' * 90}\n") for g in range(1, 20001))
    assert len(sizes) > 20 and max(sizes) < 64 * 1024 + 200  # memory per block stays bounded


def parse(data: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def test_pg_csv_field_quotes_as_postgresql_does():
    assert pg_csv_field(None) == b""
    assert pg_csv_field("") == b'""'  # an empty string is not null
    assert pg_csv_field("plain text") == b"plain text"
    assert pg_csv_field('a "b", c') == b'"a ""b"", c"'
    assert pg_csv_field("x\ny") == b'"x\ny"' and pg_csv_field("x\ry") == b'"x\ry"'
    assert pg_csv_field("\\.") == b"\\."  # quoted by COPY only when it is the row's one column
    assert pg_csv_field("é") == "é".encode()


@pytest.mark.parametrize(("points", "line", "fragments", "expected"), [
    ((("L", 0),), b"7,a,b\n", (b",X,Y",), b"X,Y,a,b\n"),
    ((("R", 0),), b"7,a,b\n", (b",X",), b"a,b,X\n"),
    ((("L", 1), ("R", 1)), b"7,1,\"q,\"\"x\",2\n", (b",X", b",Y"), b"1,X,\"q,\"\"x\",Y,2\n"),
    ((("L", 2), ("R", 0)), b"7,1,2,\"a,b\"\n", (b",X", b",Y"), b"1,2,X,\"a,b\",Y\n"),
])
def test_splice_line_puts_the_cells_where_the_points_say(points, line, fragments, expected):
    assert splice_line(line, Splice(points=points, fragments={b"7": fragments})) == expected


@pytest.mark.postgres
@pytest.mark.parametrize("unit_prices", [
    [],
    [{"unit": "image", "usd_per_unit": "0.04000"}],
    [{"unit": "request", "usd_per_unit": "2.5E-3"}, {"unit": "second", "usd_per_unit": "x"}],
    -5,  # a JSON number: the formula guard's own case
    {},
])
def test_it_writes_unit_prices_as_the_all_sql_copy_with_or_without_the_empty_list_shortcut(postgres, client_user,
                                                                                            economics, unit_prices):
    from apps.pricing.models import Price

    first = Price.objects.order_by("pk").first()
    Price.objects.filter(pk=first.pk).update(unit_prices=unit_prices)
    view, bound = view_for("prices", "")
    export = export_query(bound, view.filter_queryset(view.get_queryset()))
    assert "= '[]'::jsonb THEN '[]' ELSE" in export.sql  # the shortcut is in the statement
    exported, reference, _ = the_three("prices", "")
    assert exported == reference
    assert exported.split(b"\n")[1].count(b"'-5") == (1 if unit_prices == -5 else 0)


@pytest.mark.postgres
def test_it_exports_without_jit(postgres, economics, monkeypatch):
    import apps.api_common.pgcopy as pgcopy

    view, bound = view_for("prices", "")
    export = export_query(bound, view.filter_queryset(view.get_queryset()))
    seen = []

    def spy(cursor, *args, **kwargs):
        cursor.execute("SHOW jit")
        seen.append(cursor.fetchone()[0])
        return copy_csv_blocks(cursor, *args, **kwargs)

    monkeypatch.setattr(pgcopy, "copy_csv_blocks", spy)
    assert text(export.blocks()).count(b"\n") > 1
    assert seen == ["off"]


# Instants whose text a shortcut could get wrong: fractions with trailing zeros (the server drops them), a
# microsecond, whole seconds, years before 1000, after 9999 and before Christ, infinities, null.
EDGE_TIMESTAMPS = ["2025-03-01 12:34:56.12345+00", "2025-03-01 12:34:56.1+00", "2025-03-01 12:34:56.100000+00",
                   "2025-03-01 12:34:56.000001+00", "2025-03-01 00:00:00+00", "2025-12-31 23:59:59.999999+00",
                   "0999-01-01 00:00:00.5+00", "0001-01-01 00:00:00+00", "10000-01-01 00:00:00.25+00",
                   "0044-03-15 12:00:00+00 BC", "infinity", "-infinity", None]


@pytest.mark.postgres
def test_timestamp_cell_writes_what_to_char_writes(postgres):
    from apps.common.timestamps import TIMESTAMP_SQL

    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('DateStyle', 'ISO', true), set_config('TimeZone', 'UTC', true)")
        formatted = TIMESTAMP_SQL.replace("{x}", "v")  # the constant the all-SQL reference writes with
        cursor.execute(f"SELECT v::text, {formatted} FROM unnest(%s::timestamptz[]) v", [EDGE_TIMESTAMPS])  # noqa: S608
        rows = cursor.fetchall()
    assert len(rows) == len(EDGE_TIMESTAMPS)
    for text, expected in rows:
        assert timestamp_cell((text or "").encode()) == (expected or "").encode(), text
    with pytest.raises(ValueError, match="unexpected timestamptz"):
        timestamp_cell(b"01.03.2025 12:34:56 CET")  # another DateStyle or zone: an error, not other bytes


@pytest.mark.postgres
@pytest.mark.parametrize(("prefix", "leading"), [("prices", 2), ("price-changes", 1)])
def test_it_has_the_server_write_the_timestamps_after_the_offering_raw(postgres, economics, prefix, leading):
    view, bound = view_for(prefix, "")
    export = export_query(bound, view.filter_queryset(view.get_queryset()))
    assert export.leading_timestamps == leading
    assert export.sql.count("to_char(") == {"prices": 2, "price-changes": 0}[prefix]  # the others keep to_char


@pytest.mark.postgres
@pytest.mark.parametrize("session", [("ISO, MDY", "UTC"), ("SQL, DMY", "America/New_York"),
                                     ("German", "Asia/Kolkata"), ("Postgres, YMD", "Pacific/Chatham")])
def test_it_writes_edge_timestamps_as_the_all_sql_copy_whatever_the_session(postgres, client_user, economics,
                                                                            session):
    from apps.pricing.models import Price, PriceChange

    finite = [value for value in EDGE_TIMESTAMPS if value not in ("infinity", "-infinity", None)]
    prices = list(Price.objects.order_by("pk")[:len(EDGE_TIMESTAMPS)])
    with connection.cursor() as cursor:
        for price, start, end in zip(prices, finite + finite, EDGE_TIMESTAMPS, strict=False):
            cursor.execute("UPDATE pricing_price SET effective_from = %s::timestamptz, effective_to = %s::timestamptz"
                           " WHERE id = %s", [start, end, price.pk])
        for change, at in zip(PriceChange.objects.order_by("pk"), finite, strict=False):
            cursor.execute("UPDATE pricing_pricechange SET changed_at = %s::timestamptz WHERE id = %s", [at, change.pk])
        cursor.execute("SELECT set_config('DateStyle', %s, true), set_config('TimeZone', %s, true)", list(session))
    for prefix, query in (("prices", ""), ("prices", "ordering=-effective_from"), ("price-changes", "")):
        # The export and the all-SQL COPY (Python's datetime, and so the Python path, stops at year 9999).
        view, bound = view_for(prefix, query)
        queryset = view.filter_queryset(view.get_queryset())
        exported = text(export_query(bound, queryset).blocks())
        assert exported == text(postgres_csv_blocks(bound, postgres_copy_query(bound, queryset)))
        if prefix == "prices":
            assert b"10000-01-01T00:00:00.250000Z" in exported and b"0044-03-15T12:00:00.000000Z" in exported
            assert b"2025-03-01T12:34:56.100000Z,2025-03-01T12:34:56.100000Z," in exported
