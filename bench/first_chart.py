"""Time to the first chart drawn in a cold headless Chromium (issue 14: goal < 1 s on /, /trends/, /compare/).

Starts the demo server (``manage.py runserver 127.0.0.1:8814 --noreload``, as ``make run`` serves it) on
the database DATABASE_URL names (the app's embedded default when unset), asks each page once so the
server is warm, then loads every page ``--runs`` times in a new Chromium each time (a fresh profile:
no HTTP cache, no compiled-code cache) and reads ``performance.mark("first-chart")``, which
static/tokenwatch/charts.js sets when the first Plotly.newPlot has drawn. Chromium is Debian's
(/usr/bin/chromium) driven by Playwright over its pipe; traffic stays on 127.0.0.1.

    DATABASE_URL=sqlite:////tmp/tw_demo.sqlite3 .venv/bin/python bench/first_chart.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("TOKENWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 # Nothing but the local server resolves: a page that reached out would fail, not wait.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
GOAL_MS = 1000.0
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


def cold_load(playwright, url: str) -> dict[str, float]:
    """One load in a brand-new browser (its own temporary profile), timed by the page's own marks."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(url, wait_until="commit")
        page.wait_for_function("performance.getEntriesByName('first-chart').length > 0", timeout=30_000)
        page.wait_for_load_state("load")  # so the navigation entry has its DOMContentLoaded end
        return page.evaluate(METRICS)
    finally:
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per page (median reported)")
    parser.add_argument("--port", type=int, default=8814)
    parser.add_argument("--pages", default="/,/trends/,/compare/", help="comma-separated paths")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{args.port}"
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    server = serve(args.port)
    try:
        for path in pages:  # a warm server: the first request of a process pays for imports, not the page
            httpx.get(base + path, timeout=60)
        print(f"first chart drawn, cold Chromium, median of {args.runs} (goal < {GOAL_MS:.0f} ms)")
        # TTFB is the server's render (bench/pages.py times it alone); "in browser" is the rest: HTML, script
        # download, compile and the first Plotly.newPlot.
        print(f"{'page':<12} {'first chart':>12} {'min':>7} {'max':>7} {'TTFB':>7} {'in browser':>11} "
              f"{'DOMContentLoaded':>17} {'HTML':>8} {'JS sent / decoded':>20}")
        worst = 0.0
        with sync_playwright() as playwright:
            for path in pages:
                runs = [cold_load(playwright, base + path) for _ in range(args.runs)]
                first = [r["first_chart"] for r in runs]
                median = statistics.median(first)
                worst = max(worst, median)
                sent = statistics.median(r["script_bytes"] for r in runs) / 1e3
                decoded = statistics.median(r["script_bytes_decoded"] for r in runs) / 1e3
                print(f"{path:<12} {median:>9.0f} ms {min(first):>7.0f} {max(first):>7.0f} "
                      f"{statistics.median(r['ttfb'] for r in runs):>7.0f} "
                      f"{statistics.median(r['first_chart'] - r['ttfb'] for r in runs):>8.0f} ms "
                      f"{statistics.median(r['dom_content_loaded'] for r in runs):>14.0f} ms "
                      f"{statistics.median(r['html_bytes'] for r in runs) / 1e3:>5.0f} kB "
                      f"{sent:>8.0f} / {decoded:.0f} kB")
        print(("PASS" if worst < GOAL_MS else "FAIL") + f": slowest median {worst:.0f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
