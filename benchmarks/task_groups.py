"""Which tasks to train together: affinity-chosen task groups against one network for all.

Data:

- **planted**: ``make_task_groups`` with 3 groups of 3 regression tasks
  (within-group correlation 0.9, between 0; 100 inputs), 10,000 training and
  2,000 test rows, a new function per seed (5 seeds); scored by test R^2;
- **Adult, five tasks** (``load_adult(task_group="five")``: income over 50K,
  never married, Bachelors or more, over 40 hours a week, self-employed, their
  source columns removed from the inputs), UCI's train/test split; scored by
  test ROC AUC (3 seeds).

Models, each on the same split: one Shared-Bottom network per task
(single-task); one Shared-Bottom and one MMoE for all tasks; and, for each
affinity measure of :mod:`sklearn_mtl.tasks` (lookahead, error margin), the
groups that :func:`~sklearn_mtl.tasks.group_tasks` chooses from the affinity
measured on the training rows, each group trained as its own Shared-Bottom.
The grouped models' fit time includes the run that measures the affinity.
The adaptive network (``AdaptiveSharing*``, Lu et al.) grows its own tree from
a two-layer trunk (Shared-Bottom's bottom layer, then a layer as wide as its
towers) under towers of Shared-Bottom's size, once from torch's initialisation and
once from Lu et al.'s SOMP thin-model initialisation. On the planted data the
groups, and each layer of the adaptive network's tree, are scored against the
truth (adjusted Rand index). Writes the table, JSON, the affinity heatmaps and
the learnt trees under ``benchmarks/results/``.
``python -m benchmarks run task_groups`` (``--quick``: one seed, fewer rows).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, r2_score, roc_auc_score

from sklearn_mtl import (
    AdaptiveSharingClassifier,
    AdaptiveSharingRegressor,
    MMoEClassifier,
    MMoERegressor,
    SharedBottomClassifier,
    SharedBottomRegressor,
)
from sklearn_mtl.datasets import load_adult, make_task_groups
from sklearn_mtl.tasks import group_tasks, plot_branches, plot_task_affinity, task_affinity

try:
    from ._environment import environment
    from ._report import benchmark_main, mean_spread, save_figure
except ImportError:  # run as a script: python benchmarks/task_groups.py
    from _environment import environment
    from _report import benchmark_main, mean_spread, save_figure

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("lookahead", "error_margin")
TRAINING = {"max_epochs": 30, "lr": 3e-3, "early_stopping": True, "n_iter_no_change": 4}


def planted(seed, args):
    """Training and test rows of the planted groups, and the true group of each task."""
    X, Y = make_task_groups(args.planted_rows + 2000, n_groups=3, tasks_per_group=3,
                            random_state=seed)  # fmt: skip
    names = [f"g{t // 3}t{t % 3}" for t in range(9)]
    split = args.planted_rows
    return X[:split], Y[:split], X[split:], Y[split:], names, np.arange(9) // 3


def adult(seed, args):
    X, Y = load_adult(task_group="five", return_X_y=True)
    X_test, Y_test = load_adult(task_group="five", subset="test", return_X_y=True)
    if args.adult_rows:
        X, Y = X.iloc[: args.adult_rows], Y.iloc[: args.adult_rows]
    return X, Y, X_test, Y_test, list(Y.columns), None


DATA = {
    "planted": (planted, SharedBottomRegressor, MMoERegressor, AdaptiveSharingRegressor, "R^2"),
    "adult": (adult, SharedBottomClassifier, MMoEClassifier, AdaptiveSharingClassifier,
              "ROC AUC"),
}  # fmt: skip
SPLIT_EVERY = 5
"""Epochs between two splits of the adaptive network (its two layers split at 5 and 10)."""


def network_kwargs(data_name, seed, args):
    units = {"planted": ((64,), (16,)), "adult": ((128,), (32,))}[data_name]
    return {"tower_units": units[1], "random_state": seed, "batch_size": 512,
            "verbose": 0, **TRAINING, "max_epochs": args.epochs}, units[0]  # fmt: skip


def scores(model, X_test, Y_test, metric, columns):
    """One score per task of ``columns`` (positions in the full task list)."""
    Y_test = np.asarray(Y_test)
    if metric == "R^2":
        prediction = np.asarray(model.predict(X_test)).reshape(len(X_test), -1)
        return [r2_score(Y_test[:, t], prediction[:, k]) for k, t in enumerate(columns)]
    probas = model.predict_proba(X_test)
    probas = probas if isinstance(probas, list) else [probas]
    return [roc_auc_score(Y_test[:, t], p[:, 1]) for t, p in zip(columns, probas)]


def parameters(model) -> int:
    return sum(p.numel() for p in model.net_.module_.parameters())


def one_seed(data_name, seed, args) -> dict:
    """Every model on one split; per-task scores, parameter counts, seconds and groups."""
    import torch

    torch.set_num_threads(args.threads)
    load, bottom_cls, mmoe_cls, adaptive_cls, metric = DATA[data_name]
    X, Y, X_test, Y_test, names, truth = load(seed, args)
    Y_array = np.asarray(Y)
    n_tasks = Y_array.shape[1]
    kwargs, bottom = network_kwargs(data_name, seed, args)
    out = {"seed": seed, "models": {}, "affinity": {}, "groups": {}, "trees": {}}

    def record(name, fits, start):
        per_task = np.full(n_tasks, np.nan)
        for model, columns in fits:
            per_task[columns] = scores(model, X_test, Y_test, metric, columns)
        out["models"][name] = {"scores": per_task.tolist(),
                               "parameters": sum(parameters(m) for m, _ in fits),
                               "seconds": time.perf_counter() - start}  # fmt: skip
        print(f"  {data_name} seed {seed} {name}: mean {metric} {np.nanmean(per_task):.4f} "
              f"({out['models'][name]['seconds']:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip

    def fit_group(columns):
        y = Y_array[:, columns] if len(columns) > 1 else Y_array[:, columns[0]]
        return bottom_cls(bottom, n_ensemble=1, **kwargs).fit(X, y), columns

    start = time.perf_counter()
    record("single-task Shared-Bottom", [fit_group([t]) for t in range(n_tasks)], start)
    start = time.perf_counter()
    record("Shared-Bottom, all tasks", [fit_group(list(range(n_tasks)))], start)
    start = time.perf_counter()
    mmoe = mmoe_cls(8, expert_units=(bottom[0] // 2,), n_ensemble=1, **kwargs).fit(X, Y_array)
    record("MMoE, all tasks", [(mmoe, list(range(n_tasks)))], start)
    for method in METHODS:
        start = time.perf_counter()
        affinity = task_affinity(
            bottom_cls(bottom, n_ensemble=1, **kwargs), X, Y_array, method=method
        )
        labels = group_tasks(affinity)
        groups = [np.flatnonzero(labels == g).tolist() for g in np.unique(labels)]
        out["affinity"][method] = affinity.tolist()
        out["groups"][method] = {
            "groups": [[names[t] for t in g] for g in groups],
            "ari_to_planted": None if truth is None else adjusted_rand_score(truth, labels),
        }
        record(f"groups by {method} affinity", [fit_group(g) for g in groups], start)
    for thin_init in ("random", "somp"):
        start = time.perf_counter()
        network = adaptive_cls(
            (bottom[0], kwargs["tower_units"][0]),
            **kwargs,
            split_every=args.split_every,
            thin_init=thin_init,
        ).fit(X, Y_array)
        name = "adaptive network" + (", SOMP init" if thin_init == "somp" else "")
        out["trees"][name] = {
            "branches": [[list(g) for g in layer] for layer in network.branches_],
            "ari_to_planted": None
            if truth is None
            else [
                adjusted_rand_score(truth, _labels(layer, n_tasks)) for layer in network.branches_
            ],
            "epochs": network.n_iter_,
        }
        record(name, [(network, list(range(n_tasks)))], start)
    out["task_names"] = names
    return out


def _labels(layer, n_tasks: int) -> np.ndarray:
    """Each task's branch in one layer of a tree."""
    labels = np.empty(n_tasks, dtype=int)
    for index, group in enumerate(layer):
        labels[list(group)] = index
    return labels


