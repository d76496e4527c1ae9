"""The vendored plotly.js build in a real browser (issue 14): Chromium receives the bundle brotli-compressed and
decodes exactly the bytes whose checksum static/vendor/README.md gives, and what a reader does with a chart,
hover, drag-zoom, double-click back, legend click and the mode bar, works with only scatter and bar in it."""

from __future__ import annotations

import re
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from whitenoise import WhiteNoise

from tests.conftest import REPO

from .conftest import wait_for_charts

pytestmark = pytest.mark.browser

VENDOR = REPO / "static" / "vendor"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def whitenoise_vendor():
    """static/vendor/ served by WhiteNoise itself, as `make run` and production serve it (the live server of
    the tests serves static files through Django's plain handler, which never compresses)."""
    app = WhiteNoise(lambda environ, start: start("404 Not Found", []) or [b""], root=VENDOR, prefix="vendor/")
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _plot_area(page, plot: str) -> dict[str, float]:
    return page.locator(f"#{plot} .draglayer .xy .nsewdrag").bounding_box()


def test_chromium_gets_the_bundle_brotli_compressed_and_decodes_the_readme_checksum(page, whitenoise_vendor):
    (bundle,) = VENDOR.glob("plotly-*.min.js")
    stated = re.search(r"sha256 `([0-9a-f]{64})`", (VENDOR / "README.md").read_text()).group(1)
    page.goto(whitenoise_vendor + "/vendor/README.md")
    encoding, digest = page.evaluate("""async url => {
        const response = await fetch(url, {cache: "no-store"});
        const bytes = await response.arrayBuffer();
        const hash = await crypto.subtle.digest("SHA-256", bytes);
        return [response.headers.get("content-encoding"),
                Array.from(new Uint8Array(hash), b => b.toString(16).padStart(2, "0")).join("")];
    }""", f"/vendor/{bundle.name}")
    assert (encoding, digest) == ("br", stated)


def test_the_bundle_is_the_plotly_js_release_it_is_named_for(page, site):
    (bundle,) = VENDOR.glob("plotly-*.min.js")
    page.goto(site + "/trends/")
    wait_for_charts(page)
    assert f"-{page.evaluate('Plotly.version')}.min.js" in bundle.name


def test_hover_zoom_double_click_and_legend_work_with_the_partial_bundle(page, site):
    page.goto(site + "/trends/?model=llama-3-70b-instruct&lines=provider")
    wait_for_charts(page)
    box = _plot_area(page, "plot-trend")

    # Hover with the mouse (not Plotly.Fx.hover) over a point of the first line: its label appears.
    x, y = page.evaluate("""() => {
        const gd = document.getElementById("plot-trend"), trace = gd._fullData[0], layout = gd._fullLayout;
        const i = Math.floor(trace.x.length / 2), rect = gd.getBoundingClientRect();
        return [rect.left + layout.xaxis._offset + layout.xaxis.d2p(trace.x[i]),
                rect.top + layout.yaxis._offset + layout.yaxis.d2p(trace.y[i])];
    }""")
    page.mouse.move(x - 3, y)
    page.mouse.move(x, y)
    page.wait_for_selector("#plot-trend .hoverlayer .hovertext")

    # Drag a box: the x axis zooms to it; a double-click returns to the whole range.
    full = page.evaluate("document.getElementById('plot-trend')._fullLayout.xaxis.range.slice()")
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    page.wait_for_function("document.getElementById('plot-trend').layout.xaxis.autorange === false")
    zoomed = page.evaluate("document.getElementById('plot-trend')._fullLayout.xaxis.range.slice()")
    assert zoomed != full
    page.mouse.dblclick(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function("document.getElementById('plot-trend').layout.xaxis.autorange === true")

    # A click on a legend entry hides its trace; the mode bar offers the PNG download.
    page.locator("#plot-trend .legend .traces").first.click()  # applied after the double-click delay
    page.wait_for_function("document.getElementById('plot-trend')._fullData.some(t => t.visible === 'legendonly')")
    page.hover("#plot-trend")
    assert page.locator("#plot-trend .modebar-btn[data-title='Download plot as a PNG']").count() == 1
    assert page.console_errors == []


def test_bars_draw_with_their_text_and_hover(page, site):
    page.goto(site + "/compare/?model=llama-3-70b-instruct")
    assert wait_for_charts(page) >= 1
    bars = page.locator(".plot .barlayer .point path")
    assert bars.count() >= 1
    bar = bars.first.bounding_box()  # under the drag layer, so the mouse goes there rather than hover() the bar
    page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
    page.wait_for_selector(".plot .hoverlayer .hovertext")
    assert page.console_errors == []
