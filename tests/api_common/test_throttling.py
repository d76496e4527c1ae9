"""Throttles in one process: anonymous pages, forged client addresses, the counters' cache (issue 12).

The limits across processes are tests/api_common/test_throttling_processes.py.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.core.cache import caches
from django.test import Client
from rest_framework.authtoken.models import Token

from apps.api_common.cache import AtomicDatabaseCache


@pytest.fixture
def public(settings, monkeypatch):
    # One instant for every request of a test: django-ratelimit's windows are fixed, so a window that ended
    # between a test's requests (a slow first page on a loaded CI machine) reset the count mid-test.
    frozen = int(time.time())
    monkeypatch.setattr("django_ratelimit.core.time", SimpleNamespace(time=lambda: frozen))
    settings.TOKENWATCH_PUBLIC_API = True
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": "100000/min", "user": "100000/min"}
    settings.TOKENWATCH_PAGE_THROTTLE_ANON = "100000/min"
    return settings


def test_it_throttles_anonymous_pages_with_a_readable_page_and_retry_after(db, public):
    public.TOKENWATCH_PAGE_THROTTLE_ANON = "2/min"
    client = Client()
    assert [client.get("/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/models/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("text/html")
    assert b"Too many requests" in response.content
    assert f"try again in {response['Retry-After']} second".encode() in response.content


def test_it_counts_pages_apart_from_the_api(db, public):
    public.TOKENWATCH_PAGE_THROTTLE_ANON = "1/min"
    public.TOKENWATCH_API_THROTTLE_RATES = {"anon": "1/min", "user": "1/min"}
    client = Client()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/").status_code == 200
    assert client.get("/").status_code == 429
    assert client.get("/api/v1/").status_code == 429


def test_it_does_not_hold_signed_in_users_to_the_page_rate(db, public, django_user_model):
    public.TOKENWATCH_PAGE_THROTTLE_ANON = "1/min"
    client = Client()
    client.force_login(django_user_model.objects.create_user("analyst", password="pw-analyst-1"))
    assert {client.get("/").status_code for _ in range(3)} == {200}


def test_it_sends_anonymous_visitors_of_private_pages_to_the_login_page_not_a_429(db, public):
    public.TOKENWATCH_PUBLIC_API = False
    public.TOKENWATCH_PAGE_THROTTLE_ANON = "1/min"
    assert {Client().get("/").status_code for _ in range(3)} == {302}


def test_it_can_switch_the_page_throttle_off(db, public):
    public.TOKENWATCH_PAGE_THROTTLE_ANON = None
    assert {Client().get("/").status_code for _ in range(3)} == {200}


def test_it_does_not_believe_a_forwarded_for_header_the_client_wrote(db, public):
    # DRF's get_ident keyed anonymous clients by X-Forwarded-For when present, so a new made-up
    # address per request escaped the limit.
    public.TOKENWATCH_API_THROTTLE_RATES = {"anon": "2/min", "user": "100000/min"}
    public.TOKENWATCH_PAGE_THROTTLE_ANON = "2/min"
    client = Client()
    codes = [client.get(path, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
             for path in ("/api/v1/", "/") for n in range(3)]
    assert codes == [200, 200, 429, 200, 200, 429]


def test_it_counts_every_token_against_its_own_budget(db, public, django_user_model):
    public.TOKENWATCH_API_THROTTLE_RATES = {"anon": "100000/min", "user": "2/min"}
    first, second = (Token.objects.create(user=django_user_model.objects.create_user(name, password="pw-x-12345"))
                     for name in ("first", "second"))
    client = Client()
    codes = [client.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {first.key}").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/v1/", HTTP_AUTHORIZATION=f"Token {second.key}").status_code == 200


def test_it_keeps_throttle_counters_in_the_database_without_redis(settings):
    if settings.CACHES["throttle"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("CACHE_URL is set: the counters are in Redis")
    assert isinstance(caches["throttle"], AtomicDatabaseCache)


def test_it_increments_the_database_cache_like_the_base_cache(db, settings):
    settings.CACHES = {**settings.CACHES, "throttle": {
        "BACKEND": "apps.api_common.cache.AtomicDatabaseCache", "LOCATION": "tokenwatch_cache"}}
    cache = caches["throttle"]
    assert cache.add("k", 1, 60) is True
    assert cache.add("k", 1, 60) is False
    assert [cache.incr("k"), cache.incr("k", 5)] == [2, 7]
    assert cache.get("k") == 7
    with pytest.raises(ValueError):
        cache.incr("missing")
    cache.set("expired", 1, -1)
    with pytest.raises(ValueError):
        cache.incr("expired")


def test_it_keys_clients_by_the_header_a_trusted_proxy_sets_when_told_to(db, public):
    public.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    public.TOKENWATCH_API_THROTTLE_RATES = {"anon": "1/min", "user": "100000/min"}
    client = Client()
    codes = [client.get("/api/v1/", HTTP_X_REAL_IP=address).status_code
             for address in ("198.51.100.1", "198.51.100.2", "198.51.100.1")]
    assert codes == [200, 200, 429]


def test_it_throttles_clients_without_an_address_together_instead_of_failing(db, public):
    # A peer on a unix socket (gunicorn behind nginx) has an empty REMOTE_ADDR, on which django-ratelimit raises.
    public.TOKENWATCH_API_THROTTLE_RATES = {"anon": "2/min", "user": "100000/min"}
    public.TOKENWATCH_PAGE_THROTTLE_ANON = "1/min"
    client = Client(REMOTE_ADDR="")
    assert [client.get("/api/v1/").status_code for _ in range(3)] == [200, 200, 429]
    assert [client.get("/").status_code for _ in range(2)] == [200, 429]


def test_it_adds_to_a_live_key_without_a_failing_insert(db, settings):
    # Django's DatabaseCache.add INSERTs and lets the primary key refuse a live key: an error in
    # PostgreSQL's log and a rollback on every throttled request after a window's first.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.CACHES = {**settings.CACHES, "throttle": {
        "BACKEND": "apps.api_common.cache.AtomicDatabaseCache", "LOCATION": "tokenwatch_cache"}}
    cache = caches["throttle"]
    assert cache.add("window", 1, 60) is True
    with CaptureQueriesContext(connection) as queries:
        assert cache.add("window", 1, 60) is False
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    cache.set("stale", 1, -1)  # an expired row is taken over, as Django's add does
    assert cache.add("stale", 5, 60) is True and cache.get("stale") == 5
