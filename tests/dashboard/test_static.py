"""The vendored plotly.js: the release the installed plotly expects, the partial bundle the charts fit in,
served compressed and cached for a year (issue 14)."""

import gzip
import hashlib
import json
import re

import plotly.offline
import pytest

from tests.conftest import REPO

VENDOR = REPO / "static" / "vendor"
SCRIPTS = REPO / "templates" / "dashboard" / "_scripts.html"
# What plotly.js's basic bundle registers (its package README: "Contains trace modules bar, pie and scatter").
BUNDLE_TRACES = {"scatter", "bar", "pie"}


def _bundle():
    (bundle,) = VENDOR.glob("plotly-basic-*.min.js")
    return bundle


def test_the_vendored_bundle_is_the_plotly_js_release_the_installed_plotly_builds_figures_for():
    version = plotly.offline.get_plotlyjs_version()
    bundle = _bundle()
    assert bundle.name == f"plotly-basic-{version}.min.js", "vendor the matching release (static/vendor/README.md)"
    assert f"plotly.js (basic - minified) v{version}" in bundle.read_bytes()[:200].decode()
    assert f"vendor/{bundle.name}" in SCRIPTS.read_text()


def test_the_bundle_is_the_npm_release_whose_checksum_the_readme_gives():
    stated = re.search(r"sha256 `([0-9a-f]{64})`", (VENDOR / "README.md").read_text()).group(1)
    assert hashlib.sha256(_bundle().read_bytes()).hexdigest() == stated


def test_the_precompressed_copy_is_the_bundle():
    bundle = _bundle()
    assert gzip.decompress((VENDOR / (bundle.name + ".gz")).read_bytes()) == bundle.read_bytes()


@pytest.mark.django_db
def test_every_chart_on_every_page_uses_a_trace_type_the_bundle_has(subset, client, settings):
    from tests.dashboard.test_pages import PAGES

    settings.TOKENWATCH_PUBLIC_API = True
    seen = set()
    for url in PAGES:
        html = client.get(url).content.decode()
        for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
            seen |= {trace.get("type", "scatter") for trace in json.loads(block)["data"]}
    assert seen and seen <= BUNDLE_TRACES, seen - BUNDLE_TRACES


def test_it_serves_the_bundle_gzipped_and_cacheable_for_a_year(client):
    response = client.get(f"/static/vendor/{_bundle().name}", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert int(response["Content-Length"]) < 450_000
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
    # An unversioned file keeps WhiteNoise's short default: its content can change under the same URL.
    charts = client.get("/static/tokenwatch/charts.js")
    assert "immutable" not in charts["Cache-Control"]
