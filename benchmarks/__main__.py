"""One entry point for every benchmark.

``python -m benchmarks list`` names them; ``python -m benchmarks run NAME
[--quick|--full] [--device cuda] [-- extra options of the script]`` runs one.
A quick run writes under ``benchmarks/results/quick/`` (not versioned); a full
run writes the versioned results in ``benchmarks/results/``. Every run prints
its table; long runs print their progress on stderr.

``python -m benchmarks demo`` is ``make demo``: the quick synthetic and Adult
runs, each read against its stored full run, and the answer they support.

``python -m benchmarks smoke FOLDER`` runs every benchmark at tiny sizes in
one process (seconds each; the test suite checks what they write): whether
each still runs, not what it measures.
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
    "task_groups": (
        "which tasks to train together: affinity-chosen groups against one network for all",
        "--seeds 1 --planted-seeds 1 --planted-rows 3000 --adult-rows 6000 --epochs 10".split(),
        [],
        False,
    ),
    "weak_supervision": (
        "multi-task weak supervision: the label model vs majority vote, Snorkel and MeTaL",
        ["--items", "5000", "--seeds", "1", "--speed-items", "0", "--adult-epochs", "5"],
        [],
        False,
    ),
    "adult": (
        "Adult census task groups: every multi-task, single-task and linear model, same split",
        "--seeds 1 --task-groups income --max-epochs 4 --alphas 4".split(),
        [],
        False,
    ),
    "adult_tuned": (
        "Adult: MMoE vs per-task HistGradientBoosting, each with the same random search budget",
        ["--seeds", "1", "--task-groups", "income", "--candidates", "4"],
        [],
        False,
    ),
    "defaults": (
        "the networks' default training settings, measured on every bundled data set",
        ["--quick"],
        [],
        False,
    ),
    "label_scarcity": (
        "learning curves: a task's labels at 1-100 %, multi-task vs single-task, linear, boosting",
        [
            "--datasets",
            "adult five",
            "--targets",
            "income_over_50k",
            "--fractions",
            "0.01",
            "0.05",
            "1",
            "--seeds",
            "1",
            "--models",
            "MMoE",
            "MMoE, target alone",
            "HistGradientBoosting",
            "LogisticRegression (CV)",
            "l1/l2 logistic (CV)",
        ],
        [],
        False,
    ),  # fmt: skip
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
    "default_alpha": (
        "the l1/lq models' default alpha: held-out scores at fractions of alpha_max vs CV",
        ["--adult-rows", "2000", "--cv-alphas", "8"],
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
        ["--compile", "default"],
        True,
    ),
    "gpu_check": (
        "tests/test_gpu.py, then MMoE and PLE fit/predict rows/s, eager and compiled, 1M rows",
        ["--n-samples", "100000", "--batch-size", "1024", "--repeats", "1"],
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


SMOKE = {
    "synthetic": ["--preset", "quick", "--runs", "1", "--n-samples", "600", "--epochs", "2",
                  "--correlations", "0.9", "--jobs", "1"],
    "task_groups": ["--seeds", "1", "--planted-seeds", "1", "--planted-rows", "400",
                    "--adult-rows", "500",
                    "--epochs", "2", "--split-every", "1", "--jobs", "1"],
    "adult": ["--task-groups", "income", "--seeds", "1", "--n-train", "800", "--models",
              "MMoE", "MMoE, periodic embeddings", "l1/l2 logistic (CV)",
              "LogisticRegression (one-hot, C by CV)"],
    "adult_tuned": ["--task-groups", "income", "--seeds", "1", "--n-train", "600",
                    "--candidates", "1", "--max-epochs", "1"],
    "defaults": ["--seeds", "1", "--max-epochs", "2", "--datasets", "task pair, 300 rows",
                 "401(k) funnel", "--candidates", "early stopping (auto), constant rate",
                 "4 members from 5,000 rows (auto)"],
    "esmm": ["--seeds", "1", "--epochs", "2", "--rows", "1500"],
    "label_scarcity": ["--datasets", "task groups", "--task-rows", "600", "--fractions", "0.05",
                       "1", "--seeds", "2", "--max-epochs", "2", "--settings", "target", "all",
                       "--models", "MMoE", "MMoE, target alone", "l1/l2 logistic (CV)",
                       "mean-regularised logistic", "HistGradientBoosting",
                       "MMoE, unstratified split"],
    "weak_supervision": ["--items", "600", "--seeds", "1", "--speed-items", "2000",
                         "--speed-sources", "5", "--adult-epochs", "1", "--adult-rows", "800"],
    "linear": ["--n-samples", "300", "--n-features", "30", "--n-tasks", "3", "--n-active", "4",
               "--ratios", "0.1", "--tol", "1e-6", "--repeats", "1"],
    "linear_cv": ["--data", "--wide", "100", "--alphas", "3", "--repeats", "1"],
    "default_alpha": ["--adult-rows", "0", "--cv-alphas", "3", "--ratios", "0.1", "0.05"],
    "weighting": ["--correlations", "0.9", "--n-samples", "400", "--epochs", "2", "--seeds",
                  "1", "--adult-rows", "400"],
    "throughput": ["--n-samples", "2000", "--n-experts", "2", "--expert-units", "8",
                   "--repeats", "1", "--epochs", "1", "--batch-size", "512", "--no-peer"],
    "gpu_check": ["--device", "cpu", "--n-samples", "2000", "--n-experts", "2", "--expert-units",
                  "8", "--repeats", "1", "--batch-size", "512", "--architectures", "MMoE",
                  "--compile", "default"],
    "out_of_core": ["--rows", "20000", "--row-group", "5000", "--batch-rows", "4096",
                    "--n-features", "10"],
    "scaling": ["--processes", "2", "--workers", "1", "--n-samples", "4096", "--expert-units",
                "16", "--grid", "2", "--search-samples", "1000", "--search-epochs", "1"],
    "serving": ["--calls", "5", "--batch-rows", "500", "--repeats", "1"],
}  # fmt: skip
"""Tiny options of every benchmark for ``smoke``."""

NEEDS = {"out_of_core": ["pyarrow"], "scaling": ["accelerate", "distributed"],
         "serving": ["onnxruntime", "onnxscript"]}  # fmt: skip
"""Optional packages a benchmark needs; ``smoke`` skips it without them."""


def smoke(folder: Path, names) -> int:
    """Every benchmark at tiny sizes, one after another; the number that failed."""
    import traceback
    from importlib.util import find_spec

    failed = []
    for name in names:
        missing = [package for package in NEEDS.get(name, []) if find_spec(package) is None]
        print(f"# {name}: smoke run", flush=True)
        if missing:
            print(f"skipped: needs {', '.join(missing)}\n", flush=True)
            continue
        options = [*SMOKE[name], "--output", str(folder / f"{name}.json")]
        if name == "out_of_core":
            options += ["--scratch", str(folder)]
        try:
            importlib.import_module(f"benchmarks.{name}").main(options)
        except Exception:  # report it and go on: one broken benchmark hides no other
            traceback.print_exc()
            failed.append(name)
        print(flush=True)
    if failed:
        print(f"smoke runs failed: {', '.join(failed)}", flush=True)
    return len(failed)


def output_path(name: str, quick: bool, device: str) -> Path:
    folder = RESULTS / "quick" if quick else RESULTS
    suffix = f"-{device.split(':')[0]}" if name in ("throughput", "gpu_check") else ""
    stem = {"synthetic": "synthetic-quick" if quick else "synthetic-full",
            "gpu_check": "gpu-check"}.get(name, name)  # fmt: skip
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
    demo = commands.add_parser("demo", help="make demo: two quick runs against the stored ones")
    demo.add_argument("options", nargs="*", help="options of benchmarks/demo.py")
    check = commands.add_parser("smoke", help="every benchmark at tiny sizes, in one process")
    check.add_argument("folder", type=Path, help="where the results go")
    check.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), default=list(BENCHMARKS))
    args, extra = parser.parse_known_args(argv)
    if extra[:1] == ["--"]:  # options after -- go to the benchmark script
        extra = extra[1:]
    if args.command == "list":
        for name, (summary, *_rest) in BENCHMARKS.items():
            print(f"{name:12} {summary}")
        return
    if args.command == "demo":
        importlib.import_module("benchmarks.demo").main(args.options + extra)
        return
    if args.command == "smoke":
        args.folder.mkdir(parents=True, exist_ok=True)
        raise SystemExit(1 if smoke(args.folder, args.only) else 0)
    summary, quick_options, full_options, takes_device = BENCHMARKS[args.name]
    options = list(full_options if args.full else quick_options)
    if takes_device:
        options += ["--device", args.device]
    options += ["--output", str(output_path(args.name, not args.full, args.device))]
    print(f"# {args.name}: {summary}\n", flush=True)
    importlib.import_module(f"benchmarks.{args.name}").main(options + extra)


if __name__ == "__main__":
    main()
