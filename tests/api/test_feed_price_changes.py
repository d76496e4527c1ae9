"""/feeds/price-changes/: an Atom feed of price changes, filtered like the API."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

pytestmark = pytest.mark.django_db
URL = "/feeds/price-changes/"
ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response) -> list[ElementTree.Element]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/atom+xml")
    return ElementTree.fromstring(response.content).findall(f"{ATOM}entry")  # noqa: S314 (our own feed)


def test_it_publishes_each_change_with_its_source(client_user, prices):
    items = entries(client_user.get(URL))
    titles = sorted(e.findtext(f"{ATOM}title") for e in items)
    assert titles == [
        "OpenAI gpt-4o input_usd_per_mtok: 5 → 2.5 USD per 1M tokens (-50.00%)",
        "OpenAI gpt-4o output_usd_per_mtok: 15 → 10 USD per 1M tokens (-33.33%)",
    ]
    summary = items[0].findtext(f"{ATOM}summary")
    assert "Source: litellm" in summary and "2025-07-01" in summary
    assert items[0].findtext(f"{ATOM}id").startswith("tag:tokenwatch,2024:price-change/")
    assert items[0].findtext(f"{ATOM}updated").startswith("2025-07-01T00:00:00")


def test_it_filters_by_provider_model_and_minimum_change(client_user, prices):
    assert len(entries(client_user.get(f"{URL}?provider=openai&model=gpt-4o"))) == 2
    assert entries(client_user.get(f"{URL}?provider=groq")) == []
    assert len(entries(client_user.get(f"{URL}?min_percent_change=40"))) == 1


def test_it_names_a_bad_parameter(client_user, prices):
    response = client_user.get(f"{URL}?min_percent_change=a-lot&provider=nobody")
    assert response.status_code == 400
    assert set(response.json()) == {"min_percent_change", "provider"}


def test_it_needs_a_reader_unless_the_api_is_public(anon, client_user, settings, prices):
    response = anon.get(URL)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert client_user.get(URL).status_code == 200  # an API token works for feed readers that can send one
    settings.TOKENWATCH_PUBLIC_API = True
    assert anon.get(URL).status_code == 200
