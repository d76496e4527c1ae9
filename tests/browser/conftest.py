"""Headless Chromium (Debian's, at /usr/bin/chromium: no browser download) driving the live app.

Locally a missing Chromium or Playwright skips these tests with the reason;
under CI=true it fails them (``tests.conftest.need``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import need
from tests.dashboard.seed import load_subset

CHROMIUM = os.environ.get("TOKENWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        need(f"needs Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need("needs the playwright package (pip install -r requirements.txt)")
    # Playwright's sync API keeps an asyncio loop registered on this thread; the ORM calls the
    # fixtures make (seeding, flushing) are still plain synchronous calls, so let Django allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(browser, live_server, settings) -> str:
    """The live app with the small real-data slice (loaded through the pipeline; flushed after the test)."""
    settings.TOKENWATCH_PUBLIC_API = True
    load_subset()
    return live_server.url


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def wait_for_charts(page) -> int:
    """Wait until every chart on the page is drawn; return how many there are."""
    page.wait_for_function("document.querySelectorAll('.plot').length === "
                           "document.querySelectorAll('.plot[data-drawn=true]').length")
    return page.locator(".plot").count()
