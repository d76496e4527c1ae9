"""Who may see the dashboard: analysts and staff; anonymous visitors only while the demo setting allows."""

import pytest

pytestmark = pytest.mark.django_db

PAGES = ["/", "/trends/", "/compare/", "/benchmarks/", "/market/", "/sources/", "/models/", "/providers/"]


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(client, settings, url):
    settings.TOKENWATCH_PUBLIC_API = False
    response = client.get(url + "?model=x")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "model%3Dx" in response["Location"]  # back to the same view, filters and all, after signing in


def test_it_reads_the_public_setting_at_request_time(client, settings):
    settings.TOKENWATCH_PUBLIC_API = True
    assert client.get("/sources/").status_code == 200
    settings.TOKENWATCH_PUBLIC_API = False
    assert client.get("/sources/").status_code == 302


def test_it_lets_a_signed_in_analyst_in(analyst, settings):
    settings.TOKENWATCH_PUBLIC_API = False
    response = analyst.get("/sources/")
    assert response.status_code == 200
    assert b"Sign out analyst" in response.content


def test_the_login_page_has_labelled_fields_and_signs_in(client, django_user_model):
    django_user_model.objects.create_user("ana", password="pw-ana-123")
    page = client.get("/accounts/login/?next=/market/")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<label for="id_username">' in body and '<label for="id_password">' in body
    response = client.post("/accounts/login/", {"username": "ana", "password": "pw-ana-123", "next": "/market/"})
    assert response.status_code == 302 and response["Location"] == "/market/"


def test_raw_snapshots_stay_staff_only_and_their_links_show_only_to_staff(analyst, admin_client, subset):
    from apps.sources.models import Snapshot

    snapshot = Snapshot.objects.first()
    assert analyst.get(f"/snapshots/{snapshot.pk}/raw/").status_code == 302
    assert f"/snapshots/{snapshot.pk}/raw/" not in analyst.get("/sources/").content.decode()
    assert f"/snapshots/{snapshot.pk}/raw/" in admin_client.get("/sources/").content.decode()
    assert admin_client.get(f"/snapshots/{snapshot.pk}/raw/").content == bytes(snapshot.content)
