"""Learning curves under label scarcity: when does multi-task learning pay? (issue 31)

For each data set and target task, the target keeps a fraction of its training
labels (the others become NaN, a missing label) while the other tasks keep all
of theirs (setting ``target``), or every task keeps the same fraction (setting
``all``). On the same rows, seeds and test set, it fits

- the default multi-task networks (MMoE, Shared-Bottom, PLE, adaptive
  sharing) on every task, at their defaults (early stopping on 10 %);
- the default MMoE on the target task alone, on its labelled rows;
- the linear multi-task baselines on every task, on one-hot, scaled columns:
  ``MultiTaskL1LqClassifierCV`` (a shared sparsity pattern) and the
  mean-regularised logistic model (a shared mean);
- per target task, ``HistGradientBoostingClassifier`` and ``LogisticRegression``
  (C by 3-fold CV) on its labelled rows.

Each fit is scored by the target's test ROC AUC; over seeds, the table gives
each model's mean, and the paired difference of the default MMoE against each
other model with its 95 % t-interval. Data: Adult's ``"five"`` task group (UCI's
split; targets income and Bachelors+) and ``"degrees"`` (target postgraduate),
the 401(k) funnel (target participation), ``make_task_groups`` (planted
groups of related binary tasks) and Adult's degree tasks labelled by a label
model (target income, gold; the others the label model's labels from
fifteen rules). Run ``python -m benchmarks run label_scarcity``
(``--quick``: Adult income, three fractions, one seed).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from sklearn_mtl import (
    AdaptiveSharingClassifier,
    MeanRegularizedMultiTaskClassifier,
    MMoEClassifier,
    MultiTaskL1LqClassifierCV,
    PLEClassifier,
    SharedBottomClassifier,
)

try:
    from ._environment import environment
    from ._report import benchmark_main, heartbeat, save_figure
    from ._scarcity_data import DATASETS
    from ._stats import paired_interval
    from .adult import logistic_regression_cv, one_hot
except ImportError:  # run as a script: python benchmarks/label_scarcity.py
    from _environment import environment
    from _report import benchmark_main, heartbeat, save_figure
    from _scarcity_data import DATASETS
    from _stats import paired_interval
    from adult import logistic_regression_cv, one_hot

RESULTS = Path(__file__).resolve().parent / "results"
FRACTIONS = [0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0]
REFERENCE = "MMoE"
"""The model every other is compared with, pair by pair (same seed, same labels)."""

MULTITASK = {
    "MMoE": lambda seed, task: MMoEClassifier(random_state=seed),
    "Shared-Bottom": lambda seed, task: SharedBottomClassifier(random_state=seed),
    "PLE": lambda seed, task: PLEClassifier(random_state=seed),
    "adaptive sharing": lambda seed, task: AdaptiveSharingClassifier(random_state=seed),
    "l1/l2 logistic (CV)": lambda seed, task: make_pipeline(
        one_hot(), MultiTaskL1LqClassifierCV(alphas=8, cv=3, tol=1e-4, max_iter=3000)
    ),
    "mean-regularised logistic": lambda seed, task: make_pipeline(
        one_hot(), MeanRegularizedMultiTaskClassifier()
    ),
}
"""Fitted on every task at once; scored on the target's column."""

VARIANTS = {
    "MMoE, epoch-normalised loss": lambda seed, task: MMoEClassifier(
        loss_normalization="epoch", random_state=seed
    ),
    "MMoE, stopping on the target": lambda seed, task: MMoEClassifier(
        early_stopping_task=task, random_state=seed
    ),
    "MMoE, both": lambda seed, task: MMoEClassifier(
        loss_normalization="epoch", early_stopping_task=task, random_state=seed
    ),
    "MMoE, unstratified split": lambda seed, task: UnstratifiedSplit(
        MMoEClassifier(random_state=seed)
    ),
    # regularisation, which a tower trained on a few hundred labels might want
    "MMoE, linear towers": lambda seed, task: MMoEClassifier(tower_units=(), random_state=seed),
    "MMoE, dropout 0.3": lambda seed, task: MMoEClassifier(dropout=0.3, random_state=seed),
    "MMoE, AdamW 0.01": lambda seed, task: MMoEClassifier(
        optimizer="adamw", weight_decay=0.01, random_state=seed
    ),
    "MMoE, lr 3e-4": lambda seed, task: MMoEClassifier(lr=3e-4, random_state=seed),
    "MMoE, batch 1024": lambda seed, task: MMoEClassifier(batch_size=1024, random_state=seed),
    # an efficient ensemble of the experts and towers (BatchEnsemble, as TabM)
    "MMoE, 4 members": lambda seed, task: MMoEClassifier(n_ensemble=4, random_state=seed),
}
"""Training options of the default MMoE, measured against it; run only when named in
``--models``. ``task`` is the target's column."""


