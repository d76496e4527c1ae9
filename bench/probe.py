"""Probe bench (issue 15): 200 streamed requests at concurrency 32 against the loopback server.

Prints TTFT and inter-token latency against the server's clock (truth: first token after 200 ms, then one
every 20 ms, 64 tokens) and tokenwatch's own CPU per request: this process's CPU time during the run
divided by the requests (the server runs in its own process, so its CPU is not counted), with the load
average beside it. Goals: TTFT within 10 %, CPU < 2 ms per request.

    .venv/bin/python bench/probe.py [--requests 200 --concurrency 32 --port 8871]

No database: the load generator (apps/probes/load.py) and the metrics (scrapers/probe.py) are what a
probe run spends its time in; storing the samples is one ingest afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apps.probes import load  # noqa: E402 - after the path is set
from apps.probes.load import Limits, Workload, run  # noqa: E402
from scrapers.probe import compute_metrics  # noqa: E402

TTFT_MS, ITL_MS, TOKENS = 200.0, 20.0, 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--port", type=int, default=8871)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.probes.server", "--port", str(args.port), "--ttft-ms", str(TTFT_MS),
         "--itl-ms", str(ITL_MS), "--tokens", str(TOKENS)],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline() if server.stdout else ""
        if not line.startswith("ready"):
            sys.exit(f"the loopback server did not start on port {args.port}: {line!r}")
        load_before = os.getloadavg()
        result = run(base_url=f"http://127.0.0.1:{args.port}/v1", api_key="", model_id="bench",
                     workload=Workload(requests=args.requests, concurrency=args.concurrency, input_tokens=550,
                                       output_tokens=TOKENS),
                     limits=Limits())
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=10)
    metrics = compute_metrics(result.samples, result.wall_s)
    ttft = float(metrics.ttft_p50_ms or 0)
    itl = float(metrics.inter_token_latency_p50_ms or 0)
    cpu_ms = result.cpu_s / args.requests * 1000
    print(f"requests {args.requests} at concurrency {args.concurrency} (max in flight {result.max_in_flight}); "
          f"{metrics.requests_completed} ok, {metrics.requests_failed} failed; wall {result.wall_s:.2f} s")
    print(f"TTFT p50 {ttft:.1f} ms (truth {TTFT_MS:.0f}, error {abs(ttft - TTFT_MS) / TTFT_MS:.1%}); "
          f"p90 {metrics.ttft_p90_ms} ms, p99 {metrics.ttft_p99_ms} ms")
    print(f"inter-token p50 {itl:.2f} ms (truth {ITL_MS:.0f}, error {abs(itl - ITL_MS) / ITL_MS:.1%}); "
          f"p99 {metrics.inter_token_latency_p99_ms} ms")
    print(f"system {metrics.tokens_per_s} tokens/s; per request p50 {metrics.request_tokens_per_s_p50} tokens/s")
    print(f"tokenwatch CPU {result.cpu_s:.3f} s = {cpu_ms:.2f} ms per request (goal < 2 ms; "
          f"{cpu_ms / TOKENS * 1000:.0f} us per streamed chunk; user {result.cpu_user_s / args.requests * 1000:.2f} + "
          f"kernel {result.cpu_system_s / args.requests * 1000:.2f} ms); load average before {load_before[0]:.2f}, "
          f"after {load_after[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{result.reads / args.requests:.1f} reads and {result.wakeups / args.requests:.1f} wake-ups per request; "
          f"{'kernel receive timestamps' if result.kernel_stamps else 'read-time stamps'}, tick at the end "
          f"{result.tick_ms:g} ms (at most {load.TICK_S * 1000:g})")


if __name__ == "__main__":
    main()
