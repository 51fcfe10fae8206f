"""Adult census, the MMoE paper's task groups: every model on the same split.

For each task group of :func:`sklearn_mtl.datasets.load_adult` (income / never
married; Bachelors or more / never married) on UCI's canonical train/test
split, this fits

- the multi-task networks Shared-Bottom, OMoE, MMoE, PLE and Cross-Stitch, fed
  the raw DataFrame (categorical columns become embeddings inside ``fit``);
- MMoE with each numeric embedding (``numeric_embedding="periodic"`` and
  ``"piecewise_linear"``, at their default sizes);
- the same MMoE trained on each task alone (single-task);
- the l1/l2 and l1/l-infinity multi-task logistic models
  (``MultiTaskL1LqClassifierCV``) on one-hot encoded, scaled columns;
- per task, ``LogisticRegression`` on the same encoding and
  ``HistGradientBoostingClassifier`` on the raw columns (native categories).

Model selection uses the training file only: the networks stop early on 10 %
of its rows (best epoch kept); the linear models pick alpha (l1/lq, 3-fold CV
over 8 alphas) or C (logistic regression, 3-fold ``GridSearchCV`` over
{0.01, 0.1, 1, 10}); gradient boosting stops early on its own 10 %. The test
file is used once, for the reported ROC AUC (mean and spread over seeds).

The MMoE paper's census experiment used the larger census-income (KDD) data
(299,285 rows, 40 features); its table is not reproduced here, since these
are different data. Run ``python -m benchmarks run adult`` (``--quick``: one
seed, the income group).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_mtl import (
    CrossStitchClassifier,
    MMoEClassifier,
    MultiTaskL1LqClassifierCV,
    OMoEClassifier,
    PLEClassifier,
    SharedBottomClassifier,
)
from sklearn_mtl.datasets import load_adult

try:
    from ._environment import environment
    from ._report import benchmark_main, heartbeat, mean_spread, save_figure
except ImportError:  # run as a script: python benchmarks/adult.py
    from _environment import environment
    from _report import benchmark_main, heartbeat, mean_spread, save_figure

RESULTS = Path(__file__).resolve().parent / "results"

# Fixed here rather than left to the estimators' defaults, so that the stored results
# stay what this code gives; benchmarks/defaults.py measures the defaults themselves.
TRAINING = {
    "max_epochs": 30,
    "batch_size": 256,
    "lr": 1e-3,
    "lr_schedule": "constant",
    "early_stopping": True,
    "n_iter_no_change": 4,
    "tower_units": (32,),
}
ONE_NETWORK = {**TRAINING, "n_ensemble": 1}
"""The architectures that take ``n_ensemble``: one network each, as Cross-Stitch."""
NETWORKS = {
    "Shared-Bottom": lambda seed: SharedBottomClassifier((128,), random_state=seed, **ONE_NETWORK),
    "OMoE": lambda seed: OMoEClassifier(8, expert_units=(64,), random_state=seed, **ONE_NETWORK),
    "MMoE": lambda seed: MMoEClassifier(8, expert_units=(64,), random_state=seed, **ONE_NETWORK),
    "PLE": lambda seed: PLEClassifier(
        2, n_shared_experts=4, n_levels=2, expert_units=(64,), random_state=seed, **ONE_NETWORK
    ),
    "Cross-Stitch": lambda seed: CrossStitchClassifier((64, 32), random_state=seed, **TRAINING),
    "MMoE, periodic embeddings": lambda seed: MMoEClassifier(
        8, expert_units=(64,), numeric_embedding="periodic", random_state=seed, **ONE_NETWORK
    ),
    "MMoE, piecewise-linear embeddings": lambda seed: MMoEClassifier(
        8,
        expert_units=(64,),
        numeric_embedding="piecewise_linear",
        random_state=seed,
        **ONE_NETWORK,
    ),
}


def one_hot():
    """The linear models' encoding: one-hot categories, standardised numbers, dense."""
    return make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
        sparse_threshold=0,
    )


def logistic_regression_cv(encoding="passthrough"):
    """One task's logistic regression, C from {0.01, 0.1, 1, 10} by 3-fold CV on ROC AUC."""
    return GridSearchCV(
        make_pipeline(encoding, LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [0.01, 0.1, 1, 10]},
        cv=3,
        scoring="roc_auc",
    )


def multitask(seed):
    """The multi-task models: one fit for both tasks; per-task probabilities."""
    models = {name: build(seed) for name, build in NETWORKS.items()}
    for q, label in [(2, "l1/l2"), (np.inf, "l1/l-inf")]:
        models[f"{label} logistic (CV)"] = make_pipeline(
            one_hot(), MultiTaskL1LqClassifierCV(alphas=8, q=q, cv=3, tol=1e-4, max_iter=3000)
        )
    return models


def per_task(seed):
    """The single-task models: one fit per task."""
    return {
        "MMoE single-task": lambda: MMoEClassifier(
            8, expert_units=(64,), random_state=seed, **ONE_NETWORK
        ),
        "LogisticRegression (one-hot, C by CV)": lambda: logistic_regression_cv(one_hot()),
        "HistGradientBoosting": lambda: HistGradientBoostingClassifier(
            categorical_features="from_dtype", early_stopping=True, random_state=seed
        ),
    }


def adult_split(group: str, n_train: int | None):
    """UCI's training file (its first ``n_train`` rows, if given) and test file of a task group."""
    X, Y = load_adult(task_group=group, return_X_y=True)
    X_test, Y_test = load_adult(task_group=group, subset="test", return_X_y=True)
    if n_train:
        X, Y = X.iloc[:n_train], Y.iloc[:n_train]
    return X, Y, X_test, Y_test


