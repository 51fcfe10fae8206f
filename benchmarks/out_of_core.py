"""Training on a Parquet data set several times larger than the process's memory limit.

The script writes a Parquet data set (two related binary tasks on float32
features, made chunk by chunk) of ``--ratio`` times the memory limit, then trains an
``MMoEClassifier`` on it in a child process whose address space is capped
with ``RLIMIT_AS``: ``partial_fit`` on batches from
``sklearn_mtl.stream.ParquetBatches``, then a streamed ``predict_proba`` over
the whole set. It reports rows per second, the peak resident memory, and
checks that the limit is real: loading the whole set in that process fails.

Run ``python -m benchmarks run out_of_core --full`` (a 2 GiB limit and a data
set three times larger; a few minutes) or ``--quick``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    from ._environment import environment
    from ._report import benchmark_main
except ImportError:  # run as a script: python benchmarks/out_of_core.py
    from _environment import environment
    from _report import benchmark_main

RESULTS = Path(__file__).resolve().parent / "results"
GIB = 2**30
TASKS = ["task0", "task1"]


def task_chunk(n: int, n_features: int, part: int):
    """``n`` rows of two related binary tasks; the tasks are the same in every chunk.

    (``make_task_pair`` draws new tasks with every seed, so it cannot make a large
    data set chunk by chunk.) Task 0 is a noisy sign of ``x . w0``, task 1 one of
    ``0.8 x . w0 + 0.6 x . w1 + sin(x . w1)``; ``w0, w1`` are fixed, ``x`` is new.
    """
    weights = np.random.RandomState(0).standard_normal((2, n_features)) / np.sqrt(n_features)
    rng = np.random.RandomState(1 + part)
    X = rng.standard_normal((n, n_features)).astype(np.float32)
    z0, z1 = X @ weights[0], X @ weights[1]
    logits = np.column_stack([z0, 0.8 * z0 + 0.6 * z1 + np.sin(3 * z1)])
    Y = (logits + 0.5 * rng.standard_normal((n, 2)) > 0).astype(np.int8)
    return X, Y


def write_dataset(folder: Path, rows: int, n_features: int, row_group: int) -> int:
    """Write ``rows`` rows in files of one row group each; return the bytes they take in memory."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [f"x{j}" for j in range(n_features)]
    for part, start in enumerate(range(0, rows, row_group)):
        n = min(row_group, rows - start)
        X, Y = task_chunk(n, n_features, part)
        frame = pd.DataFrame(X, columns=columns)
        frame[TASKS[0]], frame[TASKS[1]] = Y[:, 0], Y[:, 1]
        pq.write_table(pa.Table.from_pandas(frame), folder / f"part-{part:05d}.parquet")
        print(f"  wrote {start + n:,}/{rows:,} rows", file=sys.stderr, flush=True)
    return rows * (4 * n_features + 2)


