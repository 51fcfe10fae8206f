"""Serving latency: onnxruntime on the exported graph against ``predict_proba``.

An ``MMoEClassifier`` (8 experts of 2x128, towers of 64, 100 features, 2
tasks) is trained briefly, exported with ``sklearn_mtl.export.to_onnx`` and
timed both ways: single rows (median latency over ``--calls`` calls) and
batches of ``--batch-rows`` rows (rows per second). The two agree to 1e-5,
which the script checks before timing.

Run ``python -m benchmarks run serving --full`` or ``--quick``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    from ._environment import environment
    from ._report import benchmark_main
except ImportError:  # run as a script: python benchmarks/serving.py
    from _environment import environment
    from _report import benchmark_main

RESULTS = Path(__file__).resolve().parent / "results"


def timed(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def run(args) -> dict:
    import onnxruntime as ort
    import torch

    from sklearn_mtl import MMoEClassifier
    from sklearn_mtl.datasets import make_task_pair
    from sklearn_mtl.export import to_onnx

    X, Y = make_task_pair(args.batch_rows, 0.5, target="binary", random_state=0)
    X = X.astype(np.float32)
    model = MMoEClassifier(8, expert_units=(128, 128), tower_units=(64,), max_epochs=1,
                           batch_size=1024, early_stopping=False, n_ensemble=1,
                           random_state=0).fit(X, Y)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        to_onnx(model, Path(folder) / "model.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(Path(folder) / "model.onnx"), options)
    difference = np.abs(session.run(None, {"X": X})[0] - model.predict_proba(X)[0]).max()
    assert difference < 1e-5, difference
    row = X[:1]
    results = []
    for name, function in [
        ("predict_proba", lambda x: model.predict_proba(x)),
        ("onnxruntime", lambda x: session.run(None, {"X": x})),
    ]:
        function(row), function(X)  # warm-up
        single = timed(lambda f=function: f(row), args.calls)
        batch = timed(lambda f=function: f(X), args.repeats)
        results.append({
            "runtime": name,
            "single_row_median_ms": 1000 * statistics.median(single),
            "single_row_p90_ms": 1000 * float(np.percentile(single, 90)),
            "batch_rows": args.batch_rows,
            "batch_rows_per_second": args.batch_rows / statistics.median(batch),
        })  # fmt: skip
        print(f"  {name}: {results[-1]['single_row_median_ms']:.3f} ms a row, "
              f"{results[-1]['batch_rows_per_second']:,.0f} rows/s in batches",
              file=sys.stderr, flush=True)  # fmt: skip
    base = results[0]
    for row_result in results:
        row_result["single_row_speedup"] = (
            base["single_row_median_ms"] / row_result["single_row_median_ms"]
        )
        row_result["batch_speedup"] = (
            row_result["batch_rows_per_second"] / base["batch_rows_per_second"]
        )
    return {
        "benchmark": "serving", "environment": environment(),
        "config": {**{k: v for k, v in vars(args).items() if k != "output"},
                   "threads": torch.get_num_threads(), "max_abs_difference": float(difference)},
        "results": results,
    }  # fmt: skip


def format_table(report: dict) -> str:
    lines = [
        "| runtime | one row: median ms | one row: p90 ms | speed-up | batch rows/s | speed-up |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['runtime']} | {r['single_row_median_ms']:.3f} | {r['single_row_p90_ms']:.3f} "
            f"| {r['single_row_speedup']:.1f}x | {r['batch_rows_per_second']:,.0f} "
            f"| {r['batch_speedup']:.1f}x |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="single-row calls timed")
    parser.add_argument("--batch-rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=10, help="batch calls timed")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(argv, parse_args, run, format_table, output=RESULTS / "serving.json")


if __name__ == "__main__":
    main()
