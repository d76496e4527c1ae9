"""Issue 13: every API docs page works with no outside request (no fonts, scripts, styles or badges
from another host), in the served HTML and in the stylesheets it loads. The same check in a real
browser, with every other host unreachable, is tests/browser/test_docs_offline.py."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db

DOCS_PAGES = ["/api/docs/", "/api/redoc/"]
# Where a page can make the browser load something: attributes, CSS imports and url(), srcset.
LOADS = re.compile(r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?|@import\s+["']?|url\(\s*["']?)"""
                   r"""((?:https?:)?//[^"')\s>]+)""", re.I)


def _outside(text: str) -> list[str]:
    """Absolute or protocol-relative URLs the text would load (same-host ones would be relative here)."""
    return LOADS.findall(text)


def test_the_checker_finds_what_drf_spectacular_used_to_load():
    # The template drf-spectacular ships (and ReDoc used before issue 13): the check must see its fonts.
    shipped = ('<link rel="preconnect" href="https://fonts.googleapis.com">'
               '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Roboto&display=swap">'
               "<style>@import url('//cdn.example/x.css'); body { background: url(https://x.example/a.png) }</style>")
    assert len(_outside(shipped)) == 4


@pytest.mark.parametrize("url", DOCS_PAGES)
def test_it_loads_nothing_from_another_host(anon, url):
    response = anon.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert _outside(html) == []
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    # ...nor do the stylesheets and scripts it loads from our static files pull anything in.
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        if asset.endswith(".css"):
            css = b"".join(anon.get(asset).streaming_content).decode()
            assert _outside(css) == [], asset


def test_swagger_ui_shows_no_validator_badge_from_validator_swagger_io(anon):
    # Swagger UI's default validatorUrl makes every visitor's browser fetch a badge from validator.swagger.io.
    html = anon.get("/api/docs/").content.decode()
    settings = json.loads(re.search(r"const swaggerSettings = (\{.*?\});", html, re.S).group(1))
    assert settings["validatorUrl"] is None


def test_redoc_uses_the_system_fonts_and_the_sidecar_script(anon):
    html = anon.get("/api/redoc/").content.decode()
    assert '<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"></script>' in html
    assert "system-ui" in html  # the theme's font stack: no web font to fetch
    assert "<title>tokenwatch API</title>" in html
