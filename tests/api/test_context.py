"""Offering context kept per data version (apps/api_common/context.py): the same bytes as the joined read,
and never a value older than the newest committed write."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.api_common.context import RelatedContext
from apps.catalog.models import Model, ModelAlias, Offering, Provider
from apps.pricing.api.views import CurrentPriceViewSet, PriceChangeViewSet, PriceViewSet

pytestmark = pytest.mark.django_db

VIEWS = (PriceViewSet, CurrentPriceViewSet, PriceChangeViewSet)
QUERIES = [
    "/api/v1/prices/", "/api/v1/prices/?provider=openai", "/api/v1/prices/?provider=openai&page_size=2",
    "/api/v1/prices/?effective_from_after=2025-07-01", "/api/v1/prices/?ordering=-effective_from,provider",
    "/api/v1/prices/?model=gpt-4o", "/api/v1/prices/?as_of=2025-03-01", "/api/v1/prices/?currency=EUR",
    "/api/v1/prices/?format=csv", "/api/v1/current-prices/", "/api/v1/current-prices/?provider=openai",
    "/api/v1/price-changes/", "/api/v1/price-changes/?provider=openai",
]


def body(client, path: str) -> tuple[int, bytes]:
    response = client.get(path)
    return response.status_code, b"".join(response.streaming_content) if response.streaming else response.content


def test_it_answers_as_the_joined_read(prices, anon, public_api, monkeypatch):
    for path in QUERIES:
        first, again = body(anon, path), body(anon, path)  # the second from what the first kept
        with monkeypatch.context() as patched:
            for view in VIEWS:
                patched.setattr(view, "row_context", None)
            joined = body(anon, path)
        assert first == again == joined, path


def test_it_reads_no_offering_twice_for_one_data_version(prices, anon, public_api, postgres):
    anon.get("/api/v1/prices/")
    with CaptureQueriesContext(connection) as queries:
        response = anon.get("/api/v1/prices/")
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if "pricing_price" in s]) == 2, sql  # the page's ids, then its own columns
    assert not [s for s in sql if "catalog_offering" in s], sql  # no join, no offering read


def names_of(client, slug: str) -> set[tuple[str, str | None]]:
    rows = client.get(f"/api/v1/prices/?provider={slug}").json()["results"]
    return {(row["provider_name"], row["model"]) for row in rows}


def test_it_shows_an_edit_on_the_next_page(prices, anon, public_api):
    assert {name for name, _model in names_of(anon, "openai")} == {"OpenAI"}
    Provider.objects.filter(slug="openai").update(name="OpenAI, renamed")
    assert {name for name, _model in names_of(anon, "openai")} == {"OpenAI, renamed"}
    # A curator points a raw id at another canonical model: the offering's own columns are unchanged.
    offering = Offering.objects.filter(provider__slug="groq").first()
    other = Model.objects.create(slug="llama-3-70b-groq-build", family="llama-3")
    ModelAlias.objects.filter(pk=offering.alias_id).update(model=other)
    rows = anon.get("/api/v1/prices/?provider=groq").json()["results"]
    assert {row["model"] for row in rows if row["offering"] == offering.pk} == {"llama-3-70b-groq-build"}


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_committed_edit_on_the_next_page(prices, anon, public_api):
    # Writes in autocommit and in a transaction, committed as ingests and the admin commit them.
    names_of(anon, "groq")
    Provider.objects.filter(slug="groq").update(name="Groq, autocommit")
    assert names_of(anon, "groq") == {("Groq, autocommit", "llama-3-70b-instruct")}
    with transaction.atomic():
        Provider.objects.filter(slug="groq").update(name="Groq, in a transaction")
    assert names_of(anon, "groq") == {("Groq, in a transaction", "llama-3-70b-instruct")}


def test_a_page_of_an_older_version_neither_uses_nor_keeps_a_newer_map():
    context = RelatedContext("offering")
    kept = context._current(1, 7)
    kept[10] = ("acme",)
    assert context._current(1, 7) is kept
    older = context._current(1, 6)
    assert older == {} and older is not kept
    assert context._current(1, 7) is kept  # still the newest version's
    newer = context._current(1, 8)
    assert newer == {} and context._current(1, 8) is newer  # a new version starts empty


def test_it_leaves_out_rows_whose_offering_is_gone(prices, anon, public_api, monkeypatch, postgres):
    page = json.loads(body(anon, "/api/v1/prices/?provider=groq")[1])["results"]
    assert page
    # An offering deleted between the page's statement and the read of its columns (prices go with it).
    monkeypatch.setattr(RelatedContext, "_current", lambda self, plan, version: {})
    original = Offering._default_manager.all

    def without_groq():
        return original().exclude(provider__slug="groq")

    monkeypatch.setattr(Offering._default_manager, "all", without_groq)
    from apps.api_common import rows

    monkeypatch.setattr(rows, "_compiled", {})  # compile the offering read against the patched manager
    assert json.loads(body(anon, "/api/v1/prices/?provider=groq")[1])["results"] == []
