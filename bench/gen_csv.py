"""Generate large curated CSVs for the import bench: benchmarks-csv and hardware-csv layouts.

    .venv/bin/python bench/gen_csv.py benchmarks --rows 100000 --out var/bench/benchmarks_100000.csv
    .venv/bin/python bench/gen_csv.py hardware --rows 100000 --out var/bench/hardware_100000.csv

Deterministic for a seed. The files look like what people send: thousands
separators in quoted cells, ``$`` signs, a trailing blank line, and about one
bad row in a thousand (non-numeric throughput, a year like ``20O4``, a
negative price, a duplicate) so the bench exercises quarantine too.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

BENCH_HEADER = ["model", "solution", "stack_version", "precision", "hardware", "accelerators", "input_tokens",
                "output_tokens", "concurrency", "throughput_tokens_per_s", "p99_latency_ms", "ttft_p50_ms",
                "cost_usd_per_mtok", "cost_is_estimate", "source", "published_on", "notes"]
HARDWARE_HEADER = ["provider", "instance_type", "accelerator", "accelerator_count", "usd_per_hour", "pricing_model",
                   "region", "observed_on", "source"]

FAMILIES = ["Llama 3", "Llama 3.1", "Llama 3.3", "Qwen2.5", "Qwen3", "Mistral", "Mixtral", "Gemma 2", "DeepSeek V3",
            "Phi-3"]
SIZES = ["1B", "3B", "7B", "8B", "13B", "14B", "27B", "32B", "70B", "72B", "110B", "405B"]
STACKS = [("vLLM", ["0.4.2", "0.5.4", "0.6.3", "0.8.5"]), ("TGI", ["2.0.4", "2.4.0"]),
          ("TensorRT-LLM", ["0.10", "0.13"]), ("SGLang", ["0.3.0", "0.4.1"]), ("llama.cpp", ["b3600"]),
          ("LMDeploy", ["0.6.0"])]
PRECISIONS = ["FP16", "BF16", "FP8", "INT8", "INT4"]
ACCELERATORS = [("H100", 8.0), ("H100 SXM5", 8.5), ("A100-80GB", 4.0), ("A100", 3.0), ("L40S", 1.8), ("H200", 10.0),
                ("MI300X", 9.0), ("B200", 16.0), ("A10G", 0.8), ("L4", 0.6)]
COUNTS = [1, 2, 4, 8]
WORKLOADS = [(128, 128), (550, 150), (1024, 256), (2048, 512), (4096, 1024)]
CONCURRENCY = [1, 4, 8, 16, 32, 64, 128, 256]

PROVIDERS = ["Lambda", "CoreWeave", "Crusoe", "RunPod", "Vast", "Nebius", "Together AI", "Hyperbolic", "Paperspace",
             "FluidStack", "Vultr", "OVHcloud", "Scaleway", "Genesis Cloud", "Latitude", "TensorDock", "Jarvis Labs",
             "Datacrunch", "Voltage Park", "Oracle Cloud", "AWS", "Google Cloud", "Azure", "IBM Cloud", "Civo",
             "Hetzner", "Massed Compute", "Sesterce", "Denvr", "Ori", "Gcore", "Cudo", "Koyeb", "Modal", "Replicate",
             "Baseten", "Fly.io", "Seeweb", "Taiga Cloud", "Northern Data"]
REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "eu-west-1", "asia-south-1"]
PRICING = ["on-demand", "spot"]


def _money(value: float, rng: random.Random) -> str:
    text = f"{value:,.2f}" if value >= 1000 and rng.random() < 0.5 else f"{value:.2f}"
    return f"${text}" if rng.random() < 0.3 else text


def benchmark_rows(rows: int, seed: int) -> Iterator[list[str]]:
    rng = random.Random(seed)
    start = date(2023, 6, 1)
    seen: list[list[str]] = []
    for i in range(rows):
        if i and i % 1000 == 0:
            kind = (i // 1000) % 3
            if kind == 0:
                bad = list(seen[-1])
                bad[9] = "n/a"
                bad[16] = "throughput not reported"
                yield bad
            elif kind == 1:
                bad = list(seen[-1])
                bad[15] = "20O4-01-01"
                yield bad
            else:
                yield list(seen[rng.randrange(len(seen))])  # a duplicate of an earlier row
            continue
        family, size = rng.choice(FAMILIES), rng.choice(SIZES)
        stack, versions = rng.choice(STACKS)
        accelerator, speed = rng.choice(ACCELERATORS)
        count = rng.choice(COUNTS)
        inp, out = rng.choice(WORKLOADS)
        concurrency = rng.choice(CONCURRENCY)
        size_b = float(size[:-1])
        throughput = speed * count * min(concurrency, 64) * 400 / size_b * rng.uniform(0.6, 1.4)
        usd_per_hour = speed * 0.45 * count
        cost = usd_per_hour / (throughput * 3600) * 1e6
        # The date is unique per row index, so generated rows never collide by accident.
        row = [
            f"{family} {size}", stack, rng.choice(versions), rng.choice(PRECISIONS), accelerator, str(count),
            str(inp), str(out), str(concurrency),
            f"{throughput:,.1f}" if throughput >= 1000 else f"{throughput:.1f}",
            f"{rng.uniform(20, 5000):.1f}", f"{rng.uniform(15, 900):.1f}", _money(cost, rng),
            rng.choice(["true", "false"]), rng.choice(["bench-lab", "vendor-blog", "seed-article"]),
            (start + timedelta(days=i % 900)).isoformat(),
            "" if rng.random() < 0.9 else "tuned, then measured",
        ]
        # A build suffix on the version keeps generated rows distinct at any size.
        row[2] = f"{row[2]}+r{i}"
        seen.append(row)
        if len(seen) > 5000:
            seen.pop(0)
        yield row


def hardware_rows(rows: int, seed: int) -> Iterator[list[str]]:
    rng = random.Random(seed)
    instances = []
    for provider in PROVIDERS:
        for accelerator, speed in ACCELERATORS:
            for count in COUNTS[1:] if accelerator in ("H100", "H200", "B200") else COUNTS:
                base = speed * 0.45 * count * rng.uniform(0.7, 1.5)
                instances.append((provider, f"{accelerator.lower().replace(' ', '-')}-x{count}", accelerator, count,
                                  base))
    offerings = [(inst, region, pricing) for inst in instances for region in REGIONS for pricing in PRICING]
    per_date = len(offerings)
    prices = {o: o[0][4] * (0.4 if o[2] == "spot" else 1.0) for o in offerings}
    start = date(2024, 1, 1)
    last: list[str] = []
    for i in range(rows):
        if i and i % 1000 == 0:
            kind = (i // 1000) % 3
            if kind == 2:
                yield list(last)  # a duplicate: same instance, region, pricing model and date
                continue
            bad = list(last)
            bad[4] = "cheap" if kind == 0 else "-1.99"
            yield bad
            continue
        offering = offerings[i % per_date]
        day = start + timedelta(days=30 * (i // per_date))
        if rng.random() < 0.2:
            prices[offering] *= rng.uniform(0.85, 1.05)
        (provider, instance_type, accelerator, count, _), region, pricing = offering
        last = [provider, instance_type, accelerator, str(count), _money(prices[offering], rng), pricing, region,
                day.isoformat(), "bench generator"]
        yield last


def write(kind: str, rows: int, out: Path, seed: int = 1) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    header, produce = (BENCH_HEADER, benchmark_rows) if kind == "benchmarks" else (HARDWARE_HEADER, hardware_rows)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(produce(rows, seed))
        fh.write("\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["benchmarks", "hardware"])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    out = args.out or Path("var/bench") / f"{args.kind}_{args.rows}.csv"
    write(args.kind, args.rows, out, args.seed)
    print(f"{out}: {args.rows:,} rows, {out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