def run(args) -> dict:
    from joblib import Parallel, delayed

    seeds = {"planted": args.planted_seeds, "adult": args.seeds}
    jobs = [(d, s) for d in args.data for s in range(seeds[d])]
    done = Parallel(n_jobs=min(args.jobs, len(jobs)))(
        delayed(one_seed)(d, s, args) for d, s in jobs
    )
    results = []
    for data_name in args.data:
        runs = [r for (d, _), r in zip(jobs, done) if d == data_name]
        metric = DATA[data_name][-1]
        for name in runs[0]["models"]:
            per_seed = np.array([r["models"][name]["scores"] for r in runs])  # (seeds, tasks)
            results.append({
                "data": data_name, "model": name, "metric": metric,
                "tasks": runs[0]["task_names"],
                "per_task_mean": per_seed.mean(axis=0).tolist(),
                "mean": float(per_seed.mean()), "std_over_seeds": float(per_seed.mean(1).std()),
                "parameters": int(np.mean([r["models"][name]["parameters"] for r in runs])),
                "seconds": float(np.mean([r["models"][name]["seconds"] for r in runs])),
                "seeds": len(runs),
            })  # fmt: skip
    return {
        "benchmark": "task_groups",
        "config": {k: (v.name if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": environment(torch_threads=args.threads, processes=args.jobs),
        "results": results,
        "runs": [{"data": d, **r} for (d, _), r in zip(jobs, done)],
    }  # fmt: skip


def format_table(report: dict) -> str:
    lines = []
    for data_name in dict.fromkeys(r["data"] for r in report["results"]):
        rows = [r for r in report["results"] if r["data"] == data_name]
        tasks = rows[0]["tasks"]
        lines += [f"**{data_name}** (test {rows[0]['metric']}, mean over {rows[0]['seeds']} "
                  "seeds)", "",
                  "| model | " + " | ".join(tasks) + " | mean | parameters | fit s |",
                  "|---|" + "---:|" * (len(tasks) + 3)]  # fmt: skip
        for r in rows:
            cells = " | ".join(f"{v:.4f}" for v in r["per_task_mean"])
            lines.append(f"| {r['model']} | {cells} | "
                         f"{mean_spread(r['mean'], r['std_over_seeds'], r['seeds'])} | "
                         f"{r['parameters']:,} | {r['seconds']:.0f} |")  # fmt: skip
        lines.append("")
        for run in (r for r in report["runs"] if r["data"] == data_name):
            for method, found in run["groups"].items():
                ari = found["ari_to_planted"]
                score = "" if ari is None else f" (adjusted Rand index to the planted {ari:.2f})"
                groups = " | ".join(", ".join(g) for g in found["groups"])
                lines.append(f"- seed {run['seed']}, {method}: {groups}{score}")
            names = run["task_names"]
            for model, tree in run["trees"].items():
                layers = " / ".join(" | ".join(", ".join(names[t] for t in g) for g in layer)
                                    for layer in tree["branches"])  # fmt: skip
                ari = tree["ari_to_planted"]
                score = "" if ari is None else (
                    " (adjusted Rand index to the planted, per layer: "
                    + ", ".join(f"{a:.2f}" for a in ari) + ")")  # fmt: skip
                lines.append(f"- seed {run['seed']}, {model} tree, bottom layer first: "
                             f"{layers}{score}; {tree['epochs']} epochs")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def plot(report: dict, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = {}
    for run in report["runs"]:
        first.setdefault(run["data"], run)
    fig, axes = plt.subplots(len(first), len(METHODS), figsize=(6.5 * len(METHODS),
                             5 * len(first)), squeeze=False)  # fmt: skip
    for row, (data_name, run) in enumerate(first.items()):
        for col, method in enumerate(METHODS):
            ax = axes[row, col]
            plot_task_affinity(np.array(run["affinity"][method]), run["task_names"], ax=ax)
            ax.set_title(f"{data_name}, {method} affinity (seed {run['seed']})")
    save_figure(fig, f"{stem}-affinity.png")
    fig, axes = plt.subplots(1, len(first), figsize=(6 * len(first), 4.5), squeeze=False)
    for ax, (data_name, run) in zip(axes[0], first.items()):
        plot_branches(run["trees"]["adaptive network"]["branches"], run["task_names"], ax=ax)
        ax.set_title(f"{data_name}: the adaptive network's tree (seed {run['seed']})")
    save_figure(fig, f"{stem}-tree.png")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=list(DATA), default=list(DATA))
    parser.add_argument("--seeds", type=int, default=3, help="seeds of Adult")
    parser.add_argument("--planted-seeds", type=int, default=5, help="seeds of the planted data")
    parser.add_argument("--planted-rows", type=int, default=10000, help="training rows")
    parser.add_argument("--adult-rows", type=int, default=0, help="0: the whole training file")
    parser.add_argument("--epochs", type=int, default=TRAINING["max_epochs"])
    parser.add_argument(
        "--split-every",
        type=int,
        default=SPLIT_EVERY,
        help="epochs between two splits of the adaptive network",
    )
    parser.add_argument("--jobs", type=int, default=2, help="seeds in parallel processes")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--output", type=Path, default=RESULTS / "task_groups.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(
        argv, parse_args, run, format_table, plot=lambda r, out: plot(r, out.with_suffix(""))
    )


if __name__ == "__main__":
    main()