class UnstratifiedSplit:
    """A network fitted with the validation split of before issue 31: a plain permutation,
    not one stratified on the scarcest task's labels (which the package has no option for)."""

    def __init__(self, model):
        self.model = model

    def get_params(self, deep=True):
        return self.model.get_params(deep)

    def set_params(self, **params):
        self.model.set_params(**params)
        return self

    def fit(self, X, Y):
        with mock.patch("sklearn_mtl._training.data.scarcest_task_labelled", return_value=None):
            self.model.fit(X, Y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)


SINGLE_TASK = {
    "MMoE, target alone": lambda seed, task: MMoEClassifier(random_state=seed),
    "HistGradientBoosting": lambda seed, task: HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=seed
    ),
    "LogisticRegression (CV)": lambda seed, task: logistic_regression_cv(one_hot()),
}
"""Fitted on the target's labelled rows alone."""


def scarce_labels(Y: pd.DataFrame, target: str, fraction: float, setting: str, seed: int):
    """``Y`` with ``fraction`` of the target's labels kept (every task's, for ``"all"``).

    The kept rows are a random subset that holds both classes of each scarce task;
    a fraction of 1 keeps everything.
    """
    rng = np.random.default_rng(seed)
    scarce = Y.copy()
    for task in Y.columns if setting == "all" else [target]:
        if fraction >= 1:
            continue
        labels = Y[task].to_numpy()
        n_kept = max(int(round(fraction * len(labels))), 4)
        for _ in range(100):
            kept = rng.choice(len(labels), size=n_kept, replace=False)
            if len(np.unique(labels[kept])) == 2:
                break
        else:
            raise ValueError(f"{task}: no subset of {n_kept} labels holds both classes")
        hidden = np.ones(len(labels), dtype=bool)
        hidden[kept] = False
        scarce.loc[hidden, task] = np.nan
    return scarce


def fit_and_score(name, model, X, Y, X_test, y_test, target) -> float:
    """Fit one model (a multi-task one on ``Y``, a single-task one on the target's labelled
    rows) and return the target's test ROC AUC."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if name not in SINGLE_TASK:
            proba = model.fit(X, Y).predict_proba(X_test)[list(Y.columns).index(target)]
        else:
            labelled = Y[target].notna().to_numpy()
            model.fit(X[labelled], Y[target][labelled].astype(int))
            proba = model.predict_proba(X_test)
    return float(roc_auc_score(y_test, proba[:, 1]))


def members_of(model) -> int | None:
    """A fitted network's ensemble members (``n_ensemble_``, which ``"auto"`` decides by
    the training rows); None for a model without them."""
    return getattr(getattr(model, "model", model), "n_ensemble_", None)


def configure(model, args):
    """The run's epochs for a network (``--max-epochs``), for short runs."""
    if args.max_epochs and "max_epochs" in model.get_params():
        model.set_params(max_epochs=args.max_epochs)
    return model


def check_targets(selected, targets: dict) -> None:
    """Every ``--targets`` name must be a target of a selected data set (``targets``:
    each data set's), else the run would fit nothing."""
    unknown = sorted(set(selected or ()) - {t for names in targets.values() for t in names})
    if unknown:
        offered = "; ".join(f"{dataset}: {', '.join(names)}" for dataset, names in targets.items())
        raise ValueError(
            f"--targets {unknown} are not targets of the selected data sets ({offered})."
        )


def run(args) -> dict:
    models = {**MULTITASK, **VARIANTS, **SINGLE_TASK}
    names = [
        name for name in models if (name in args.models if args.models else name not in VARIANTS)
    ]
    loaded = {dataset: DATASETS[dataset](args) for dataset in args.datasets}
    check_targets(args.targets, {dataset: data[4] for dataset, data in loaded.items()})
    runs = []
    for dataset, (X, Y, X_test, Y_test, targets) in loaded.items():
        for target in targets:
            if args.targets and target not in args.targets:
                continue
            for setting in args.settings:
                for fraction in args.fractions:
                    for seed in range(args.seeds):
                        scarce = scarce_labels(Y, target, fraction, setting, seed)
                        for name in names:
                            label = f"{dataset}, {target}, {setting} {fraction:g}, seed {seed}"
                            start = time.perf_counter()
                            with heartbeat(f"{label}: {name}"):
                                task = list(Y.columns).index(target)
                                model = configure(models[name](seed, task), args)
                                auc = fit_and_score(name, model, X, scarce, X_test,
                                                    Y_test[target], target)  # fmt: skip
                            seconds = time.perf_counter() - start
                            print(f"  {label}: {name}: test AUC {auc:.4f} ({seconds:.1f} s)",
                                  file=sys.stderr, flush=True)  # fmt: skip
                            runs.append({
                                "dataset": dataset, "target": target, "setting": setting,
                                "fraction": fraction, "labels": int(scarce[target].notna().sum()),
                                "seed": seed, "model": name, "auc": auc, "seconds": seconds,
                                "members": members_of(model),
                            })  # fmt: skip
    return {
        "benchmark": "label_scarcity",
        "config": {k: v for k, v in vars(args).items() if k != "output"},
        "environment": environment(),
        "runs": runs,
        "results": summarise(runs),
    }


