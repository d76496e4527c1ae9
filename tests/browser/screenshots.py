"""Screenshots of every dashboard page (``make screenshots``), so anyone can look at what the pages show.

Starts the app on a free local port against the current database (``make
screenshots`` loads the demo data first), drives Debian's Chromium through
Playwright (no browser download) and writes full-page PNGs:

    var/screenshots/<page>.png          1440 x 900 (laptop)
    var/screenshots/phone/<page>.png    390 x 844 (phone)

Usage: .venv/bin/python tests/browser/screenshots.py [--base-url URL] [--out DIR] [--no-phone] [--only NAME]
With --base-url it uses an already running server instead of starting one.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TOKENWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

PAGES = [
    ("overview", "/"),
    ("trends", "/trends/"),
    ("trends-llama-3-70b-by-provider", "/trends/?model=llama-3-70b-instruct&lines=offering&scale=linear"),
    ("compare", "/compare/"),
    ("compare-o3", "/compare/?model=o3"),
    ("compare-per-source", "/compare/?model=llama-3-70b-instruct&per_source=1"),
    ("compare-workload-batch", "/compare/?model=gpt-4o&input_mtok=1000&output_mtok=200&cached_pct=40&batch=on"),
    ("benchmarks", "/benchmarks/"),
    ("market", "/market/"),
    ("sources", "/sources/"),
    ("models", "/models/"),
    ("model-detail", "/models/llama-3-70b-instruct/"),
    ("providers", "/providers/"),
    ("provider-detail", "/providers/groq/"),
    ("empty-trends", "/trends/?model=llama-3-70b-instruct&source=openrouter"),
    ("bad-filter", "/trends/?model=no-such-model&ratio_in=abc"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "TOKENWATCH_PUBLIC_API": "1", "DEBUG": os.environ.get("DEBUG", "0")}
    proc = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/sources/", timeout=2)  # noqa: S310 - our own loopback server
            return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start within 30 s")


def shoot(base: str, out: Path, *, phone: bool, only: list[str] | None = None) -> list[str]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    sizes = [("", {"width": 1440, "height": 900})]
    if phone:
        sizes.append(("phone", {"width": 390, "height": 844}))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for folder, viewport in sizes:
            target = out / folder if folder else out
            target.mkdir(parents=True, exist_ok=True)
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            for name, path in [(n, p) for n, p in PAGES if not only or any(o in n for o in only)]:
                errors.clear()
                page.goto(base + path, wait_until="networkidle")
                page.wait_for_function(
                    "document.querySelectorAll('.plot').length === "
                    "document.querySelectorAll('.plot[data-drawn=true]').length", timeout=30_000)
                file = target / f"{name}.png"
                page.screenshot(path=str(file), full_page=True)
                if errors:
                    problems.append(f"{folder or 'laptop'} {path}: {errors}")
                print(f"{file.relative_to(REPO) if file.is_relative_to(REPO) else file}")
            context.close()
        browser.close()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url")
    parser.add_argument("--out", default=str(REPO / "var" / "screenshots"))
    parser.add_argument("--no-phone", action="store_true")
    parser.add_argument("--only", action="append", help="only the pages whose name contains this (repeatable)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM}: apt-get install chromium (no browser download)")
    proc = None
    base = args.base_url
    if base is None:
        proc, base = start_server()
    try:
        problems = shoot(base.rstrip("/"), Path(args.out), phone=not args.no_phone, only=args.only)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
    for problem in problems:
        print("console error:", problem, file=sys.stderr)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
