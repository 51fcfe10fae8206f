"""Adult, tuned: MMoE against per-task gradient boosting, each with the same search budget.

For each task group of :func:`sklearn_mtl.datasets.load_adult` and each seed,
on the training file only:

- **MMoE** (one network for both tasks): ``RandomizedSearchCV`` over
  ``N_CANDIDATES`` settings drawn from ``NETWORK_SPACE`` (numeric embedding,
  its size and frequency scale, learning rate, dropout, weight decay), 3-fold
  CV, scored by the mean ROC AUC over the tasks
  (``sklearn_mtl.metrics.get_scorer("mean_roc_auc")``);
- **HistGradientBoosting**, one per task: the same search, ``N_CANDIDATES``
  settings from ``BOOSTING_SPACE`` (learning rate, leaves, leaf size, l2),
  3-fold CV, ROC AUC.

Both searches fit ``N_CANDIDATES x 3`` models per task (the network fits both
tasks at once), then refit the best on the whole training file; the test file
scores it once. The defaults of both, fitted once, sit beside them. Run
``python -m benchmarks run adult_tuned`` (``--quick``: one seed, the income
group, 4 candidates).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import loguniform
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, RandomizedSearchCV, StratifiedKFold

from sklearn_mtl import MMoEClassifier
from sklearn_mtl.metrics import get_scorer

try:
    from ._environment import environment
    from ._report import benchmark_main, mean_spread
    from .adult import TRAINING, adult_split
except ImportError:  # run as a script: python benchmarks/adult_tuned.py
    from _environment import environment
    from _report import benchmark_main, mean_spread
    from adult import TRAINING, adult_split

RESULTS = Path(__file__).resolve().parent / "results"

N_CANDIDATES = 8
"""Settings each search tries (times 3 folds: the fits per task)."""

NETWORK_SPACE = {
    "numeric_embedding": ["linear", "periodic", "piecewise_linear"],
    "numeric_embedding_size": [16, 32, 64],
    "periodic_sigma": [1.0, 3.0, 10.0, 30.0],
    "lr": loguniform(5e-4, 5e-3),
    "dropout": [0.0, 0.1, 0.2],
    "weight_decay": [0.0, 1e-5, 1e-4],
}
BOOSTING_SPACE = {
    "learning_rate": loguniform(0.02, 0.3),
    "max_leaf_nodes": [15, 31, 63, 127],
    "min_samples_leaf": [10, 20, 50, 100],
    "l2_regularization": [0.0, 0.1, 1.0, 10.0],
}


def network(seed, **params):
    """MMoE at the stored results' settings: one network (``n_ensemble=1``) unless ``params``
    say otherwise."""
    settings = {**TRAINING, "n_ensemble": 1, **params}
    return MMoEClassifier(8, expert_units=(64,), random_state=seed, **settings)


def boosting(seed, **params):
    return HistGradientBoostingClassifier(
        categorical_features="from_dtype", early_stopping=True, random_state=seed, **params
    )


def search(model, space, scoring, cv, args, seed):
    return RandomizedSearchCV(model, space, n_iter=args.candidates, scoring=scoring, cv=cv,
                              random_state=seed, refit=True, error_score="raise")  # fmt: skip


def run(args) -> dict:
    results = []
    for group in args.task_groups:
        X, Y, X_test, Y_test = adult_split(group, args.n_train)
        tasks = list(Y.columns)
        for seed in range(args.seeds):
            rows = {}
            folds = KFold(3, shuffle=True, random_state=seed)
            for name, model in [
                ("MMoE, defaults", network(seed)),
                ("MMoE, tuned", search(network(seed), NETWORK_SPACE, get_scorer("mean_roc_auc"),
                                       folds, args, seed)),
            ]:  # fmt: skip
                if args.max_epochs:
                    model.set_params(**{f"{'estimator__' if 'tuned' in name else ''}max_epochs":
                                        args.max_epochs})  # fmt: skip
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    fitted = model.fit(X, Y)
                probas = fitted.predict_proba(X_test)
                rows[name] = {
                    "auc": [roc_auc_score(Y_test[t], p[:, 1]) for t, p in zip(tasks, probas)],
                    "seconds": time.perf_counter() - start,
                    "best_params": _plain(getattr(fitted, "best_params_", None)),
                }
                _progress(group, seed, name, tasks, rows[name])
            for name, tuned in [("HistGradientBoosting, defaults", False),
                                ("HistGradientBoosting, tuned", True)]:  # fmt: skip
                start, aucs, best = time.perf_counter(), [], []
                for t in tasks:
                    model = boosting(seed)
                    if tuned:
                        stratified = StratifiedKFold(3, shuffle=True, random_state=seed)
                        model = search(model, BOOSTING_SPACE, "roc_auc", stratified, args, seed)
                    model.fit(X, Y[t])
                    aucs.append(roc_auc_score(Y_test[t], model.predict_proba(X_test)[:, 1]))
                    best.append(_plain(getattr(model, "best_params_", None)))
                rows[name] = {"auc": aucs, "seconds": time.perf_counter() - start,
                              "best_params": best if tuned else None}  # fmt: skip
                _progress(group, seed, name, tasks, rows[name])
            results.append({"task_group": group, "tasks": tasks, "seed": seed, "models": rows})
    return {
        "benchmark": "adult_tuned",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "output": args.output.name,
            "network_space": {k: str(v) for k, v in NETWORK_SPACE.items()},
            "boosting_space": {k: str(v) for k, v in BOOSTING_SPACE.items()},
            "training": {k: list(v) if isinstance(v, tuple) else v for k, v in TRAINING.items()},
        },
        "environment": environment(),
        "results": results,
    }


def _plain(params):
    """JSON-ready search winners (numpy scalars as Python numbers)."""
    if params is None:
        return None
    return {k: v.item() if hasattr(v, "item") else v for k, v in params.items()}


def _progress(group, seed, name, tasks, row) -> None:
    aucs = ", ".join(f"{t} {a:.4f}" for t, a in zip(tasks, row["auc"]))
    print(f"  {group}, seed {seed}: {name}: test AUC {aucs} ({row['seconds']:.0f} s)",
          file=sys.stderr, flush=True)  # fmt: skip


def format_table(report: dict) -> str:
    tables = []
    for group in dict.fromkeys(r["task_group"] for r in report["results"]):
        runs = [r for r in report["results"] if r["task_group"] == group]
        tasks, n = runs[0]["tasks"], len(runs)
        lines = [
            f"Adult, task group {group!r}: test ROC AUC over {n} seed(s), "
            f"{report['config']['candidates']} candidates x 3 folds per search",
            "",
            "| model | " + " | ".join(t.replace("_", " ") for t in tasks) + " | fit seconds |",
            "|---|" + "---:|" * len(tasks) + "---:|",
        ]
        for name in runs[0]["models"]:
            aucs = np.array([r["models"][name]["auc"] for r in runs])  # (seeds, tasks)
            cells = " | ".join(mean_spread(m, s, n) for m, s in zip(aucs.mean(0), aucs.std(0)))
            seconds = np.median([r["models"][name]["seconds"] for r in runs])
            lines.append(f"| {name} | {cells} | {seconds:.0f} |")
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-groups", nargs="+", default=["income", "education"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=N_CANDIDATES)
    parser.add_argument("--n-train", type=int, default=None, help="first rows only")
    parser.add_argument("--max-epochs", type=int, default=None, help="networks' epochs")
    parser.add_argument("--output", type=Path, default=RESULTS / "adult_tuned.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(argv, parse_args, run, format_table)


if __name__ == "__main__":
    main()
