"""One entry point for every benchmark.

``python -m benchmarks list`` names them; ``python -m benchmarks run NAME
[--quick|--full] [--device cuda] [-- extra options of the script]`` runs one.
A quick run writes under ``benchmarks/results/quick/`` (not versioned); a full
run writes the versioned results in ``benchmarks/results/``. Every run prints
its table; long runs print their progress on stderr.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# name: (what it measures, options of a quick run, options of a full run, takes --device)
BENCHMARKS = {
    "synthetic": (
        "the MMoE paper's synthetic experiment: loss curves, trainability, its four claims",
        ["--preset", "quick", "--jobs", "2"],
        ["--preset", "full"],
        True,
    ),
    "adult": (
        "Adult census task groups: every multi-task, single-task and linear model, same split",
        ["--seeds", "1", "--task-groups", "income", "--max-epochs", "4", "--alphas", "4"],
        [],
        False,
    ),
    "esmm": (
        "ESMM vs independent CTR/CVR models on the 401(k) eligibility -> participation funnel",
        ["--seeds", "2"],
        ["--seeds", "10"],
        False,
    ),
    "linear": (
        "l1/lq solvers vs scikit-learn's MultiTaskLasso (and celer) on a correlated design",
        ["--n-samples", "1000", "--n-features", "100", "--n-tasks", "5", "--repeats", "1"],
        [],
        False,
    ),
    "linear_cv": (
        "cross-validated sparse logistic models vs per-task LogisticRegressionCV, same grid",
        ["--data", "--wide", "3000", "--repeats", "1", "--alphas", "4"],
        [],
        False,
    ),
    "weighting": (
        "every loss weighting on synthetic pairs and Adult; cost per epoch vs equal",
        ["--seeds", "1", "--epochs", "5", "--adult-rows", "5000"],
        [],
        False,
    ),
    "throughput": (
        "every architecture's fit and predict_proba vs hand-written loops (and DeepCTR-Torch)",
        ["--n-samples", "20000", "--repeats", "1"],
        [],
        True,
    ),
    "out_of_core": (
        "partial_fit from Parquet 3x larger than the process's memory limit: rows/s, peak RSS",
        ["--rows", "400000", "--row-group", "100000"],
        [],
        False,
    ),
    "serving": (
        "onnxruntime on the exported graph vs predict_proba: single-row latency, batch rows/s",
        ["--calls", "50", "--batch-rows", "2000", "--repeats", "3"],
        [],
        False,
    ),
    "scaling": (
        "data-parallel training throughput vs processes; Dask search wall time vs workers",
        ["--n-samples", "20000", "--processes", "1", "2", "--workers", "1", "2", "--grid", "4"],
        [],
        False,
    ),
}


def output_path(name: str, quick: bool, device: str) -> Path:
    folder = RESULTS / "quick" if quick else RESULTS
    suffix = f"-{device.split(':')[0]}" if name == "throughput" else ""
    stem = {"synthetic": "synthetic-quick" if quick else "synthetic-full"}.get(name, name)
    return folder / f"{stem}{suffix}.json"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="name every benchmark")
    run = commands.add_parser("run", help="run one benchmark")
    run.add_argument("name", choices=sorted(BENCHMARKS))
    size = run.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small settings, minutes on a CPU")
    size.add_argument("--full", action="store_true", help="the settings the README reports")
    run.add_argument("--device", default="cpu")
    args, extra = parser.parse_known_args(argv)
    if extra[:1] == ["--"]:  # options after -- go to the benchmark script
        extra = extra[1:]
    if args.command == "list":
        for name, (summary, *_rest) in BENCHMARKS.items():
            print(f"{name:12} {summary}")
        return
    summary, quick_options, full_options, takes_device = BENCHMARKS[args.name]
    options = list(full_options if args.full else quick_options)
    if takes_device:
        options += ["--device", args.device]
    options += ["--output", str(output_path(args.name, not args.full, args.device))]
    print(f"# {args.name}: {summary}\n", flush=True)
    importlib.import_module(f"benchmarks.{args.name}").main(options + extra)


if __name__ == "__main__":
    main()