def _vm(field: str) -> float:
    """A ``/proc/self/status`` memory field, in GiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / GIB
    return float("nan")


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB  # kB on Linux


def train(args) -> dict:
    """In the child: cap the address space, stream-train, stream-predict, try a full load."""
    import pyarrow.parquet as pq
    from sklearn.metrics import roc_auc_score

    from sklearn_mtl import MMoEClassifier
    from sklearn_mtl.stream import ParquetBatches

    resource.setrlimit(resource.RLIMIT_AS, (int(args.limit_gib * GIB),) * 2)
    print(f"  address space at the start: {_vm('VmSize'):.2f} GiB of {args.limit_gib} GiB",
          file=sys.stderr, flush=True)  # fmt: skip
    batches = ParquetBatches(args.folder, TASKS, batch_rows=args.batch_rows, shuffle=True,
                             random_state=0)  # fmt: skip
    model = MMoEClassifier(
        args.n_experts, expert_units=(args.units,), tower_units=(args.units // 2,),
        batch_size=args.batch_size, lr=1e-3, random_state=0,
    )  # fmt: skip
    start = time.perf_counter()
    for epoch in range(args.epochs):
        for X, y in batches:
            model.partial_fit(X, y, classes=[[0, 1], [0, 1]])
        print(f"  epoch {epoch + 1}/{args.epochs}: {time.perf_counter() - start:.0f} s",
              file=sys.stderr, flush=True)  # fmt: skip
    fit_seconds = time.perf_counter() - start
    rss_after_fit = peak_rss_gib()
    start = time.perf_counter()
    scores, labels = [], []
    for X, y in ParquetBatches(args.folder, TASKS, batch_rows=args.batch_rows):
        scores.append(model.predict_proba(X)[0][:, 1].astype(np.float32))
        labels.append(y[:, 0].astype(np.int8))
    predict_seconds = time.perf_counter() - start
    # on an evenly spaced sample of 10^6 rows: the metric itself would not fit the limit
    labels, scores = np.concatenate(labels), np.concatenate(scores)
    step = max(1, len(labels) // 1_000_000)
    auc = roc_auc_score(labels[::step], scores[::step])
    del labels, scores
    rss_after_predict = peak_rss_gib()  # before the whole-load attempt below
    try:
        table = pq.read_table(args.folder)
        whole_load = f"succeeded ({table.nbytes / GIB:.2f} GiB): the limit is not binding"
    except MemoryError as error:  # pyarrow's ArrowMemoryError is a MemoryError
        whole_load = f"failed as expected: {type(error).__name__}"
    return {
        "fit_seconds": fit_seconds,
        "fit_rows_per_second": batches.n_rows_ * args.epochs / fit_seconds,
        "predict_seconds": predict_seconds,
        "predict_rows_per_second": batches.n_rows_ / predict_seconds,
        "peak_rss_gib_after_fit": rss_after_fit,
        "peak_rss_gib": rss_after_predict,
        "peak_address_space_gib": _vm("VmPeak"),
        "test_auc_task0_on_training_rows": auc,
        "partial_fit_calls": model.n_iter_,
        "whole_data_set_load_under_the_limit": whole_load,
    }


def run(args) -> dict:
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        folder = Path(scratch)
        rows = args.rows or int(args.ratio * args.limit_gib * GIB / (4 * args.n_features + 2))
        start = time.perf_counter()
        data_bytes = write_dataset(folder, rows, args.n_features, args.row_group)
        written = time.perf_counter() - start
        on_disk = sum(f.stat().st_size for f in folder.glob("*.parquet"))
        print(f"  {rows:,} rows, {data_bytes / GIB:.2f} GiB in memory, {on_disk / GIB:.2f} GiB "
              f"on disk, written in {written:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
        child = [sys.executable, __file__, "--child", str(folder), *args.passthrough]
        # pyarrow's default allocator (mimalloc) reserves over 1 GiB of address
        # space up front; the system allocator reserves what it uses
        # glibc gives each thread that allocates an arena of its own (64 MiB of address
        # space each); torch's and pyarrow's thread pools would spend the limit on them
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2"}
        result = subprocess.run(child, capture_output=True, text=True, env=env)
        sys.stderr.write(result.stderr)
        if result.returncode:
            raise SystemExit(f"the training process failed (exit {result.returncode})")
        measured = json.loads(result.stdout.splitlines()[-1])
    return {
        "benchmark": "out_of_core",
        "environment": environment(),
        "config": {k: v for k, v in vars(args).items() if k not in ("output", "passthrough")},
        "results": {
            "rows": rows,
            "data_set_gib_in_memory": data_bytes / GIB,
            "data_set_gib_on_disk": on_disk / GIB,
            "memory_limit_gib": args.limit_gib,
            "data_set_over_limit": data_bytes / GIB / args.limit_gib,
            **measured,
        },
    }


def format_table(report: dict) -> str:
    r = report["results"]
    rows = [
        ("rows", f"{r['rows']:,}"),
        (
            "data set in memory / on disk",
            f"{r['data_set_gib_in_memory']:.2f} / {r['data_set_gib_on_disk']:.2f} GiB",
        ),  # fmt: skip
        ("address-space limit (RLIMIT_AS)", f"{r['memory_limit_gib']:.2f} GiB"),
        ("data set / limit", f"{r['data_set_over_limit']:.1f}x"),
        ("partial_fit rows/s", f"{r['fit_rows_per_second']:,.0f}"),
        ("streamed predict_proba rows/s", f"{r['predict_rows_per_second']:,.0f}"),
        (
            "peak RSS (fit / fit + predict)",
            f"{r['peak_rss_gib_after_fit']:.2f} / {r['peak_rss_gib']:.2f} GiB",
        ),  # fmt: skip
        ("ROC AUC, task 0", f"{r['test_auc_task0_on_training_rows']:.3f}"),
        ("whole data set loaded under the limit", r["whole_data_set_load_under_the_limit"]),
    ]
    return "\n".join(["| measure | value |", "|---|---:|", *(f"| {a} | {b} |" for a, b in rows)])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-gib", type=float, default=2.0,
                        help="address-space limit of the training process")  # fmt: skip
    parser.add_argument("--ratio", type=float, default=3.0, help="data set size / limit")
    parser.add_argument("--rows", type=int, default=None, help="rows (overrides --ratio)")
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--row-group", type=int, default=100_000, help="rows per Parquet file")
    parser.add_argument("--batch-rows", type=int, default=65_536, help="rows per partial_fit")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--n-experts", type=int, default=4)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--scratch", default=None, help="folder for the temporary data set")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    # the child's options: everything but where the data set and the results go
    args.passthrough = [
        f"--{name.replace('_', '-')}={getattr(args, name)}"
        for name in ("limit_gib", "batch_rows", "batch_size", "n_experts", "units", "epochs")
    ]
    return args


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        args = parse_args(argv[2:])
        args.folder = argv[1]
        print(json.dumps(train(args)))
        return {}
    return benchmark_main(argv, parse_args, run, format_table, output=RESULTS / "out_of_core.json")


if __name__ == "__main__":
    main()
