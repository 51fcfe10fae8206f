"""The synthetic benchmark's options: its presets and its command line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

try:
    from ._synthetic_claims import EQUAL, SWEEP_MODELS
except ImportError:  # run as a script
    from _synthetic_claims import EQUAL, SWEEP_MODELS

__all__ = ["LEARNING_RATES", "MAIN_MODELS", "PRESETS", "parse_options"]

MAIN_MODELS = ["Shared-Bottom (16)", "Shared-Bottom (113)", "OMoE", "MMoE", "PLE (CGC)"]
LEARNING_RATES = [1e-4, 1e-3, 1e-2]
PRESETS = {
    # the demo's: a minute on two cores, progress after every stack
    "quick": {
        "runs": 8,
        "n_samples": 3000,
        "epochs": 10,
        "lr_runs": 0,
        "learning_rates": [1e-2],
        "sweep_correlations": [1.0, 0.5],
    },
    "full": {
        "runs": 50,
        "n_samples": 11000,
        "epochs": 40,
        "lr_runs": 5,
        "learning_rates": LEARNING_RATES,
        "sweep_correlations": [1.0, 0.9, 0.8, 0.7, 0.5, 0.3, 0.0],
    },
}


def parse_options(argv=None, description: str | None = None) -> argparse.Namespace:
    """The benchmark's options: a preset, then the options given, checked."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--runs", type=int, help="runs per (model, correlation)")
    parser.add_argument("--n-samples", type=int, help="rows per run, held-out ones included")
    parser.add_argument("--n-valid", type=int, help="held-out rows (default: 1/11 of the rows)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr-runs", type=int, help="runs per candidate learning rate (0: none)")
    parser.add_argument("--learning-rates", type=float, nargs="+", help="one: no selection")
    parser.add_argument("--function-seed", type=int, default=0, help="the experiment's function")
    parser.add_argument("--correlations", type=float, nargs="+", default=[1.0, 0.9, 0.5])
    parser.add_argument("--models", nargs="+", choices=MAIN_MODELS, default=MAIN_MODELS)
    parser.add_argument("--sweep-correlations", type=float, nargs="*")
    parser.add_argument(
        "--sweep-models", nargs="*", choices=[*MAIN_MODELS, EQUAL], default=SWEEP_MODELS
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--stack-size",
        type=int,
        help="runs trained together (default: 50 on a CPU, all of a model's "
        "runs on a GPU); results repeat exactly for the same value",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="stacks in parallel processes (default: one per core on a CPU, one on a GPU); "
        "the numbers do not depend on it",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--data-jobs",
        type=int,
        default=None,
        help="processes drawing the data (default: all cores on a GPU, else 1)",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    parser.add_argument("--no-figures", action="store_true", help="write no figure")
    parser.add_argument(
        "--rereport",
        action="store_true",
        help="recompute the claims, tables and figures of --output's JSON",
    )
    parser.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="N",
        help="rerun the first N stacks of --output's stored JSON and compare",
    )
    args = parser.parse_args(argv)
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.n_valid is None:
        args.n_valid = max(1, round(args.n_samples / 11))
    gpu = not args.device.startswith("cpu")
    if args.stack_size is None:
        args.stack_size = 0 if gpu else 50
    if args.jobs is None:
        args.jobs = 1 if gpu else (os.cpu_count() or 1)
    if args.data_jobs is None:
        args.data_jobs = (os.cpu_count() or 1) if gpu else 1
    for name in ("runs", "n_samples", "epochs", "batch_size", "threads", "jobs", "data_jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("lr_runs", "stack_size"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be at least 0")
    if not 0 < args.n_valid < args.n_samples:
        parser.error("--n-valid must be between 1 and --n-samples - 1")
    return args