def run(args) -> dict:
    results = []
    for group in args.task_groups:
        X, Y, X_test, Y_test = adult_split(group, args.n_train)
        tasks = list(Y.columns)
        scores: dict[str, list] = {}
        seconds: dict[str, list] = {}
        for seed in range(args.seeds):
            for name, model in multitask(seed).items():
                if args.models and name not in args.models:
                    continue
                start = time.perf_counter()
                with warnings.catch_warnings(), heartbeat(f"{group}, seed {seed}: {name}"):
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    probas = configure(model, args).fit(X, Y).predict_proba(X_test)
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                scores.setdefault(name, []).append(
                    [roc_auc_score(Y_test[t], p[:, 1]) for t, p in zip(tasks, probas)]
                )
                report_progress(group, seed, name, tasks, scores, seconds)
            for name, build in per_task(seed).items():
                if args.models and name not in args.models:
                    continue
                start = time.perf_counter()
                task_scores = []
                for t in tasks:  # one fit per task, each announced: progress on a long run
                    with heartbeat(f"{group}, seed {seed}: {name}: {t}"):
                        model = configure(build(), args).fit(X, Y[t])
                    task_scores.append(roc_auc_score(Y_test[t], model.predict_proba(X_test)[:, 1]))
                    elapsed = time.perf_counter() - start
                    print(f"  {group}, seed {seed}: {name}: {t} fitted ({elapsed:.1f} s)",
                          file=sys.stderr, flush=True)  # fmt: skip
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                scores.setdefault(name, []).append(task_scores)
                report_progress(group, seed, name, tasks, scores, seconds)
        for name, per_seed in scores.items():
            values = np.array(per_seed)  # (seeds, tasks)
            results.append(
                {
                    "task_group": group,
                    "model": name,
                    "auc": dict(zip(tasks, values.mean(axis=0).tolist())),
                    "auc_std": dict(zip(tasks, values.std(axis=0).tolist())),
                    "seconds": float(np.median(seconds[name])),
                    "per_seed": per_seed,
                }
            )
    return {
        "benchmark": "adult",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "training": {k: list(v) if isinstance(v, tuple) else v for k, v in TRAINING.items()},
        },
        "environment": environment(),
        "results": results,
    }


def configure(model, args):
    """The run's epochs for a network, its grid size for a cross-validated linear model, and
    a line per fit of a grid search with ``--verbose`` (progress during the longest fits)."""
    params = model.get_params()
    if "max_epochs" in params and args.max_epochs:
        model.set_params(max_epochs=args.max_epochs)
    if isinstance(model, GridSearchCV) and args.verbose:
        model.set_params(verbose=2)
    alphas = {key: args.alphas for key in params if key.split("__")[-1] == "alphas"}
    return model.set_params(**alphas) if args.alphas else model


def report_progress(group, seed, name, tasks, scores, seconds) -> None:
    aucs = ", ".join(f"{task} {auc:.4f}" for task, auc in zip(tasks, scores[name][-1]))
    print(f"  {group}, seed {seed}: {name}: test AUC {aucs} ({seconds[name][-1]:.1f} s)",
          file=sys.stderr, flush=True)  # fmt: skip


def format_table(report: dict) -> str:
    """One table per task group, its columns named after the group's tasks."""
    seeds = report["config"]["seeds"]
    tables = []
    for group in dict.fromkeys(row["task_group"] for row in report["results"]):
        rows = [row for row in report["results"] if row["task_group"] == group]
        tasks = list(rows[0]["auc"])
        spread = f" (mean ± std over {seeds} seeds)" if seeds > 1 else " (one seed)"
        lines = [
            f"Adult, task group {group!r}: test ROC AUC{spread}",
            "",
            "| model | "
            + " | ".join(task.replace("_", " ") for task in tasks)
            + " | fit seconds |",
            "|---|" + "---:|" * len(tasks) + "---:|",
        ]
        for row in rows:
            cells = " | ".join(
                mean_spread(row["auc"][task], row["auc_std"][task], seeds) for task in tasks
            )
            lines.append(f"| {row['model']} | {cells} | {row['seconds']:.1f} |")
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(r["task_group"] for r in report["results"]))
    fig, axes = plt.subplots(1, len(groups), figsize=(7 * len(groups), 4.5), squeeze=False)
    for ax, group in zip(axes[0], groups):
        rows = [r for r in report["results"] if r["task_group"] == group]
        tasks = list(rows[0]["auc"])
        for k, task in enumerate(tasks):
            ax.errorbar(
                [r["auc"][task] for r in rows],
                np.arange(len(rows)) + 0.15 * k,
                xerr=[r["auc_std"][task] for r in rows],
                fmt="o",
                label=task,
            )
        ax.set_yticks(range(len(rows)), [r["model"] for r in rows], fontsize=8)
        ax.set_xlabel("test ROC AUC")
        ax.set_title(f"Adult, {group} group")
        ax.legend(fontsize=8)
    save_figure(fig, path, dpi=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-groups", nargs="+", default=["income", "education"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=None, help="first rows only")
    parser.add_argument("--models", nargs="*", default=None, help="only these models")
    parser.add_argument(
        "--max-epochs", type=int, default=None, help=f"networks (default {TRAINING['max_epochs']})"
    )
    parser.add_argument("--alphas", type=int, default=None, help="grid of the linear CV (8)")
    parser.add_argument("--verbose", action="store_true", help="a line per grid-search fit")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(
        argv,
        parse_args,
        run,
        format_table,
        output=RESULTS / "adult.json",
        plot=lambda r, out: plot(r, out.with_suffix(".png")),
    )


if __name__ == "__main__":
    main()
