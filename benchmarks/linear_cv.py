"""Cross-validated sparse logistic models: sklearn_mtl against scikit-learn, same grid.

``MultiTaskL1LqClassifierCV`` fits one multi-task model per alpha and fold
(a warm-started path); scikit-learn fits one ``LogisticRegressionCV`` per
task. Both get the same folds, the same number of grid points and the same
stopping tolerance, and both choose by held-out log loss:

- ``LogisticRegressionCV`` with the l1 penalty (liblinear), on the grid of
  ``C = 1 / (n_train * alpha)`` that matches sklearn_mtl's alphas (its loss
  is a sum, ours a mean);
- ``LogisticRegressionCV`` with its default l2 penalty (lbfgs) and ``Cs``
  grid points, the model of the Adult benchmark's per-task baseline.

Data: Adult (income and never married, one-hot categories and scaled numeric
columns, 32,561 rows, the training file) and a wide design with 40 rows and
3,000 or 10,000 features of which 5 matter. Repeats are interleaved and
medians reported. ``python -m benchmarks run linear_cv --full``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import KFold

from sklearn_mtl import MultiTaskL1LqClassifierCV
from sklearn_mtl.datasets import load_adult

try:
    from ._environment import environment
    from ._report import benchmark_main
    from .adult import one_hot
except ImportError:  # run as a script: python benchmarks/linear_cv.py
    from _environment import environment
    from _report import benchmark_main
    from adult import one_hot

RESULTS = Path(__file__).resolve().parent / "results"


def adult():
    X, Y = load_adult(task_group="income", return_X_y=True)
    return one_hot().fit_transform(X), Y.to_numpy()


def wide(n_features, n_samples=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = np.zeros((n_features, 2))
    W[:5] = 2 * rng.standard_normal((5, 2))
    return X, (X @ W + 0.5 * rng.standard_normal((n_samples, 2)) > 0).astype(int)


def fit_ours(X, Y, folds, n_alphas, q):
    model = MultiTaskL1LqClassifierCV(alphas=n_alphas, q=q, cv=folds, tol=1e-4, max_iter=5000)
    return model.fit(X, Y)


def fit_sklearn(X, Y, folds, Cs, l1):
    options = {"l1_ratios": (1.0,), "solver": "liblinear"} if l1 else {"l1_ratios": (0.0,)}
    return [
        LogisticRegressionCV(
            Cs=Cs, cv=folds, scoring="neg_log_loss", tol=1e-4, max_iter=5000,
            use_legacy_attributes=False, **options,
        ).fit(X, Y[:, t])
        for t in range(Y.shape[1])
    ]  # fmt: skip


def run(args) -> dict:
    data = {"Adult": adult} if "adult" in args.data else {}
    for p in args.wide:
        data[f"wide, {p:,} features"] = lambda p=p: wide(p)
    rows = []
    for name, load in data.items():
        X, Y = load()
        folds = KFold(args.folds)
        n_train = len(X) * (args.folds - 1) / args.folds
        grid = fit_ours(X, Y, folds, args.alphas, 2).alphas_  # the grid every model uses
        models = {
            "sklearn_mtl l1/l2 (CV)": partial(fit_ours, X, Y, folds, args.alphas, 2),
            "sklearn_mtl l1/l-inf (CV)": partial(fit_ours, X, Y, folds, args.alphas, np.inf),
            "LogisticRegressionCV l1, per task": partial(
                fit_sklearn, X, Y, folds, 1 / (n_train * grid), l1=True
            ),
            "LogisticRegressionCV l2, per task": partial(
                fit_sklearn, X, Y, folds, args.alphas, l1=False
            ),
        }
        times = {model: [] for model in models}
        for repeat in range(args.repeats):
            for model, fit in models.items():
                start = time.perf_counter()
                fit()
                times[model].append(time.perf_counter() - start)
            print(f"  {name}: repeat {repeat + 1}/{args.repeats} done", file=sys.stderr)
        peer = statistics.median(times["LogisticRegressionCV l1, per task"])
        for model, seconds in times.items():
            median = statistics.median(seconds)
            rows.append({
                "data": name, "shape": list(X.shape), "model": model, "seconds": median,
                "time_vs_sklearn_l1": median / peer, "all_seconds": seconds,
            })  # fmt: skip
    return {
        "benchmark": "linear_cv",
        "settings": {
            "alphas": args.alphas,
            "folds": args.folds,
            "repeats": args.repeats,
            "tol": 1e-4,
        },  # fmt: skip
        "environment": environment(),
        "results": rows,
    }


def table(report) -> str:
    lines = [
        "| data (rows x features) | model | seconds | time vs LogisticRegressionCV l1 |",
        "|---|---|---:|---:|",
    ]
    for row in report["results"]:
        shape = " x ".join(f"{n:,}" for n in row["shape"])
        lines.append(
            f"| {row['data']} ({shape}) | {row['model']} | {row['seconds']:.2f} | "
            f"{row['time_vs_sklearn_l1']:.2f} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", nargs="*", default=["adult"], help="adult, or nothing")
    parser.add_argument("--wide", nargs="*", type=int, default=[3000, 10000])
    parser.add_argument("--alphas", type=int, default=8)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS / "linear_cv.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(argv, parse_args, run, table, ignore=(ConvergenceWarning,))


if __name__ == "__main__":
    main()
