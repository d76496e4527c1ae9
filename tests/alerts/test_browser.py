"""The watch pages in headless Chromium: sign in, create a watch (errors first), pause, resume, delete."""

from __future__ import annotations

import pytest

from apps.alerts.models import Watch
from tests.routing.conftest import MODEL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, site, django_user_model):
    django_user_model.objects.create_user("ann", email="ann@example.com", password="pw-ann-123456")
    page.goto(f"{site}/watches/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", "ann")
    page.fill("#id_password", "pw-ann-123456")
    page.click("form button[type=submit]")
    page.wait_for_url("**/watches/")
    return page


def test_it_creates_pauses_and_deletes_a_watch(signed_in):
    page = signed_in
    assert page.locator("nav a[aria-current=page]").inner_text() == "Watches"
    assert page.locator("[data-empty]").count() == 1
    page.click("[data-new-watch]")
    page.select_option("#id_target", "model")
    page.fill("#id_model", MODEL)
    page.select_option("#id_condition", "below")
    page.click("[data-watch-form] button[type=submit]")
    # No threshold: the form comes back saying so, with what was typed kept.
    assert "Give the threshold" in page.locator("[data-error-for=threshold_usd_per_mtok]").inner_text()
    assert page.input_value("#id_model") == MODEL
    page.fill("#id_threshold_usd_per_mtok", "0.5")
    page.fill("#id_name", "Llama 3 70B under 0.5")
    page.click("[data-watch-form] button[type=submit]")
    page.wait_for_url("**/watches/*/")
    assert page.locator("h1").inner_text() == "Llama 3 70B under 0.5"
    assert "active" in page.locator("[data-state]").inner_text()
    page.click("[data-pause]")
    page.wait_for_load_state()
    assert "paused" in page.locator("[data-state]").inner_text()
    assert Watch.objects.get().paused
    page.click("[data-pause]")
    page.wait_for_load_state()
    assert "active" in page.locator("[data-state]").inner_text()
    page.click("[data-delete]")
    page.click("[data-confirm-delete]")
    page.wait_for_url("**/watches/")
    assert page.locator("[data-empty]").count() == 1 and not Watch.objects.exists()
    assert page.console_errors == []
