"""Adult census, the MMoE paper's task pairs: networks with embeddings vs logistic regression.

For each task group of :func:`sklearn_mtl.datasets.load_adult` (income / never
married; Bachelors or more / never married) on UCI's canonical train/test
split, this fits

- one ``LogisticRegression`` per task on one-hot encoded categorical columns
  (missing values as a category) and standardised numeric columns: the
  reference;
- Shared-Bottom, MMoE and PLE classifiers fed the raw DataFrame: categorical
  columns become embeddings inside ``fit``, numeric columns are standardised
  and projected.

It prints test ROC AUC per task (networks: mean and spread over seeds) and
writes ``benchmarks/results/adult.json``. Run ``python benchmarks/adult.py``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sklearn_mtl
from sklearn_mtl import MMoEClassifier, PLEClassifier, SharedBottomClassifier
from sklearn_mtl.datasets import load_adult

RESULTS = Path(__file__).resolve().parent / "results"

TRAINING = {
    "max_epochs": 30,
    "batch_size": 256,
    "lr": 1e-3,
    "early_stopping": True,
    "n_iter_no_change": 4,
    "tower_units": (32,),
}
NETWORKS = {
    "Shared-Bottom": lambda seed: SharedBottomClassifier((128,), random_state=seed, **TRAINING),
    "MMoE": lambda seed: MMoEClassifier(8, expert_units=(64,), random_state=seed, **TRAINING),
    "PLE": lambda seed: PLEClassifier(
        2, n_shared_experts=4, n_levels=2, expert_units=(64,), random_state=seed, **TRAINING
    ),
}


def logistic_regression():
    encode = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
        (StandardScaler(), make_column_selector(dtype_include="number")),
    )
    return make_pipeline(encode, LogisticRegression(max_iter=2000))


def aucs(Y_test, probas) -> list[float]:
    return [float(roc_auc_score(Y_test.iloc[:, t], p)) for t, p in enumerate(probas)]


def run(args) -> dict:
    results = []
    for group in args.task_groups:
        X, Y = load_adult(task_group=group, return_X_y=True)
        X_test, Y_test = load_adult(task_group=group, subset="test", return_X_y=True)
        if args.n_train:
            X, Y = X.iloc[: args.n_train], Y.iloc[: args.n_train]
        tasks = list(Y.columns)
        start = time.perf_counter()
        probas = [
            logistic_regression().fit(X, Y[task]).predict_proba(X_test)[:, 1] for task in tasks
        ]
        reference = aucs(Y_test, probas)
        results.append(
            {
                "task_group": group,
                "model": "LogisticRegression (one-hot)",
                "auc": dict(zip(tasks, reference)),
                "seconds": time.perf_counter() - start,
            }
        )
        for name, build in NETWORKS.items():
            per_seed, seconds = [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                model = build(seed).fit(X, Y)
                seconds.append(time.perf_counter() - start)
                per_seed.append(aucs(Y_test, [p[:, 1] for p in model.predict_proba(X_test)]))
            scores = np.array(per_seed)  # (seeds, tasks)
            results.append(
                {
                    "task_group": group,
                    "model": f"{name} (embeddings)",
                    "auc": dict(zip(tasks, scores.mean(axis=0).tolist())),
                    "auc_std": dict(zip(tasks, scores.std(axis=0).tolist())),
                    "auc_vs_logistic": dict(
                        zip(tasks, (scores.mean(axis=0) - np.array(reference)).tolist())
                    ),
                    "seconds": float(np.median(seconds)),
                    "per_seed": per_seed,
                }
            )
            print(f"  {group}: {name} done", file=sys.stderr)
    return {
        "benchmark": "adult",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "training": {k: list(v) if isinstance(v, tuple) else v for k, v in TRAINING.items()},
            "sklearn_mtl": sklearn_mtl.__version__,
            "machine": platform.machine(),
        },
        "results": results,
    }


def format_table(report: dict) -> str:
    lines = ["| task group | model | task | test ROC AUC | vs logistic | fit seconds |"]
    lines.append("|---|---|---|---:|---:|---:|")
    for row in report["results"]:
        for task, auc in row["auc"].items():
            spread = f" ± {row['auc_std'][task]:.4f}" if "auc_std" in row else ""
            delta = row.get("auc_vs_logistic", {}).get(task)
            lines.append(
                f"| {row['task_group']} | {row['model']} | {task} | {auc:.4f}{spread} "
                f"| {'' if delta is None else f'{delta:+.4f}'} | {row['seconds']:.1f} |"
            )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-groups", nargs="+", default=["income", "education"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=None, help="first rows only")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = run(args)
    print(format_table(report))
    output = args.output or RESULTS / "adult.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(f"wrote {output}")
    return report


if __name__ == "__main__":
    main()
