"""The Models page: readable canonical models with their attributes, cheapest market price, context window and
provider count; sortable, filterable by the new attributes, exported row for row."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from apps.catalog.models import Model, Offering
from apps.pricing.models import MarketPrice

from .html_tables import as_exported, read_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(subset, client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    return client


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _expected_cheapest(model: Model) -> tuple[Decimal, Decimal] | None:
    """Independently: the lowest 3:1 blend among the model's plain, non-zero standard base-context offers."""
    offers = [(m.input_usd_per_mtok, m.output_usd_per_mtok) for m in MarketPrice.objects.filter(
        model=model, service_tier="standard", min_prompt_tokens=0, price_label="")
        if m.input_usd_per_mtok and m.output_usd_per_mtok]
    return min(offers, key=lambda o: 3 * o[0] + o[1]) if offers else None


def test_it_lists_readable_models_with_cheapest_price_context_and_providers(web):
    rows = {r["Model"]: r for r in _csv(web.get("/models/?download=csv"))}
    row = rows["Llama 3 70B Instruct"]
    assert (row["Creator"], row["Family"], row["Parameters (billions)"], row["Modality"], row["Open weights"]) == (
        "Meta", "Llama", "70", "Text", "yes")
    model = Model.objects.get(slug="llama-3-70b-instruct")
    usd_in, usd_out = _expected_cheapest(model)
    assert (Decimal(row["Cheapest input (USD / 1M tokens)"]), Decimal(row["Cheapest output (USD / 1M tokens)"])) == (
        usd_in, usd_out)
    offerings = Offering.objects.filter(alias__model=model)
    assert int(row["Providers"]) == offerings.values("provider").distinct().count()
    assert int(row["Context (tokens)"]) == max(
        o.max_input_tokens for o in offerings if o.max_input_tokens)
    assert rows["Mixtral 8x7B Instruct"]["Active (billions)"] == "12.9"
    gpt4o = rows["GPT-4o"]
    assert (gpt4o["Creator"], gpt4o["Family"], gpt4o["Open weights"], gpt4o["Modality"]) == (
        "OpenAI", "GPT", "no", "Vision")
    assert rows["GPT-4o (2024-08-06)"]["Released"] == "2024-08-06"
    assert "llama-3-70b-instruct" not in rows and "gpt-4o" not in rows  # names, not slugs


def test_a_labelled_or_zero_price_is_never_the_cheapest(web):
    model = Model.objects.get(slug="llama-3-70b-instruct")
    cheapest = MarketPrice.objects.filter(model=model, service_tier="standard", min_prompt_tokens=0,
                                          price_label="").order_by("input_usd_per_mtok").first()
    MarketPrice.objects.filter(pk=cheapest.pk).update(input_usd_per_mtok=Decimal("0.000001"), price_label="free")
    other = MarketPrice.objects.filter(model=model, price_label="").exclude(pk=cheapest.pk).order_by("pk").first()
    MarketPrice.objects.filter(pk=other.pk).update(input_usd_per_mtok=Decimal(0))
    row = next(r for r in _csv(web.get("/models/?download=csv")) if r["Model"] == "Llama 3 70B Instruct")
    expected = _expected_cheapest(model)
    assert Decimal(row["Cheapest input (USD / 1M tokens)"]) == expected[0] > 0


def test_it_filters_by_the_new_attributes_and_sorts(web):
    closed = _csv(web.get("/models/?download=csv&open_weights=false"))
    assert closed and all(r["Open weights"] == "no" for r in closed)
    vision = _csv(web.get("/models/?download=csv&modality=vision&sort=-cheapest_input_usd_per_mtok"))
    assert vision and all(r["Modality"] == "Vision" for r in vision)
    prices = [Decimal(r["Cheapest input (USD / 1M tokens)"]) for r in vision if r["Cheapest input (USD / 1M tokens)"]]
    assert prices == sorted(prices, reverse=True)
    dated = _csv(web.get("/models/?download=csv&released_after=2024-06-01&sort=released_on"))
    assert dated and all(r["Released"] >= "2024-06-01" for r in dated)
    assert [r["Released"] for r in dated] == sorted(r["Released"] for r in dated)
    big = _csv(web.get("/models/?download=csv&min_parameters_b=65&creator=meta"))
    assert big and all(Decimal(r["Parameters (billions)"]) >= 65 and r["Creator"] == "Meta" for r in big)
    bad = web.get("/models/?open_weights=maybe")
    assert bad.status_code == 200 and "open_weights" in bad.content.decode()


def test_the_page_shows_exactly_what_the_csv_exports(web):
    query = "sort=-providers"
    html = web.get(f"/models/?{query}").content.decode()
    headers, shown = read_table(html, "models")
    exported = _csv(web.get(f"/models/?{query}&download=csv"))
    assert headers == list(exported[0])[:len(headers)]
    # The page shows the first hundred; the download holds every matching row in the same order.
    assert len(shown) == min(100, len(exported)) and len(exported) > 100
    assert [[as_exported(c) for c in row] for row in shown] == [
        list(r.values())[:len(headers)] for r in exported[:len(shown)]]
    second = web.get(f"/models/?{query}&page=2").content.decode()
    first_of_second = read_table(second, "models")[1][0]
    assert [as_exported(c) for c in first_of_second] == list(exported[100].values())[:len(headers)]
    assert 'name="modality"' in html and 'name="open_weights"' in html and 'name="creator"' in html
