"""The lean page of /api/v1/prices/ answers exactly what the FilterSet path answers, byte for byte.

Every query string of the corpus is asked twice: with the list's ``lean`` id query (what the API
does) and with it switched off (the FilterSet and the ORM, as before). Status, body and the headers
a client reads must be equal, and following ``next`` and ``previous`` links must walk the same
pages. The corpus covers what the lean path takes (provider, effective_from_after, cursors,
page_size, format=json) and what it must hand on unchanged (errors, other filters and orderings,
repeated and empty parameters, CSV, indented JSON).
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from django.test.utils import CaptureQueriesContext

from apps.api_common.pagination import SortKey, encode_cursor
from apps.api_common.views import FilterBackend
from apps.pricing.api.views import PriceViewSet
from apps.pricing.models import Price

pytestmark = pytest.mark.django_db

CSRF_TOKEN = re.compile(rb'("csrfToken": "|name="csrfmiddlewaretoken" value=")[^"]+')
HEADERS = ("Content-Type", "Content-Disposition", "Vary", "Allow", "Retry-After")

ID_KEYS = [SortKey("id", "pk", False, False)]


def cursor_after(value, *, reverse: bool = False) -> str:
    return encode_cursor(keys=ID_KEYS, values=[value], reverse=reverse)


def corpus(prices_ids: list[int]) -> list[str]:
    middle = prices_ids[len(prices_ids) // 2]
    queries = [
        "", "provider=openai", "provider=groq", "provider=ollama", "provider=no-such-provider",
        "provider=open%00ai", "provider=", "provider=openai&provider=azure", "provider=openai&provider=openai",
        "effective_from_after=2025-01-01", "effective_from_after=2025-07-01", "effective_from_after=2025-06-30",
        "effective_from_after=2025-07-01T00:00:00Z", "effective_from_after=2025-07-01T02:00:00%2B02:00",
        "effective_from_after=2025-06-30T23:59:59.999999-00:01", "effective_from_after=0000-01-01",
        "effective_from_after=9999-12-31", "effective_from_after=2025-02-30", "effective_from_after=yesterday",
        "effective_from_after=", "effective_from_after=2025-01-01&effective_from_after=2025-07-01",
        "provider=openai&effective_from_after=2025-01-01", "provider=openai&effective_from_after=2025-07-01",
        "provider=openai&effective_from_after=2030-01-01", "provider=nobody&effective_from_after=2025-01-01",
        "provider=openai&effective_from_after=not-a-date",
        "provider=openai&page_size=1", "provider=openai&page_size=2", "page_size=3", "page_size=1000",
        "page_size=0", "page_size=1001", "page_size=abc", "page_size=", "page_size=1&page_size=2",
        "provider=openai&format=json", "provider=openai&format=csv", "provider=openai&format=xml",
        "provider=openai&format=api",
        "provider=openai&ordering=id", "provider=openai&ordering=-id", "provider=openai&ordering=effective_from",
        "provider=openai&ordering=nonsense", "provider=openai&model=gpt-4o", "provider=openai&service_tier=batch",
        "provider=openai&current=true", "provider=openai&as_of=2025-03-01", "provider_kind=first-party",
        "provider=openai&unknown_parameter=1",
        f"cursor={cursor_after(middle)}", f"cursor={cursor_after(middle, reverse=True)}",
        f"provider=openai&cursor={cursor_after(middle)}&page_size=2",
        f"provider=openai&cursor={cursor_after(middle, reverse=True)}&page_size=2",
        f"provider=openai&effective_from_after=2025-01-01&cursor={cursor_after(0)}",
        f"cursor={cursor_after(10**12)}", f"cursor={cursor_after(10**12, reverse=True)}",
        f"cursor={cursor_after(None)}", f"cursor={cursor_after(None, reverse=True)}",
        f"cursor={cursor_after('abc')}", f"cursor={cursor_after(True)}", f"cursor={cursor_after(1.5)}",
        "cursor=not-a-cursor", "cursor=", f"cursor={cursor_after(middle)}&cursor={cursor_after(0)}",
        "cursor=" + encode_cursor(keys=[SortKey("effective_from", "effective_from", True, True), *ID_KEYS],
                                  values=[None, middle], reverse=False),
        f"provider=openai&page_size=abc&cursor={cursor_after(middle)}",
        "provider=no-such&page_size=abc", "provider=openai&cursor=broken&page_size=5000",
    ]
    return queries


def answer(client, path: str, **extra):
    response = client.get(path, **extra)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    # The browsable API's page carries a fresh CSRF token each time; nothing else in a body may differ.
    body = CSRF_TOKEN.sub(rb"\1<token>", body)
    return response.status_code, body, {h: response.get(h) for h in HEADERS}


def both(client, monkeypatch, path: str, **extra):
    lean = answer(client, path, **extra)
    with monkeypatch.context() as patched:
        patched.setattr(PriceViewSet, "lean", None)
        general = answer(client, path, **extra)
    return lean, general


def test_it_answers_every_query_of_the_corpus_as_the_filterset_path_does(prices, anon, public_api, monkeypatch):
    ids = sorted(Price.objects.values_list("pk", flat=True))
    assert len(ids) > 6
    for query in corpus(ids):
        path = f"/api/v1/prices/?{query}"
        lean, general = both(anon, monkeypatch, path)
        assert lean == general, path


def test_it_answers_alike_for_indented_json_and_csv_accept_headers(prices, anon, public_api, monkeypatch):
    for accept in ("application/json; indent=2", "text/csv", "application/json", "text/html"):
        lean, general = both(anon, monkeypatch, "/api/v1/prices/?provider=openai&page_size=2", HTTP_ACCEPT=accept)
        assert lean == general, accept


def test_it_walks_the_same_pages_forward_and_back(prices, anon, public_api, monkeypatch):
    for start in ("/api/v1/prices/?page_size=2", "/api/v1/prices/?provider=openai&page_size=1",
                  "/api/v1/prices/?provider=openai&effective_from_after=2025-01-01&page_size=2",
                  f"/api/v1/prices/?effective_from_after={quote('2025-07-01T00:00:00+00:00')}&page_size=1"):
        url, seen = start, 0
        while url:  # forward to the end
            lean, general = both(anon, monkeypatch, url)
            assert lean == general, url
            body = json.loads(lean[1])
            seen += len(body["results"])
            last, url = body, body["next"]
        assert seen > 0
        url = last["previous"]
        while url:  # and back to the start
            lean, general = both(anon, monkeypatch, url)
            assert lean == general, url
            url = json.loads(lean[1])["previous"]


def test_it_takes_the_hot_query_without_a_filterset(prices, anon, public_api, monkeypatch):
    def no_filterset(*args, **kwargs):
        raise AssertionError("the lean path built a FilterSet")

    anon.get("/api/v1/prices/?provider=openai")  # the slug map, once per process
    monkeypatch.setattr(FilterBackend, "get_filterset", no_filterset)
    ids = sorted(Price.objects.filter(provider__slug="openai").values_list("pk", flat=True))
    from django.db import connection

    for path in ("/api/v1/prices/?provider=openai&effective_from_after=2025-01-01",
                 f"/api/v1/prices/?provider=openai&page_size=1&cursor={cursor_after(ids[0])}",
                 "/api/v1/prices/?effective_from_after=2025-01-01&format=json"):
        with CaptureQueriesContext(connection) as queries:
            response = anon.get(path)
        assert response.status_code == 200, response.content
        sql = [q["sql"] for q in queries.captured_queries]
        assert len([s for s in sql if "pricing_price" in s]) == 2, sql  # the page's ids, then its rows


def test_it_hands_other_queries_to_the_filterset(prices, anon, public_api, monkeypatch):
    built = []
    original = FilterBackend.get_filterset

    def counting(self, *args, **kwargs):
        built.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FilterBackend, "get_filterset", counting)
    for query in ("provider=openai&model=gpt-4o", "provider=openai&ordering=-id", "provider=",
                  "provider=no-such-provider", "effective_from_after=bad", "provider=openai&provider=azure"):
        built.clear()
        anon.get(f"/api/v1/prices/?{query}")
        assert built, query


@pytest.mark.parametrize("value", ["abc", "1e400", [1], {"a": 1}])
def test_a_cursor_whose_id_is_not_a_number_is_a_400_on_both_paths(prices, anon, public_api, monkeypatch, value):
    # A forged cursor used to reach the ORM, whose int() raised: a 500 with a traceback.
    token = encode_cursor(keys=ID_KEYS, values=["placeholder"], reverse=False)
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    payload["v"] = [["s", value]] if isinstance(value, str) else [["i", value]]
    token = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    for query in (f"cursor={token}", f"provider=openai&cursor={token}"):
        lean, general = both(anon, monkeypatch, f"/api/v1/prices/?{query}")
        assert lean == general
        assert lean[0] == 400, lean
        assert json.loads(lean[1]) == {"cursor": ["Invalid cursor: use the next/previous link of a response as it is."]}