def summarise(runs: list[dict]) -> list[dict]:
    """Per curve point and model: mean AUC over seeds, and the paired difference of the
    reference model against it (mean, 95 % t-interval where there are two seeds or more)."""
    frame = pd.DataFrame(runs)
    keys = ["dataset", "target", "setting", "fraction"]
    results = []
    for point, group in frame.groupby(keys, sort=False):
        by_model = {
            name: rows.sort_values("seed") for name, rows in group.groupby("model", sort=False)
        }
        reference = by_model.get(REFERENCE)
        for name, rows in by_model.items():
            row = dict(zip(keys, point))
            row.update(model=name, labels=int(rows["labels"].iloc[0]), seeds=len(rows),
                       auc=float(rows["auc"].mean()), auc_std=float(rows["auc"].std(ddof=0)),
                       seconds=float(rows["seconds"].median()))  # fmt: skip
            if reference is not None and name != REFERENCE:
                row[f"{REFERENCE} minus this"] = paired_interval(
                    reference["auc"].to_numpy(), rows["auc"].to_numpy()
                )
            results.append(row)
    return results


def format_table(report: dict) -> str:
    """A table per curve (data set, target, setting): a row per fraction, a column per model."""
    results = pd.DataFrame(report["results"])
    seeds = report["config"]["seeds"]
    tables = []
    for (dataset, target, setting), curve in results.groupby(
        ["dataset", "target", "setting"], sort=False
    ):
        models = list(dict.fromkeys(curve["model"]))
        lines = [
            f"{dataset}, target {target!r}, {'every task' if setting == 'all' else 'the target'}"
            f" scarce: test ROC AUC, mean of {seeds} seed(s); in brackets, {REFERENCE} minus"
            " the model, paired, with its 95 % interval",
            "",
            "| labels kept | rows | " + " | ".join(models) + " |",
            "|---:|---:|" + "---:|" * len(models),
        ]
        for fraction, point in curve.groupby("fraction", sort=True):
            cells = []
            for name in models:
                row = point[point["model"] == name]
                if row.empty:
                    cells.append("")
                    continue
                row = row.iloc[0]
                cell = f"{row['auc']:.4f}"
                difference = row.get(f"{REFERENCE} minus this")
                if isinstance(difference, dict):
                    low, high = difference["interval"]
                    cell += f" [{difference['mean']:+.4f}" + (
                        f", {low:+.4f} to {high:+.4f}]" if np.isfinite(low) else "]"
                    )
                cells.append(cell)
            rows = int(point["labels"].iloc[0])
            lines.append(f"| {fraction:.0%} | {rows:,} | " + " | ".join(cells) + " |")
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def plot(report: dict, path: Path) -> None:
    """AUC against the fraction of the target's labels, a panel per curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = pd.DataFrame(report["results"])
    curves = list(results.groupby(["dataset", "target", "setting"], sort=False))
    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.5), squeeze=False)
    for ax, ((dataset, target, setting), curve) in zip(axes[0], curves):
        for name, rows in curve.groupby("model", sort=False):
            rows = rows.sort_values("fraction")
            ax.errorbar(rows["fraction"], rows["auc"], yerr=rows["auc_std"], marker="o",
                        capsize=2, label=name,
                        linewidth=2.5 if name == REFERENCE else 1.2)  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("fraction of the target's training labels kept")
        ax.set_ylabel("test ROC AUC")
        ax.set_title(f"{dataset}: {target} ({'all tasks' if setting == 'all' else 'target'} "
                     "scarce)", fontsize=9)  # fmt: skip
        ax.legend(fontsize=7)
    save_figure(fig, path, dpi=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    parser.add_argument("--targets", nargs="*", default=None, help="only these target tasks")
    parser.add_argument("--settings", nargs="+", choices=["target", "all"], default=["target"])
    parser.add_argument("--fractions", nargs="+", type=float, default=FRACTIONS)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=None, help="only these models")
    parser.add_argument("--adult-rows", type=int, default=None, help="first training rows only")
    parser.add_argument("--task-rows", type=int, default=8000, help="rows of make_task_groups")
    parser.add_argument("--max-epochs", type=int, default=None, help="networks (default 50)")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(
        argv,
        parse_args,
        run,
        format_table,
        output=RESULTS / "label_scarcity.json",
        plot=lambda r, out: plot(r, out.with_suffix(".png")),
    )


if __name__ == "__main__":
    main()
