"""Cursor pagination: stable while rows are inserted, ordering by any listed field, page sizes with a maximum."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.catalog.models import Offering
from apps.pricing.models import Price
from tests.api.conftest import all_pages

pytestmark = pytest.mark.django_db
URL = "/api/v1/prices/"


def add_price(input_usd_per_mtok: str | None, offering_from: Offering, n: int) -> Price:
    offering = Offering.objects.create(
        source=offering_from.source, provider=offering_from.provider, alias=offering_from.alias,
        source_model_id=f"inserted-{n}")
    return Price.objects.create(offering=offering, effective_from=datetime(2025, 1, 1, tzinfo=UTC), basis="observed",
                                snapshot_id=Price.objects.first().snapshot_id,
                                input_usd_per_mtok=None if input_usd_per_mtok is None else Decimal(input_usd_per_mtok))


def test_it_pages_through_every_row_once(client_user, prices):
    every = all_pages(client_user, f"{URL}?page_size=1000")
    paged = all_pages(client_user, f"{URL}?page_size=2")
    assert [r["id"] for r in paged] == [r["id"] for r in every] == sorted(r["id"] for r in every)


@pytest.mark.parametrize("ordering", ["input_usd_per_mtok", "-input_usd_per_mtok", "provider,-effective_from",
                                      "-model,input_usd_per_mtok", "effective_to"])
def test_it_keeps_pages_stable_while_rows_are_inserted(client_user, prices, ordering):
    """Rows inserted before and after the cursor: no row already seen comes back, none that existed is skipped."""
    expected = [r["id"] for r in all_pages(client_user, f"{URL}?ordering={ordering}&page_size=1000")]
    template = Offering.objects.get(source_model_id="gpt-4o", service_tier="standard")
    seen: list[int] = []
    url = f"{URL}?ordering={ordering}&page_size=3"
    n = 0
    while url:
        body = client_user.get(url).json()
        seen.extend(r["id"] for r in body["results"])
        if n < 9:
            for value in ("0.0001", "9999", None):  # sorts first, last and as null
                n += 1
                add_price(value, template, n)
        url = body["next"]
    existing = [i for i in seen if i in set(expected)]
    assert existing == expected
    assert len(seen) == len(set(seen))


def test_it_sorts_nulls_last_ascending_and_first_descending(client_user, prices):
    up = [r["input_usd_per_mtok"] for r in all_pages(client_user, f"{URL}?ordering=input_usd_per_mtok")]
    down = [r["input_usd_per_mtok"] for r in all_pages(client_user, f"{URL}?ordering=-input_usd_per_mtok")]
    assert up[-1] is None and down[0] is None
    numbers = [Decimal(v) for v in up if v is not None]
    assert numbers == sorted(numbers)


def test_it_goes_back_with_previous_links(client_user, prices):
    first = client_user.get(f"{URL}?page_size=3&ordering=-input_usd_per_mtok").json()
    assert first["previous"] is None
    second = client_user.get(first["next"]).json()
    back = client_user.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_it_refuses_a_cursor_from_another_ordering(client_user, prices):
    first = client_user.get(f"{URL}?page_size=2&ordering=provider").json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    response = client_user.get(f"{URL}?ordering=-provider&cursor={cursor}")
    assert response.status_code == 400 and "cursor" in response.json()


def test_it_serves_the_documented_maximum_page_size(client_user, prices, settings):
    assert client_user.get(f"{URL}?page_size={settings.TOKENWATCH_API_MAX_PAGE_SIZE}").status_code == 200
    response = client_user.get(f"{URL}?page_size={settings.TOKENWATCH_API_MAX_PAGE_SIZE + 1}")
    assert response.status_code == 400 and "1000" in response.json()["page_size"][0]
