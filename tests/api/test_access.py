"""Who may read and write: tokens, sessions, the public-API switch, staff-only writes, throttling."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
URL = "/api/v1/prices/"


def test_it_refuses_anonymous_reads_with_a_401_naming_the_scheme(anon, prices):
    response = anon.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "api_token" in response.json()["detail"]


def test_it_lets_anyone_read_when_the_api_is_public(anon, public_api, prices):
    assert anon.get(URL).status_code == 200
    assert anon.get(f"{URL}?format=csv").status_code == 200


def test_it_accepts_token_and_bearer_headers_and_refuses_a_bad_token(anon, user, prices):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=user).key
    assert anon.get(URL, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert anon.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    assert anon.get(URL, HTTP_AUTHORIZATION="Token not-a-key").status_code == 401
    assert anon.get(URL, HTTP_AUTHORIZATION="Token a b").status_code == 401


def test_it_accepts_a_browser_session(user, prices):
    browser = Client()
    browser.force_login(user)
    assert browser.get(URL).status_code == 200


def test_it_keeps_writes_for_staff_even_when_the_api_is_public(anon, client_user, public_api, prices):
    assert anon.post("/api/v1/sources/litellm/fetch/").status_code == 401
    assert client_user.post("/api/v1/sources/litellm/fetch/").status_code == 403
    assert client_user.post(URL, {}).status_code == 403
    assert client_user.delete(f"{URL}1/").status_code == 403


def test_it_refuses_writes_to_read_only_tables_even_for_staff(client_staff, prices):
    assert client_staff.post(URL, {}, format="json").status_code == 405
    assert client_staff.delete(f"{URL}1/").status_code == 405


def test_it_throttles_anonymous_clients_with_retry_after(anon, public_api, settings, prices):
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": "2/min", "user": "1000/min"}
    assert [anon.get(URL).status_code for _ in range(2)] == [200, 200]
    response = anon.get(URL)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_it_throttles_per_token(client_user, client_staff, settings, prices):
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": "1000/min", "user": "3/min"}
    assert [client_user.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    # Another token has its own budget.
    assert client_staff.get(URL).status_code == 200


def test_it_serves_the_browsable_api_to_a_signed_in_browser(user, prices):
    from apps.pricing.models import Price

    browser = Client()
    browser.force_login(user)
    for url in ("/api/v1/", "/api/v1/prices/?provider=openai", f"/api/v1/prices/{Price.objects.first().pk}/",
                "/api/v1/compare/?model=gpt-4o&input_tokens=10&output_tokens=10"):
        response = browser.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
    assert b"/api/auth/logout/" in browser.get("/api/v1/", HTTP_ACCEPT="text/html").content


def test_it_answers_json_404s_for_unknown_api_paths(client_user):
    response = client_user.get("/api/v1/no-such-table/")
    assert response.status_code == 404 and "detail" in response.json()
    redirect = client_user.get("/api/v1/prices?format=csv")
    assert redirect.status_code == 301 and redirect["Location"] == "/api/v1/prices/?format=csv"


def test_it_holds_anonymous_clients_to_the_anonymous_rate_only(anon, public_api, settings, prices):
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": "5/min", "user": "2/min"}
    assert [anon.get(URL).status_code for _ in range(6)] == [200] * 5 + [429]


def test_it_can_switch_a_throttle_off(anon, public_api, settings, prices):
    settings.TOKENWATCH_API_THROTTLE_RATES = {"anon": None, "user": "1/min"}
    assert {anon.get(URL).status_code for _ in range(5)} == {200}
