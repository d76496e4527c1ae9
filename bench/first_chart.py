"""Time to the first chart drawn in a cold headless Chromium (issue 14: goal < 1 s on /, /trends/, /compare/).

Starts the demo server (``manage.py runserver 127.0.0.1:8814 --noreload``, as ``make run`` serves it) on
the database DATABASE_URL names (the app's embedded default when unset), asks each page once so the
server is warm, then loads every page ``--runs`` times in a new Chromium each time (a fresh profile:
no HTTP cache, no compiled-code cache) and reads ``performance.mark("first-chart")``, which
static/tokenwatch/charts.js sets when the first Plotly.newPlot has drawn. Chromium is Debian's
(/usr/bin/chromium) driven by Playwright over its pipe; traffic stays on 127.0.0.1.

    DATABASE_URL=sqlite:////tmp/tw_demo.sqlite3 .venv/bin/python bench/first_chart.py --runs 5

``--breakdown`` records a Chromium trace of each load and prints where the page's main thread spent its
CPU until the first chart (plotly.js's evaluation, charts.js with the first newPlot, style and layout, code
compiled on the main thread) and what V8 compiled on background threads.

``--bundles A.js,B.js`` compares plotly.js builds side by side in one run: each page's HTML is taken once
from the server, one copy per bundle points its plotly.js <script> at that bundle, and the copies are
served by WhiteNoise (with each bundle's .br/.gz next to it; a .gz is made when there is none) from a
temporary directory, loaded in turn (the order alternates every round). TTFB is then a static file's.

    git show 17d86df:static/vendor/plotly-basic-4.1.1.min.js > /tmp/plotly-basic-4.1.1.min.js
    git show 17d86df:static/vendor/plotly-basic-4.1.1.min.js.gz > /tmp/plotly-basic-4.1.1.min.js.gz
    .venv/bin/python bench/first_chart.py --runs 5 \\
        --bundles /tmp/plotly-basic-4.1.1.min.js,static/vendor/plotly-scatter-bar-4.1.1.min.js
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("TOKENWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 # Chromium 14x+ builds its omnibox popup as a WebUI page at start-up even when headless: a
                 # second renderer compiling ~400 modules for ~1 s of CPU while the measured page loads, on a
                 # 2-core machine. A browser a reader already has open did that long ago; Puppeteer turns it off
                 # by default for the same reason (puppeteer/puppeteer#15278).
                 "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup",
                 # Nothing but the local server resolves: a page that reached out would fail, not wait.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
GOAL_MS = 1000.0
# Resolves once the mark exists. Sent right after the navigation commits and evaluated once: no polling and no
# helper script injected into the page while it loads (Playwright's wait_for_function did both).
# A page that draws no chart (an empty database shows none, an error page neither) fails the run after
# CHART_TIMEOUT_MS instead of waiting for ever.
CHART_TIMEOUT_MS = 30_000
FIRST_CHART = """() => new Promise((resolve, reject) => {
  setTimeout(() => reject(new Error("no chart drawn")), TIMEOUT_MS);
  const done = () => resolve(performance.getEntriesByName("first-chart")[0].startTime);
  if (performance.getEntriesByName("first-chart").length) { return done(); }
  new PerformanceObserver((list, observer) => {
    if (list.getEntriesByName("first-chart").length) { observer.disconnect(); done(); }
  }).observe({type: "mark", buffered: true});
})""".replace("TIMEOUT_MS", str(CHART_TIMEOUT_MS))
METRICS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const scripts = performance.getEntriesByType("resource").filter(r => r.initiatorType === "script");
  return {
    first_chart: performance.getEntriesByName("first-chart")[0].startTime,
    ttfb: nav.responseStart,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    html_bytes: nav.decodedBodySize,
    script_bytes: scripts.reduce((n, r) => n + r.transferSize, 0),
    script_bytes_decoded: scripts.reduce((n, r) => n + r.decodedBodySize, 0),
  };
}"""
TRACE_CATEGORIES = ["toplevel", "devtools.timeline", "v8", "disabled-by-default-v8.compile", "blink.user_timing",
                    "loading"]
BREAKDOWN = ["main CPU", "plotly.js", "charts.js", "style+layout", "main compile", "bg compile"]


