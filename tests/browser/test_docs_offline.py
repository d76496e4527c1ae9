"""Issue 13 in a real browser: the API docs render with every other host unreachable, and ask for none."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from .conftest import LAPTOP

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# Page -> an element that exists only once the docs have rendered the schema.
DOCS = {
    "/api/docs/": ".swagger-ui .info .title",
    "/api/redoc/": "[data-section-id] h2",
}


@pytest.mark.parametrize("url, rendered", DOCS.items())
def test_the_docs_render_offline_and_ask_no_other_host(browser, live_server, url, rendered):
    ours = urlparse(live_server.url).netloc
    outside: list[str] = []
    context = browser.new_context(viewport=LAPTOP)

    def guard(route):
        # Only the live server answers; anything else is recorded and refused, like on an offline machine.
        # (A load the page's Content-Security-Policy blocks never gets here: it never leaves the browser.)
        if urlparse(route.request.url).netloc == ours or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server.url + url)
        page.wait_for_selector(rendered, timeout=20_000)
        assert "tokenwatch API" in page.inner_text("body")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert outside == []
    assert errors == []
