"""Training throughput: ``MMoEClassifier.fit`` against a hand-written PyTorch loop.

Both train the same module (``sklearn_mtl.nn.MMoE``) with Adam and binary
cross-entropy on the same data for the same number of epochs. The hand-written
loop is the floor: tensors built once, a ``randperm`` per epoch, slices per
batch, no validation, no callbacks. Repeats are interleaved and medians
reported, since this machine's timings vary by 10-25 %.

Run ``python benchmarks/throughput.py`` (CPU, the issue's sizes) or
``python benchmarks/throughput.py --device cuda --batch-size 1024 8192``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.nn import MMoE

RESULTS = Path(__file__).resolve().parent / "results"


def model_params(args) -> dict:
    return {
        "n_experts": args.n_experts,
        "expert_units": tuple(args.expert_units),
        "tower_units": tuple(args.tower_units),
    }


def fit_estimator(X, Y, args, batch_size) -> float:
    model = MMoEClassifier(
        **model_params(args),
        max_epochs=args.epochs,
        batch_size=batch_size,
        lr=1e-3,
        device=args.device,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, Y)
    _synchronize(args.device)
    return time.perf_counter() - start


def fit_hand_written(X, Y, args, batch_size) -> float:
    start = time.perf_counter()
    torch.manual_seed(0)
    device = torch.device(args.device)
    module = MMoE(X.shape[1], [1] * Y.shape[1], **model_params(args)).to(device)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    inputs = torch.as_tensor(X, dtype=torch.float32, device=device)
    targets = torch.as_tensor(Y, dtype=torch.float32, device=device)
    n = len(inputs)
    module.train()
    for _ in range(args.epochs):
        order = torch.randperm(n, device=device)
        for first in range(0, n, batch_size):
            index = order[first : first + batch_size]
            optimizer.zero_grad()
            loss = F.binary_cross_entropy_with_logits(module(inputs[index]), targets[index])
            loss.backward()
            optimizer.step()
    _synchronize(args.device)
    return time.perf_counter() - start


def _synchronize(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


VARIANTS = {"hand-written loop": fit_hand_written, "MMoEClassifier.fit": fit_estimator}


def run(args) -> dict:
    X, Y = make_task_pair(
        args.n_samples, 0.5, n_features=args.n_features, target="binary", random_state=0
    )
    X = X.astype(np.float32)
    results = []
    for batch_size in args.batch_size:
        for variant in VARIANTS.values():  # warm-up: allocator, kernels, thread pools
            variant(X[: 4 * batch_size], Y[: 4 * batch_size], args, batch_size)
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for repeat in range(args.repeats):
            for name, variant in VARIANTS.items():
                times[name].append(variant(X, Y, args, batch_size))
            print(
                f"  batch {batch_size}, repeat {repeat + 1}/{args.repeats}: "
                + ", ".join(f"{name} {t[-1]:.2f} s" for name, t in times.items()),
                file=sys.stderr,
            )
        rows = args.n_samples * args.epochs
        medians = {name: statistics.median(t) for name, t in times.items()}
        floor = medians["hand-written loop"]
        for name, median in medians.items():
            results.append(
                {
                    "batch_size": batch_size,
                    "variant": name,
                    "median_seconds": median,
                    "rows_per_second": rows / median,
                    "time_vs_hand_written": median / floor,
                    "seconds": times[name],
                }
            )
    return {
        "benchmark": "throughput",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "machine": platform.machine(),
            "device_name": (
                torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
            ),
        },
        "results": results,
    }


def format_table(report: dict) -> str:
    lines = [
        "| batch | variant | rows/s | time vs hand-written |",
        "|---:|---|---:|---:|",
    ]
    for row in report["results"]:
        lines.append(
            f"| {row['batch_size']} | {row['variant']} | {row['rows_per_second']:,.0f} "
            f"| {row['time_vs_hand_written']:.3f} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-experts", type=int, default=8)
    parser.add_argument("--expert-units", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--tower-units", type=int, nargs="*", default=[64])
    parser.add_argument("--batch-size", type=int, nargs="+", default=[1024])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = run(args)
    print(format_table(report))
    output = args.output or RESULTS / f"throughput-{args.device.split(':')[0]}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"wrote {output}")
    return report


if __name__ == "__main__":
    main()
