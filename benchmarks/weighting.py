"""Task weightings side by side: per-task quality and the cost of each method per epoch.

Every ``loss_weighting`` method trains the same MMoE on

- the MMoE paper's synthetic task pair (``make_task_pair``, regression) at
  task correlation 0.5 and 0.9, scored by test R^2 per task;
- the Adult census data (``load_adult``, income / never married), scored by
  test ROC AUC per task,

over several seeds. It prints the per-task mean and spread, and the training
time per epoch relative to ``"equal"`` measured in the same run (the gradient
methods MGDA, GradNorm and PCGrad pay extra backward passes), and writes
``benchmarks/results/weighting.json`` and ``weighting.png``.
Run ``python benchmarks/weighting.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_mtl import MMoEClassifier, MMoERegressor
from sklearn_mtl.datasets import load_adult, make_task_pair

try:
    from ._environment import environment
    from ._report import benchmark_main, mean_spread, save_figure
except ImportError:  # run as a script: python benchmarks/weighting.py
    from _environment import environment
    from _report import benchmark_main, mean_spread, save_figure

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ["equal", "uncertainty", "dwa", "mgda", "gradnorm", "pcgrad"]


def synthetic(correlation, n_samples):
    X, Y = make_task_pair(n_samples, correlation, random_state=0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.25, random_state=0)
    return {
        "name": f"synthetic, correlation {correlation}",
        "estimator": MMoERegressor,
        "params": {"n_experts": 8, "expert_units": (16,), "tower_units": (8,), "n_ensemble": 1},
        "data": (X_train, Y_train, X_test, Y_test),
        "metric": "R^2",
        "score": lambda y, model, X: [
            r2_score(y[:, t], p) for t, p in enumerate(model.predict(X).T)
        ],
    }


def adult(n_rows):
    X, Y = load_adult(return_X_y=True)
    X_test, Y_test = load_adult(subset="test", return_X_y=True)
    if n_rows:
        X, Y = X[:n_rows], Y[:n_rows]
    return {
        "name": "Adult (income, never married)",
        "estimator": MMoEClassifier,
        "params": {"n_experts": 8, "expert_units": (32,), "tower_units": (16,), "n_ensemble": 1},
        "data": (X, Y, X_test, Y_test),
        "metric": "ROC AUC",
        "score": lambda y, model, X: [
            roc_auc_score(y.iloc[:, t], p[:, 1]) for t, p in enumerate(model.predict_proba(X))
        ],
    }


def run(args) -> dict:
    problems = [synthetic(c, args.n_samples) for c in args.correlations]
    if not args.skip_adult:
        problems.append(adult(args.adult_rows))
    results = []
    for problem in problems:
        X_train, Y_train, X_test, Y_test = problem["data"]
        for method in METHODS:  # warm-up: imports, thread pools, first-call costs
            problem["estimator"](**problem["params"], max_epochs=1, loss_weighting=method).fit(
                X_train[:500], Y_train[:500]
            )
        scores = {m: [] for m in METHODS}
        epoch_seconds = {m: [] for m in METHODS}
        for seed in range(args.seeds):
            for method in METHODS:  # interleaved, so that machine noise hits all alike
                model = problem["estimator"](
                    **problem["params"],
                    max_epochs=args.epochs,
                    lr=1e-3,
                    early_stopping=False,
                    loss_weighting=method,
                    random_state=seed,
                )
                start = time.perf_counter()
                model.fit(X_train, Y_train)
                epoch_seconds[method].append((time.perf_counter() - start) / args.epochs)
                scores[method].append(problem["score"](Y_test, model, X_test))
            print(f"  {problem['name']}: seed {seed} done", file=sys.stderr)
        reference = np.median(epoch_seconds["equal"])
        for method in METHODS:
            per_seed = np.array(scores[method])  # (seeds, tasks)
            results.append(
                {
                    "problem": problem["name"],
                    "metric": problem["metric"],
                    "method": method,
                    "mean": per_seed.mean(axis=0).tolist(),
                    "std": per_seed.std(axis=0).tolist(),
                    "seconds_per_epoch": float(np.median(epoch_seconds[method])),
                    "epoch_time_vs_equal": float(np.median(epoch_seconds[method]) / reference),
                    "per_seed": per_seed.tolist(),
                }
            )
    return {
        "benchmark": "weighting",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
        },
        "environment": environment(),
        "results": results,
    }


def format_table(report: dict) -> str:
    lines = [
        "| problem | method | metric | task 1 | task 2 | s/epoch | epoch time vs equal |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    seeds = report["config"]["seeds"]
    for row in report["results"]:
        tasks = " | ".join(mean_spread(m, s, seeds) for m, s in zip(row["mean"], row["std"]))
        lines.append(
            f"| {row['problem']} | {row['method']} | {row['metric']} | {tasks} "
            f"| {row['seconds_per_epoch']:.3f} | {row['epoch_time_vs_equal']:.2f} |"
        )
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(dict.fromkeys(row["problem"] for row in report["results"]))
    fig, axes = plt.subplots(1, len(problems) + 1, figsize=(4.2 * (len(problems) + 1), 3.6))
    for ax, problem in zip(axes, problems):
        rows = [r for r in report["results"] if r["problem"] == problem]
        for task in range(len(rows[0]["mean"])):
            ax.errorbar(
                np.arange(len(rows)) + 0.1 * task,
                [r["mean"][task] for r in rows],
                yerr=[r["std"][task] for r in rows],
                fmt="o",
                label=f"task {task + 1}",
            )
        ax.set_xticks(range(len(rows)), [r["method"] for r in rows], rotation=45)
        ax.set_title(problem, fontsize=9)
        ax.set_ylabel(rows[0]["metric"])
        ax.legend(fontsize=8)
    rows = [r for r in report["results"] if r["problem"] == problems[-1]]
    axes[-1].bar([r["method"] for r in rows], [r["epoch_time_vs_equal"] for r in rows])
    axes[-1].set_ylabel("epoch time / equal's")
    axes[-1].set_title(f"cost per epoch, {problems[-1]}", fontsize=9)
    axes[-1].tick_params(axis="x", rotation=45)
    save_figure(fig, path, dpi=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--correlations", type=float, nargs="+", default=[0.5, 0.9])
    parser.add_argument("--n-samples", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--adult-rows", type=int, default=None, help="training rows of Adult")
    parser.add_argument("--skip-adult", action="store_true")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(
        argv,
        parse_args,
        run,
        format_table,
        output=RESULTS / "weighting.json",
        plot=lambda r, out: plot(r, out.with_suffix(".png")),
        markdown=False,
    )


if __name__ == "__main__":
    main()
