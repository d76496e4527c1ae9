"""Watch pages: signed-in only, one's own only, a form with clear errors, pause/resume and delete."""

from __future__ import annotations

import pytest

from apps.alerts.models import Watch
from apps.catalog.models import Model, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(db):
    Provider.objects.create(slug="groq", name="Groq")
    return Model.objects.create(slug="llama-3.1-70b-instruct", name="Llama 3.1 70B Instruct", size_class="70b-class")


def test_it_needs_a_signed_in_user(client):
    response = client.get("/watches/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_creates_a_watch_from_the_form(client, user, catalog):
    client.force_login(user)
    assert 'href="/watches/"' in client.get("/").content.decode()  # the nav link, signed in
    response = client.post("/watches/new/", {
        "name": "70B under a dollar", "target": "size-class", "size_class": "70b-class", "condition": "below",
        "component": "blended", "blend_input_ratio": 3, "blend_output_ratio": 1, "threshold_usd_per_mtok": "1",
        "email": "on"})
    watch = Watch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/watches/{watch.pk}/"
    assert (watch.owner, watch.target, watch.size_class, watch.model) == (user, "size-class", "70b-class", None)
    page = client.get(f"/watches/{watch.pk}/").content.decode()
    assert "70B under a dollar" in page and "No alerts yet." in page and "No deliveries yet." in page
    assert "70b-class" in client.get("/watches/").content.decode()


def test_the_form_says_what_is_wrong(client, user, catalog):
    client.force_login(user)
    response = client.post("/watches/new/", {
        "target": "offering", "model": "no-such-model", "condition": "change", "component": "input_usd_per_mtok",
        "blend_input_ratio": 3, "blend_output_ratio": 1, "webhook_url": "https://10.0.0.1/hook"})
    page = response.content.decode()
    assert response.status_code == 200 and not Watch.objects.exists()  # the form again, with its errors
    assert "No model has this slug." in page
    assert "Choose a provider for this target." in page
    assert "Give the change in percent" in page
    assert "a private address" in page and "A webhook needs a secret" in page


def test_pause_resume_and_delete(client, user, catalog):
    watch = Watch.objects.create(owner=user, target="model", model=catalog, condition="disappears")
    client.force_login(user)
    client.post(f"/watches/{watch.pk}/pause/", {"paused": "1"})
    watch.refresh_from_db()
    assert watch.paused
    client.post(f"/watches/{watch.pk}/pause/", {"paused": "0", "next": "list"})
    watch.refresh_from_db()
    assert not watch.paused
    assert client.get(f"/watches/{watch.pk}/delete/").status_code == 200  # a confirmation first
    assert client.post(f"/watches/{watch.pk}/delete/")["Location"] == "/watches/"
    assert not Watch.objects.exists()


def test_another_users_watch_is_a_404(client, user, other_user, catalog):
    theirs = Watch.objects.create(owner=other_user, target="model", model=catalog, condition="disappears")
    client.force_login(user)
    for url in (f"/watches/{theirs.pk}/", f"/watches/{theirs.pk}/delete/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/watches/{theirs.pk}/pause/", {"paused": "1"}).status_code == 404
    assert client.post(f"/watches/{theirs.pk}/delete/").status_code == 404
    assert "llama" not in client.get("/watches/").content.decode().lower()
    theirs.refresh_from_db()
    assert not theirs.paused
