"""The vendored plotly.js: the release the installed plotly expects, built with the trace types the charts
use and V8's compile hint, served compressed and cached for a year (issue 14)."""

import gzip
import hashlib
import json
import re

import plotly.offline
import pytest

from tests.conftest import REPO

VENDOR = REPO / "static" / "vendor"
SCRIPTS = REPO / "templates" / "dashboard" / "_scripts.html"
# What tools/plotly-bundle/entry.js registers: plotly.js's core (scatter) and bar.
BUNDLE_TRACES = {"scatter", "bar"}
ENTRY = REPO / "tools" / "plotly-bundle" / "entry.js"


def _bundle():
    (bundle,) = VENDOR.glob("plotly-*.min.js")
    return bundle


def test_the_vendored_bundle_is_the_plotly_js_release_the_installed_plotly_builds_figures_for():
    version = plotly.offline.get_plotlyjs_version()
    bundle = _bundle()
    assert bundle.name == f"plotly-scatter-bar-{version}.min.js", "build the matching release (static/vendor/README.md)"
    assert f"plotly.js (scatter-bar - minified) v{version}" in bundle.read_bytes()[:300].decode()
    assert f"vendor/{bundle.name}" in SCRIPTS.read_text()
    assert f'"plotly.js": "{version}"' in (ENTRY.parent / "package.json").read_text()


def test_the_bundle_registers_exactly_the_trace_types_the_tests_allow():
    registered = set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", ENTRY.read_text())) - {"core"}
    assert registered | {"scatter"} == BUNDLE_TRACES


def test_chromium_is_told_to_compile_the_bundle_while_it_downloads():
    # V8 reads the magic comment before the code it applies to; without it plotly.js is compiled lazily on the
    # page's main thread (bench/first_chart.py).
    assert _bundle().read_bytes().startswith(b"//# allFunctionsCalledOnLoad\n")


def test_the_bundle_is_the_build_whose_checksum_the_readme_gives():
    stated = re.search(r"sha256 `([0-9a-f]{64})`", (VENDOR / "README.md").read_text()).group(1)
    assert hashlib.sha256(_bundle().read_bytes()).hexdigest() == stated


def test_the_precompressed_copies_are_the_bundle():
    bundle = _bundle()
    assert gzip.decompress((VENDOR / (bundle.name + ".gz")).read_bytes()) == bundle.read_bytes()
    # No brotli decoder in Python's standard library: tests/browser/test_bundle.py has Chromium decode the .br.
    assert 0 < (VENDOR / (bundle.name + ".br")).stat().st_size < (VENDOR / (bundle.name + ".gz")).stat().st_size


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


@pytest.mark.parametrize("accept, encoding, at_most", [("gzip, deflate, br", "br", 300_000),
                                                        ("gzip, deflate", "gzip", 360_000)])
def test_it_serves_the_bundle_compressed_and_cacheable_for_a_year(client, accept, encoding, at_most):
    response = client.get(f"/static/vendor/{_bundle().name}", HTTP_ACCEPT_ENCODING=accept)
    assert response.status_code == 200
    assert response["Content-Encoding"] == encoding
    assert int(response["Content-Length"]) < at_most
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
    # An unversioned file keeps WhiteNoise's short default: its content can change under the same URL.
    charts = client.get("/static/tokenwatch/charts.js")
    assert "immutable" not in charts["Cache-Control"]
