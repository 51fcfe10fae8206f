"""Training on a Parquet data set several times larger than the process's memory limit.

The script writes a Parquet data set (``make_task_pair``, binary tasks, float32
features) of ``--ratio`` times the memory limit, then trains an
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

RESULTS = Path(__file__).resolve().parent / "results"
GIB = 2**30
TASKS = ["task0", "task1"]


def write_dataset(folder: Path, rows: int, n_features: int, row_group: int) -> int:
    """Write ``rows`` rows in files of one row group each; return the bytes they take in memory."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sklearn_mtl.datasets import make_task_pair

    columns = [f"x{j}" for j in range(n_features)]
    for part, start in enumerate(range(0, rows, row_group)):
        n = min(row_group, rows - start)
        X, Y = make_task_pair(n, 0.8, n_features=n_features, target="binary", random_state=part)
        frame = pd.DataFrame(X.astype(np.float32), columns=columns)
        frame[TASKS[0]], frame[TASKS[1]] = Y[:, 0].astype(np.int8), Y[:, 1].astype(np.int8)
        pq.write_table(pa.Table.from_pandas(frame), folder / f"part-{part:05d}.parquet")
        print(f"  wrote {start + n:,}/{rows:,} rows", file=sys.stderr, flush=True)
    return rows * (4 * n_features + 2)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB  # kB on Linux


def train(args) -> dict:
    """In the child: cap the address space, stream-train, stream-predict, try a full load."""
    import pyarrow.parquet as pq
    from sklearn.metrics import roc_auc_score

    from sklearn_mtl import MMoEClassifier
    from sklearn_mtl.stream import ParquetBatches

    resource.setrlimit(resource.RLIMIT_AS, (int(args.limit_gib * GIB),) * 2)
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
    auc = roc_auc_score(np.concatenate(labels), np.concatenate(scores))
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
        "peak_rss_gib": peak_rss_gib(),
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
        env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "system"}
        result = subprocess.run(child, capture_output=True, text=True, env=env)
        sys.stderr.write(result.stderr)
        if result.returncode:
            raise SystemExit(f"the training process failed (exit {result.returncode})")
        measured = json.loads(result.stdout.splitlines()[-1])
    return {
        "benchmark": "out_of_core",
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
    parser.add_argument("--row-group", type=int, default=250_000, help="rows per Parquet file")
    parser.add_argument("--batch-rows", type=int, default=131_072, help="rows per partial_fit")
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
    args = parse_args(argv)
    report = run(args)
    table = format_table(report)
    print(table)
    output = args.output or RESULTS / "out_of_core.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    output.with_suffix(".md").write_text(table + "\n")
    print(f"wrote {output}")
    return report


if __name__ == "__main__":
    main()
