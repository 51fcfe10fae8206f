"""The default ``alpha="auto"`` of the l1/lq models: which fraction of ``alpha_max``.

For each data set and each fraction ``r`` of ``alpha_max`` (the smallest
alpha that keeps no feature), fits ``MultiTaskL1LqRegressor`` or
``MultiTaskL1LqClassifier`` at ``r * alpha_max`` on a training split and
scores it on the held-out rows (R^2, or mean ROC AUC over tasks), beside the
alpha chosen by the ``...CV`` estimator. The default is the fraction that
stays closest to the cross-validated score across data sets.

Data: two tasks of ``make_task_pair`` (20 features, binary and regression);
200 Gaussian features of which 10 matter, 3 tasks (regression and
classification); one-hot Adult (income group, 8,000 rows).
``python -m benchmarks run default_alpha --full``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_mtl import (
    MultiTaskL1LqClassifier,
    MultiTaskL1LqClassifierCV,
    MultiTaskL1LqRegressor,
    MultiTaskL1LqRegressorCV,
)
from sklearn_mtl.datasets import load_adult, make_task_pair
from sklearn_mtl.linear import alpha_max

try:
    from ._environment import environment
    from ._report import benchmark_main
    from .adult import one_hot
except ImportError:  # run as a script: python benchmarks/default_alpha.py
    from _environment import environment
    from _report import benchmark_main
    from adult import one_hot

RESULTS = Path(__file__).resolve().parent / "results"


def data_sets(adult_rows: int) -> dict:
    rng = np.random.default_rng(0)
    sets = {}
    X, Y = make_task_pair(3000, 0.5, n_features=20, target="binary", random_state=0)
    sets["task pair, classification"] = ("classification", X, Y)
    X, Y = make_task_pair(3000, 0.5, n_features=20, target="regression", random_state=0)
    sets["task pair, regression"] = ("regression", X, Y)
    X = rng.standard_normal((500, 200))
    W = np.zeros((200, 3))
    W[:10] = rng.standard_normal((10, 3))
    noisy = X @ W + rng.standard_normal((500, 3))
    sets["10 of 200 features, regression"] = ("regression", X, noisy)
    sets["10 of 200 features, classification"] = ("classification", X, (noisy > 0).astype(int))
    if adult_rows:
        X, Y = load_adult(task_group="income", return_X_y=True)
        X = one_hot().fit_transform(X.iloc[:adult_rows])
        sets["Adult, one-hot"] = ("classification", X, Y.to_numpy()[:adult_rows])
    return sets


def score(model, kind, X, Y) -> float:
    if kind == "regression":
        return float(r2_score(Y, model.predict(X)))
    probas = model.predict_proba(X)
    return float(np.mean([roc_auc_score(Y[:, t], p[:, 1]) for t, p in enumerate(probas)]))


def run(args) -> dict:
    rows = []
    for name, (kind, X, Y) in data_sets(args.adult_rows).items():
        X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
        classify = kind == "classification"
        estimator = MultiTaskL1LqClassifier() if classify else MultiTaskL1LqRegressor()
        top = alpha_max(estimator, X_train, Y_train)
        searched = (MultiTaskL1LqClassifierCV if classify else MultiTaskL1LqRegressorCV)(
            alphas=args.cv_alphas, cv=3
        ).fit(X_train, Y_train)
        row = {
            "data": name,
            "shape": list(X.shape),
            "metric": "mean ROC AUC" if classify else "R^2",
            "cv_score": score(searched, kind, X_test, Y_test),
            "cv_alpha_ratio": searched.alpha_ / top,
            "scores": {},
        }
        for ratio in args.ratios:
            model = estimator.set_params(alpha=ratio * top).fit(X_train, Y_train)
            row["scores"][str(ratio)] = score(model, kind, X_test, Y_test)
        rows.append(row)
        print(f"  {name}: done", file=sys.stderr, flush=True)
    return {
        "benchmark": "default_alpha",
        "settings": {"ratios": args.ratios, "cv_alphas": args.cv_alphas},
        "environment": environment(),
        "results": rows,
    }


def table(report) -> str:
    ratios = report["settings"]["ratios"]
    lines = [
        "| data | metric | " + " | ".join(f"{r:g} alpha_max" for r in ratios)
        + " | CV (its alpha / alpha_max) |",
        "|---|---|" + "---:|" * (len(ratios) + 1),
    ]  # fmt: skip
    for row in report["results"]:
        cells = " | ".join(f"{row['scores'][str(r)]:.3f}" for r in ratios)
        lines.append(
            f"| {row['data']} | {row['metric']} | {cells} | "
            f"{row['cv_score']:.3f} ({row['cv_alpha_ratio']:.3g}) |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.3, 0.1, 0.05, 0.02, 0.01])
    parser.add_argument("--cv-alphas", type=int, default=20)
    parser.add_argument("--adult-rows", type=int, default=8000, help="0 leaves Adult out")
    parser.add_argument("--output", type=Path, default=RESULTS / "default_alpha.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(argv, parse_args, run, table, ignore=(ConvergenceWarning,))


if __name__ == "__main__":
    main()
