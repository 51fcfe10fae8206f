"""The networks' defaults, chosen by measurement: every candidate on every bundled data set.

Each candidate is a set of training parameters of MMoE (8 experts of 64
units, towers of 32, 50 epochs, batch 256, Adam at ``lr=1e-3`` unless the
candidate says otherwise). Each is fitted on every data set the package or
its benchmarks bundle, next to one logistic regression (ridge for
regression tasks) and one ``HistGradientBoosting`` per task:

- Adult's four task groups (``load_adult``: income, education, five,
  degrees) on UCI's train/test split;
- the MMoE paper's synthetic task pair (``make_task_pair``, correlation 0.5)
  with 1,000 and 10,000 training rows, regression and binary, and three
  groups of three tasks (``make_task_groups``), each scored on 5,000 new rows;
- the click/conversion funnel (``make_click_conversion``, 10,000 rows) and
  the 401(k) eligibility/participation funnel (``benchmarks/data``), 70/30.

The score is test ROC AUC for a classification task and R² for a
regression task, the mean over seeds (the synthetic data and the 70/30
splits are drawn anew per seed; Adult's split is fixed). The summary counts,
per candidate, the tasks on which it beats the per-task linear model and the
per-task boosting. Run ``python -m benchmarks run defaults`` (``--quick``:
one seed, fewer data sets).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_mtl import MMoEClassifier, MMoERegressor
from sklearn_mtl.datasets import make_click_conversion, make_task_groups, make_task_pair

try:
    from ._environment import environment
    from ._report import benchmark_main
    from .adult import adult_split, logistic_regression_cv, one_hot
except ImportError:  # run as a script: python benchmarks/defaults.py
    from _environment import environment
    from _report import benchmark_main
    from adult import adult_split, logistic_regression_cv, one_hot

RESULTS = Path(__file__).resolve().parent / "results"
FUNNEL_401K = Path(__file__).resolve().parent / "data" / "401ksubs.csv.bz2"
FEATURES_401K = ["inc", "marr", "male", "age", "fsize", "nettfa", "pira", "incsq", "agesq"]

NETWORK = {"n_experts": 8, "expert_units": (64,), "tower_units": (32,)}
CANDIDATES = {
    "previous defaults": {"early_stopping": False, "lr_schedule": "constant",
                          "numeric_embedding": "linear", "n_ensemble": 1},
    "early stopping (auto), cosine": {"early_stopping": "auto", "lr_schedule": "cosine",
                                      "numeric_embedding": "linear", "n_ensemble": 1},
    "early stopping (auto), constant rate": {"early_stopping": "auto",
                                             "lr_schedule": "constant",
                                             "numeric_embedding": "linear", "n_ensemble": 1},
    "early stopping (always), cosine": {"early_stopping": True, "lr_schedule": "cosine",
                                        "numeric_embedding": "linear", "n_ensemble": 1},
    "early stopping (auto), cosine, AdamW 0.01": {
        "early_stopping": "auto", "lr_schedule": "cosine", "numeric_embedding": "linear",
        "optimizer": "adamw", "weight_decay": 0.01, "n_ensemble": 1},
    "early stopping (auto), cosine, piecewise-linear": {
        "early_stopping": "auto", "lr_schedule": "cosine",
        "numeric_embedding": "piecewise_linear", "n_ensemble": 1},
    "early stopping (auto), cosine, periodic": {
        "early_stopping": "auto", "lr_schedule": "cosine", "numeric_embedding": "periodic",
        "n_ensemble": 1},
    # issue 31: the numeric embedding at the constant rate, and chosen on validation
    "piecewise-linear, constant rate": {"early_stopping": "auto", "lr_schedule": "constant",
                                        "numeric_embedding": "piecewise_linear", "n_ensemble": 1},
    "numeric embedding auto": {"early_stopping": "auto", "lr_schedule": "constant",
                               "numeric_embedding": "auto", "n_ensemble": 1},
    # issue 31: an efficient ensemble (BatchEnsemble, TabM's) of the experts and towers
    "4 members": {"early_stopping": "auto", "lr_schedule": "constant",
                  "numeric_embedding": "linear", "n_ensemble": 4},
    "4 members, piecewise-linear": {"early_stopping": "auto", "lr_schedule": "constant",
                                    "numeric_embedding": "piecewise_linear", "n_ensemble": 4},
    # the default: 4 members from 5,000 training rows, one network below
    "4 members from 5,000 rows (auto)": {"early_stopping": "auto", "lr_schedule": "constant",
                                         "numeric_embedding": "linear", "n_ensemble": "auto"},
}  # fmt: skip
"""Candidate defaults: parameters of MMoE over ``NETWORK`` (the rest at the estimator's).

Every candidate names ``n_ensemble``: those before ``"auto"`` became the default
were measured with one network."""

DATASETS = [
    "task pair, 300 rows",
    "task pair binary, 300 rows",
    "Adult income",
    "Adult education",
    "Adult five",
    "Adult degrees",
    "task pair, 1,000 rows",
    "task pair, 10,000 rows",
    "task pair binary, 1,000 rows",
    "task pair binary, 10,000 rows",
    "task groups, 10,000 rows",
    "click/conversion",
    "401(k) funnel",
]
QUICK_DATASETS = ["Adult income", "task pair, 1,000 rows", "401(k) funnel"]
SYNTHETIC_TEST_ROWS = 5000


def load(name: str, seed: int):
    """``(X_train, Y_train, X_test, Y_test, kind)`` of a data set; ``kind`` is the task type."""
    if name.startswith("Adult "):
        X, Y, X_test, Y_test = adult_split(name.split()[1], None)
        return X, Y, X_test, Y_test, "classification"
    if name.startswith("task"):
        n_train = int(name.split(", ")[1].split()[0].replace(",", ""))
        target = "binary" if "binary" in name else "regression"
        make = make_task_groups if name.startswith("task groups") else make_task_pair
        X, Y = make(n_train + SYNTHETIC_TEST_ROWS, target=target, function_seed=seed,
                    random_state=seed)  # fmt: skip
        kind = "classification" if target == "binary" else "regression"
        return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:], kind
    if name == "click/conversion":
        X, Y = make_click_conversion(10000, random_state=seed)
    elif name == "401(k) funnel":
        frame = pd.read_csv(FUNNEL_401K)
        X, Y = frame[FEATURES_401K].to_numpy(np.float32), frame[["e401k", "p401k"]].to_numpy()
    else:
        raise ValueError(f"unknown data set {name!r}; expected one of {DATASETS}")
    X, X_test, Y, Y_test = train_test_split(X, Y, test_size=0.3, random_state=seed)
    return X, Y, X_test, Y_test, "classification"


def columns(Y):
    """The task columns of ``Y`` (a DataFrame or an array) as ``(name, 1-D array)`` pairs."""
    if isinstance(Y, pd.DataFrame):
        return [(name, Y[name].to_numpy()) for name in Y.columns]
    return [(f"task {k + 1}", Y[:, k]) for k in range(Y.shape[1])]


def score(kind, y_true, prediction) -> float:
    return (
        roc_auc_score(y_true, prediction)
        if kind == "classification"
        else r2_score(y_true, prediction)
    )


def network(kind, params, seed, max_epochs):
    estimator = MMoEClassifier if kind == "classification" else MMoERegressor
    return estimator(**NETWORK, **params, max_epochs=max_epochs, random_state=seed)


def network_scores(model, X_test, Y_test, kind) -> list[float]:
    if kind == "classification":
        predictions = [p[:, 1] for p in model.predict_proba(X_test)]
    else:
        predictions = list(np.asarray(model.predict(X_test)).T)
    return [score(kind, y, p) for (_, y), p in zip(columns(Y_test), predictions)]


def per_task_models(kind, tabular: bool, seed: int) -> dict:
    """The per-task baselines: a linear model with its penalty by 3-fold CV, and boosting."""
    if kind == "regression":
        return {
            "linear per task": lambda: make_pipeline(
                one_hot() if tabular else "passthrough", RidgeCV(alphas=np.logspace(-3, 3, 7))
            ),
            "HistGradientBoosting per task": lambda: HistGradientBoostingRegressor(
                random_state=seed
            ),
        }
    return {
        "linear per task": lambda: logistic_regression_cv(one_hot() if tabular else "passthrough"),
        "HistGradientBoosting per task": lambda: HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=seed
        ),
    }


def per_task_scores(build, X, Y, X_test, Y_test, kind) -> list[float]:
    scores = []
    for (_, y), (_, y_test) in zip(columns(Y), columns(Y_test)):
        model = build().fit(X, y)
        if kind == "classification":
            prediction = model.predict_proba(X_test)[:, 1]
        else:
            prediction = model.predict(X_test)
        scores.append(score(kind, y_test, prediction))
    return scores


def is_default(params: dict) -> bool:
    """Whether a candidate's parameters are the estimators' defaults."""
    defaults = MMoEClassifier().get_params()
    return all(defaults[key] == value for key, value in params.items())


def run(args) -> dict:
    candidates = {name: CANDIDATES[name] for name in args.candidates}
    results = []
    for dataset in args.datasets:
        scores: dict[str, list] = {}
        seconds: dict[str, list] = {}
        for seed in range(args.seeds):
            X, Y, X_test, Y_test, kind = load(dataset, seed)
            if kind == "regression":  # the networks and ridge see the same standardised targets
                mean, std = Y.mean(axis=0), Y.std(axis=0)
                Y, Y_test = (Y - mean) / std, (Y_test - mean) / std
            tasks = [name for name, _ in columns(Y)]
            for name, params in candidates.items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model = network(kind, params, seed, args.max_epochs).fit(X, Y)
                scores.setdefault(name, []).append(network_scores(model, X_test, Y_test, kind))
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                report_progress(dataset, seed, name, scores, seconds)
            tabular = isinstance(X, pd.DataFrame)
            for name, build in per_task_models(kind, tabular, seed).items():
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    scores.setdefault(name, []).append(
                        per_task_scores(build, X, Y, X_test, Y_test, kind)
                    )
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                report_progress(dataset, seed, name, scores, seconds)
        for name, per_seed in scores.items():
            values = np.array(per_seed)  # (seeds, tasks)
            results.append(
                {
                    "dataset": dataset,
                    "metric": "ROC AUC" if kind == "classification" else "R^2",
                    "model": name,
                    "scores": dict(zip(tasks, values.mean(axis=0).tolist())),
                    "scores_std": dict(zip(tasks, values.std(axis=0).tolist())),
                    "seconds": float(np.median(seconds[name])),
                    "per_seed": per_seed,
                }
            )
    return {
        "benchmark": "defaults",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "network": {k: list(v) if isinstance(v, tuple) else v for k, v in NETWORK.items()},
            "candidate_params": {name: CANDIDATES[name] for name in args.candidates},
            "default_candidate": next((n for n in candidates if is_default(candidates[n])), None),
        },
        "environment": environment(),
        "results": results,
        "summary": summarize(results, list(candidates)),
    }


def summarize(results: list, candidates: list) -> list:
    """Per candidate: tasks above the per-task linear model and boosting, mean gap to each."""
    summary = []
    by_dataset: dict[str, dict] = {}
    for row in results:
        by_dataset.setdefault(row["dataset"], {})[row["model"]] = row["scores"]
    for name in candidates:
        gaps = {"linear per task": [], "HistGradientBoosting per task": []}
        worst = {}
        for dataset, rows in by_dataset.items():
            for baseline, values in gaps.items():
                for task, value in rows[name].items():
                    gap = value - rows[baseline][task]
                    values.append(gap)
                    if baseline == "linear per task" and gap < worst.get("gap", np.inf):
                        worst = {"gap": gap, "dataset": dataset, "task": task}
        summary.append(
            {
                "candidate": name,
                "tasks": len(gaps["linear per task"]),
                "above_linear": int(sum(g > 0 for g in gaps["linear per task"])),
                "mean_gap_to_linear": float(np.mean(gaps["linear per task"])),
                "worst_gap_to_linear": worst,
                "at_least_boosting": int(
                    sum(g >= 0 for g in gaps["HistGradientBoosting per task"])
                ),
                "mean_gap_to_boosting": float(np.mean(gaps["HistGradientBoosting per task"])),
            }
        )
    return summary


def report_progress(dataset, seed, name, scores, seconds) -> None:
    values = ", ".join(f"{value:.4f}" for value in scores[name][-1])
    print(f"  {dataset}, seed {seed}: {name}: {values} ({seconds[name][-1]:.1f} s)",
          file=sys.stderr, flush=True)  # fmt: skip


def format_table(report: dict) -> str:
    seeds = report["config"]["seeds"]
    lines = [
        f"Mean test score over {seeds} seed(s): ROC AUC (classification) or R² (regression)",
        "",
    ]
    models = list(dict.fromkeys(row["model"] for row in report["results"]))
    default = report["config"]["default_candidate"]

    def label(name):
        return f"**{name}** (the defaults)" if name == default else name

    datasets = list(dict.fromkeys(row["dataset"] for row in report["results"]))
    for dataset in datasets:
        rows = {r["model"]: r for r in report["results"] if r["dataset"] == dataset}
        tasks = list(next(iter(rows.values()))["scores"])
        metric = next(iter(rows.values()))["metric"]
        lines += [
            f"{dataset} ({metric})",
            "",
            "| model | " + " | ".join(t.replace("_", " ") for t in tasks) + " | fit s |",
            "|---|" + "---:|" * len(tasks) + "---:|",
        ]
        for model in models:
            row = rows[model]
            cells = " | ".join(f"{row['scores'][t]:.4f}" for t in tasks)
            lines.append(f"| {label(model)} | {cells} | {row['seconds']:.1f} |")
        lines.append("")
    lines += [
        "Summary over every task of every data set above:",
        "",
        "| candidate | tasks above linear | mean gap to linear | worst gap to linear "
        "| tasks level with boosting or above | mean gap to boosting |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for row in report["summary"]:
        worst = row["worst_gap_to_linear"]
        lines.append(
            f"| {label(row['candidate'])} | {row['above_linear']}/{row['tasks']} "
            f"| {row['mean_gap_to_linear']:+.4f} "
            f"| {worst['gap']:+.4f} ({worst['dataset']}, {worst['task'].replace('_', ' ')}) "
            f"| {row['at_least_boosting']}/{row['tasks']} | {row['mean_gap_to_boosting']:+.4f} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=CANDIDATES)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-epochs", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="one seed, three data sets")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.datasets = 1, [d for d in args.datasets if d in QUICK_DATASETS]
    return args


def main(argv=None) -> dict:
    return benchmark_main(argv, parse_args, run, format_table, output=RESULTS / "defaults.json")


if __name__ == "__main__":
    main()
