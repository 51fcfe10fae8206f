"""Demo: train every estimator on the MMoE paper's synthetic task pair.

``python -m sklearn_mtl`` fits Shared-Bottom, OMoE, MMoE, PLE (CGC) and
Cross-Stitch classifiers and regressors on ``make_task_pair`` data at two task
correlations, and prints per-task test metrics (ROC AUC for classifiers, R^2
for regressors) and fit times; then an MMoE with embeddings on the bundled Adult
census data. ``--help`` lists the options.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from . import (
    CrossStitchClassifier,
    CrossStitchRegressor,
    MMoEClassifier,
    MMoERegressor,
    OMoEClassifier,
    OMoERegressor,
    PLEClassifier,
    PLERegressor,
    SharedBottomClassifier,
    SharedBottomRegressor,
)
from .datasets import load_adult, make_task_pair

MODELS = {
    "Shared-Bottom": (SharedBottomClassifier, SharedBottomRegressor, {"bottom_units": (113,)}),
    "OMoE": (OMoEClassifier, OMoERegressor, {"n_experts": 8, "expert_units": (16,)}),
    "MMoE": (MMoEClassifier, MMoERegressor, {"n_experts": 8, "expert_units": (16,)}),
    "PLE": (
        PLEClassifier,
        PLERegressor,
        {"n_task_experts": 2, "n_shared_experts": 4, "n_levels": 1, "expert_units": (16,)},
    ),
    "Cross-Stitch": (CrossStitchClassifier, CrossStitchRegressor, {"column_units": (64,)}),
}
"""The MMoE paper's sizes: 8 experts of 16 units (PLE: 2 per task + 4 shared), a
113-unit bottom, or two 64-unit stitched columns, of about equal size."""


def run(n_samples=6000, correlations=(0.5, 0.9), max_epochs=30, random_state=0):
    """Fit every model at every correlation; return one result row per (model, task)."""
    rows = []
    for correlation in correlations:
        for target in ("binary", "regression"):
            X, Y = make_task_pair(n_samples, correlation, target=target, random_state=random_state)
            X_train, X_test, Y_train, Y_test = train_test_split(
                X, Y, test_size=0.25, random_state=random_state
            )
            for classifier, regressor, params in MODELS.values():
                estimator = classifier if target == "binary" else regressor
                model = estimator(
                    **params, tower_units=(8,), max_epochs=max_epochs, random_state=random_state
                )
                start = time.perf_counter()
                model.fit(X_train, Y_train)
                seconds = time.perf_counter() - start
                if target == "binary":
                    probas = model.predict_proba(X_test)
                    scores = [roc_auc_score(Y_test[:, t], probas[t][:, 1]) for t in range(2)]
                else:
                    prediction = model.predict(X_test)
                    scores = [r2_score(Y_test[:, t], prediction[:, t]) for t in range(2)]
                rows.append(
                    {
                        "correlation": correlation,
                        "model": type(model).__name__,
                        "metric": "ROC AUC" if target == "binary" else "R^2",
                        "task 1": scores[0],
                        "task 2": scores[1],
                        "fit seconds": seconds,
                    }
                )
                print(_format_row(rows[-1]), flush=True)
    return rows


_HEADER = (
    "| correlation | model | metric | task 1 | task 2 | fit seconds |\n"
    "|---:|---|---|---:|---:|---:|"
)


def _format_row(row: dict) -> str:
    return (
        f"| {row['correlation']} | {row['model']} | {row['metric']} | {row['task 1']:.3f} "
        f"| {row['task 2']:.3f} | {row['fit seconds']:.1f} |"
    )


def run_adult(n_rows=None, max_epochs=10, random_state=0):
    """MMoE with embeddings on the bundled Adult data (income group), UCI's test split."""
    X, Y = load_adult(task_group="income", return_X_y=True)
    X_test, Y_test = load_adult(task_group="income", subset="test", return_X_y=True)
    if n_rows:
        X, Y, X_test, Y_test = X[:n_rows], Y[:n_rows], X_test[:n_rows], Y_test[:n_rows]
    model = MMoEClassifier(8, expert_units=(64,), max_epochs=max_epochs, random_state=random_state)
    start = time.perf_counter()
    model.fit(X, Y)
    seconds = time.perf_counter() - start
    probas = model.predict_proba(X_test)
    scores = [roc_auc_score(Y_test.iloc[:, t], probas[t][:, 1]) for t in range(2)]
    print(
        f"\nAdult census (load_adult, {len(X)} training rows, {int(model.is_categorical_.sum())} "
        f"categorical columns embedded), MMoEClassifier, {max_epochs} epochs, {seconds:.1f} s:\n"
        f"test ROC AUC {Y.columns[0]} {scores[0]:.3f}, {Y.columns[1]} {scores[1]:.3f}"
    )
    return scores


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m sklearn_mtl", description=__doc__)
    parser.add_argument("--n-samples", type=int, default=6000)
    parser.add_argument("--correlations", type=float, nargs="+", default=[0.5, 0.9])
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument(
        "--adult-rows", type=int, default=None, help="Adult rows to use (default: all)"
    )
    args = parser.parse_args(argv)
    print(
        f"Synthetic task pairs (make_task_pair), {args.n_samples} rows, 100 features, "
        f"75/25 train/test split, {args.max_epochs} epochs; test metrics per task.\n"
    )
    print(_HEADER, flush=True)
    rows = run(args.n_samples, args.correlations, args.max_epochs, args.random_state)
    mean_fit = np.mean([row["fit seconds"] for row in rows])
    print(f"\n{len(rows)} fits, {mean_fit:.1f} s per fit on average.")
    run_adult(args.adult_rows, random_state=args.random_state)
    return rows


if __name__ == "__main__":
    main()