def serve(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TOKENWATCH_PUBLIC_API": "1"}
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/tokenwatch/charts.js", timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"the server did not answer on 127.0.0.1:{port} within 60 s")


def _outermost(events: list[dict]) -> list[dict]:
    """Events that no earlier one in the list encloses (nested slices of one thread would count twice)."""
    kept, end = [], 0
    for event in sorted(events, key=lambda e: e["ts"]):
        if event["ts"] >= end:
            kept.append(event)
            end = event["ts"] + event["dur"]
    return kept


def breakdown(trace_file: Path) -> dict[str, float]:
    """CPU ms until the first-chart mark: the page's main thread, split by what it did, and V8's background
    compiling for the page."""
    payload = json.loads(trace_file.read_text())
    events = payload["traceEvents"] if isinstance(payload, dict) else payload
    navigation = next(e for e in events if e.get("name") == "navigationStart"
                      and e.get("args", {}).get("data", {}).get("documentLoaderURL", "").startswith("http"))
    pid, start = navigation["pid"], navigation["ts"]
    mark = next(e["ts"] for e in events if e.get("name") == "first-chart" and e.get("pid") == pid)
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    main = next(key for key, name in names.items() if name == "CrRendererMain" and key[0] == pid)
    slices = [e for e in events if e.get("ph") == "X" and e.get("pid") == pid and start <= e["ts"] <= mark]
    on_main = [e for e in slices if (e["pid"], e["tid"]) == main]

    def cpu(selected: list[dict]) -> float:
        return sum(e.get("tdur", e["dur"]) for e in _outermost(selected)) / 1000

    def script(event: dict, pattern: str) -> bool:
        return re.search(pattern, event.get("args", {}).get("data", {}).get("url", "")) is not None

    return {
        "main CPU": cpu([e for e in on_main if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")]),
        "plotly.js": cpu([e for e in on_main if e["name"] == "EvaluateScript" and script(e, r"/plotly-[^/]+\.js$")]),
        "charts.js": cpu([e for e in on_main if e["name"] in ("EvaluateScript", "FunctionCall")
                          and script(e, r"/tokenwatch/charts\.js$")]),
        "style+layout": cpu([e for e in on_main if e["name"] in ("UpdateLayoutTree", "Layout")]),
        "main compile": cpu([e for e in on_main if e["name"] in ("V8.CompileCode", "V8.ParseFunction",
                                                                   "V8.CompileLazy")]),
        "bg compile": cpu([e for e in slices if (e["pid"], e["tid"]) != main
                           and e["name"] in ("v8.parseOnBackground", "V8.CompileCode", "v8.compile")]),
    }


def cold_load(playwright, url: str, trace_file: Path | None = None) -> dict[str, float]:
    """One load in a brand-new browser (its own temporary profile), timed by the page's own marks."""
    from playwright.sync_api import Error as PlaywrightError

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        if trace_file:
            browser.start_tracing(page=page, path=str(trace_file), categories=TRACE_CATEGORIES)
        page.goto(url, wait_until="commit")
        try:
            page.evaluate(FIRST_CHART)
        except PlaywrightError:
            raise SystemExit(f"{url}: no chart drawn within {CHART_TIMEOUT_MS // 1000} s (is there data to chart? "
                             "make demo loads the bundled snapshots)") from None
        if trace_file:
            browser.stop_tracing()
        page.wait_for_load_state("load")  # so the navigation entry has its DOMContentLoaded end
        result = page.evaluate(METRICS)
        if trace_file:
            result |= breakdown(trace_file)
        return result
    finally:
        browser.close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def bundle_site(base: str, pages: list[str], bundles: list[Path], root: Path) -> tuple[str, list[str]]:
    """Each page once per bundle under root/<variant>/, served by WhiteNoise; returns its URL and the variants."""
    from whitenoise import WhiteNoise

    shutil.copytree(ROOT / "static", root / "static")
    variants = []
    for number, bundle in enumerate(bundles):
        variant = f"{number}-{bundle.name.removesuffix('.min.js')}"
        variants.append(variant)
        folder = root / "static" / "ab" / variant
        folder.mkdir(parents=True)
        for suffix in ("", ".br", ".gz"):
            if Path(f"{bundle}{suffix}").exists():
                shutil.copy(f"{bundle}{suffix}", folder)
        if not (folder / f"{bundle.name}.gz").exists():
            (folder / f"{bundle.name}.gz").write_bytes(gzip.compress(bundle.read_bytes(), 9, mtime=0))
        for path in pages:
            html = httpx.get(base + path, timeout=60).text
            html, count = re.subn(r'/static/vendor/plotly-[^"]+\.min\.js', f"/static/ab/{variant}/{bundle.name}",
                                  html)
            if count != 1:
                raise SystemExit(f"{path}: expected one plotly.js <script>, found {count}")
            target = root / variant / path.strip("/") / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html)
    app = WhiteNoise(lambda environ, start: start("404 Not Found", []) or [b""], root=root, index_file=True)
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per page (median reported)")
    parser.add_argument("--port", type=int, default=8814)
    parser.add_argument("--pages", default="/,/trends/,/compare/", help="comma-separated paths")
    parser.add_argument("--breakdown", action="store_true", help="trace each load: where the CPU went")
    parser.add_argument("--bundles", default="", help="comma-separated plotly.js files to compare, in turn")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{args.port}"
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    bundles = [Path(b.strip()).resolve() for b in args.bundles.split(",") if b.strip()]
    for bundle in bundles:
        if not bundle.is_file():
            raise SystemExit(f"no such bundle: {bundle}")
    server = serve(args.port)
    workdir = Path(tempfile.mkdtemp(prefix="first_chart_"))
    try:
        for path in pages:  # a warm server: the first request of a process pays for imports, not the page
            httpx.get(base + path, timeout=60).raise_for_status()
        site, variants = bundle_site(base, pages, bundles, workdir / "site") if bundles else (base, [""])
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        loads: list[float] = []
        with sync_playwright() as playwright:
            for run in range(args.runs):
                for path in pages:
                    for variant in variants if run % 2 == 0 else variants[::-1]:
                        loads.append(os.getloadavg()[0])
                        url = f"{site}/{variant}{path}" if variant else site + path
                        trace = workdir / "trace.json" if args.breakdown else None
                        results.setdefault((path, variant), []).append(cold_load(playwright, url, trace))
        report(results, pages, variants, args, loads)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def report(results, pages, variants, args, loads: list[float]) -> None:
    print(f"first chart drawn, cold Chromium, median of {args.runs} (goal < {GOAL_MS:.0f} ms); "
          f"1-minute load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    # TTFB is the server's render (bench/pages.py times it alone); "in browser" is the rest: HTML, script
    # download, compile and the first Plotly.newPlot.
    print(f"{'page':<12} {'bundle':<26} {'first chart':>12} {'min':>7} {'max':>7} {'TTFB':>7} {'in browser':>11} "
          f"{'DOMContentLoaded':>17} {'HTML':>8} {'JS sent / decoded':>20}")
    worst = 0.0
    for path in pages:
        for variant in variants:
            runs = results[(path, variant)]
            first = [r["first_chart"] for r in runs]
            median = statistics.median(first)
            worst = max(worst, median)
            sent = statistics.median(r["script_bytes"] for r in runs) / 1e3
            decoded = statistics.median(r["script_bytes_decoded"] for r in runs) / 1e3
            print(f"{path:<12} {variant or '(as served)':<26} {median:>9.0f} ms {min(first):>7.0f} {max(first):>7.0f} "
                  f"{statistics.median(r['ttfb'] for r in runs):>7.0f} "
                  f"{statistics.median(r['first_chart'] - r['ttfb'] for r in runs):>8.0f} ms "
                  f"{statistics.median(r['dom_content_loaded'] for r in runs):>14.0f} ms "
                  f"{statistics.median(r['html_bytes'] for r in runs) / 1e3:>5.0f} kB "
                  f"{sent:>8.0f} / {decoded:.0f} kB")
    if args.breakdown:
        print("\nCPU ms until the first chart, median (main CPU: the page's main thread, busy; of which plotly.js "
              "evaluating, charts.js drawing, style+layout, compiling; bg compile: V8 off the main thread)")
        print(f"{'page':<12} {'bundle':<26} " + " ".join(f"{name:>12}" for name in BREAKDOWN))
        for path in pages:
            for variant in variants:
                runs = results[(path, variant)]
                print(f"{path:<12} {variant or '(as served)':<26} "
                      + " ".join(f"{statistics.median(r[name] for r in runs):>12.0f}" for name in BREAKDOWN))
    print(("PASS" if worst < GOAL_MS else "FAIL") + f": slowest median {worst:.0f} ms")


if __name__ == "__main__":
    main()
