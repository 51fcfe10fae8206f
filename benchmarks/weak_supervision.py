"""Weak supervision: the label model against majority vote, Snorkel's and MeTaL's label models.

All on sources of planted accuracy (``sklearn_mtl.datasets.make_weak_labels``),
side by side in one run:

- **one task**, 8 sources (accuracies 0.55-0.9, each voting on 60 % of
  20,000 items), classes balanced or 70/30: the error of each model's
  estimated source accuracies, its label accuracy on the items with a vote,
  and its fit time;
- **a hierarchy** (degree ⊃ postgraduate, and an independent income task),
  5 sources covering 1-3 tasks: per-task label accuracy;
- **a dependent pair** (source 5 repeats source 0 on 90 % of items), declared
  or not: accuracy errors and label accuracy;
- **speed**: 1,000,000 items by 50 sources;
- **Adult with 15 hand-written rules** (``adult_rules``) for Bachelors or
  more ⊃ postgraduate, and income over 50K, run on the training file: each
  label model's accuracy against the gold labels, and the same MMoE
  (``MultiTaskNet``) trained on the label model's soft labels, on majority
  vote (ties left missing) and on the gold labels, scored by test ROC AUC.

Snorkel's ``LabelModel`` (``snorkel==0.10.0``) and MeTaL's ``LabelModel`` and
``MTLabelModel`` (``snorkel-metal==0.5.0``) run from the ``benchmark``
extra. MeTaL 0.5.0 calls networkx's ``Graph.node``, removed in networkx 2.4;
the benchmark aliases it to ``Graph.nodes`` (nothing else is changed). A
library that does not import is reported with the reason, and the other
rows still run. ``python -m benchmarks run weak_supervision`` (``--quick``:
fewer items, no 1M-item run).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from sklearn_mtl.datasets import make_weak_labels
from sklearn_mtl.weak import MajorityVoter, MultiTaskLabelModel, hierarchy

try:
    from ._environment import environment
    from ._report import benchmark_main, save_figure
    from ._weak_adult import adult
    from ._weak_peers import (
        EPOCHS,
        accuracy_errors,
        metal_accuracies,
        metal_multitask,
        peers,
        snorkel_model,
        timed,
    )
except ImportError:  # run as a script
    from _environment import environment
    from _report import benchmark_main, save_figure
    from _weak_adult import adult
    from _weak_peers import (
        EPOCHS,
        accuracy_errors,
        metal_accuracies,
        metal_multitask,
        peers,
        snorkel_model,
        timed,
    )

RESULTS = Path(__file__).resolve().parent / "results"
ACCURACIES = np.array([0.9, 0.8, 0.75, 0.7, 0.65, 0.6, 0.85, 0.55])
HIERARCHY_ACCURACIES = np.array([[0.85, 0.8, 0.75], [0.7, 0.7, 0.7], [0.8, 0.65, 0.8],
                                 [0.75, 0.85, 0.6], [0.65, 0.75, 0.85]])  # fmt: skip
HIERARCHY_COVERAGE = [[0, 1, 2], [0, 2], [1], [0, 1], [1, 2]]


def one_task(seed, balance, n_items, found) -> dict:
    L, Y = make_weak_labels(n_items, ACCURACIES, propensity=0.6, class_balance=balance,
                            random_state=seed)  # fmt: skip
    L, y = L[:, :, 0], Y[:, 0]
    voted = (L != -1).any(axis=1)
    true = [np.mean(L[L[:, i] != -1, i] == y[L[:, i] != -1]) for i in range(L.shape[1])]
    rows = {}

    def record(name, predicted, seconds, estimated=None):
        row = {"accuracy": float(np.mean(predicted[voted] == y[voted])), "seconds": seconds}
        if estimated is not None:
            row.update(accuracy_errors(estimated, true), estimated=list(map(float, estimated)))
        rows[name] = row

    voter, seconds = timed(lambda: MajorityVoter(tie_break="lowest").fit(L))
    record("majority vote", voter.predict(L), seconds)
    for balance_option in ("estimate", "uniform"):
        model, seconds = timed(MultiTaskLabelModel(class_balance=balance_option).fit, L)
        record(f"MultiTaskLabelModel ({balance_option} balance)", model.predict(L), seconds,
               model.source_accuracies_[:, 0])  # fmt: skip
    if not isinstance(found["snorkel"], str):
        model, seconds = timed(lambda: snorkel_model(found["snorkel"], L, seed))
        record("Snorkel LabelModel", model.predict(L, tie_break_policy="abstain"), seconds,
               model.get_weights())  # fmt: skip
    if not isinstance(found["metal"], str):
        metal = found["metal"][0]

        def fit_metal():
            model = metal(k=2, verbose=False)
            model.train_model(L + 1, n_epochs=EPOCHS, seed=seed, verbose=False)
            return model

        model, seconds = timed(fit_metal)
        record("MeTaL LabelModel", model.predict_proba(L + 1).argmax(axis=1), seconds,
               metal_accuracies(model, L))  # fmt: skip
    return {"seed": seed, "balance": balance, "true_accuracies": list(map(float, true)),
            "models": rows}  # fmt: skip


def task_hierarchy(seed, n_items, found) -> dict:
    graph = hierarchy([(1, 0)], 3)
    L, Y = make_weak_labels(n_items, HIERARCHY_ACCURACIES, propensity=0.7,
                            coverage=HIERARCHY_COVERAGE, task_graph=graph,
                            random_state=seed)  # fmt: skip
    rows = {}

    def record(name, predicted, seconds):
        rows[name] = {
            "per_task_accuracy": [float(np.mean(predicted[:, t] == Y[:, t])) for t in range(3)],
            "infeasible": int(np.sum((predicted[:, 1] == 1) & (predicted[:, 0] == 0))),
            "seconds": seconds,
        }

    voter, seconds = timed(lambda: MajorityVoter(tie_break="lowest").fit(L))
    record("majority vote", voter.predict(L), seconds)
    for balance, source in (("uniform", "coverage"), ("estimate", "coverage"),
                            ("uniform", "joint")):  # fmt: skip
        model = MultiTaskLabelModel(task_graph=graph, class_balance=balance, source_model=source)
        model, seconds = timed(model.fit, L)
        suffix = ", joint source model" if source == "joint" else ""
        record(f"MultiTaskLabelModel ({balance} balance{suffix})", model.predict(L), seconds)
    if not isinstance(found["metal"], str):
        record("MeTaL MTLabelModel", *timed(metal_multitask, found["metal"], L, graph, seed))
    return {"seed": seed, "models": rows}


def dependent_pair(seed, n_items, found) -> dict:
    accuracies = np.array([0.6, 0.85, 0.8, 0.75, 0.7, 0.65])
    L, Y = make_weak_labels(n_items, accuracies, propensity=0.6, copies=[(0, 5, 0.9)],
                            random_state=seed)  # fmt: skip
    L, y = L[:, :, 0], Y[:, 0]
    true = [np.mean(L[L[:, i] != -1, i] == y[L[:, i] != -1]) for i in range(6)]
    voted = (L != -1).any(axis=1)
    rows = {}
    for name, deps in (("not declared", None), ("declared", [(0, 5)])):
        model = MultiTaskLabelModel(source_dependencies=deps).fit(L)
        rows[f"MultiTaskLabelModel, pair {name}"] = {
            **accuracy_errors(model.source_accuracies_[:, 0], true),
            "accuracy": float(np.mean(model.predict(L)[voted] == y[voted]))}  # fmt: skip
    if not isinstance(found["metal"], str):
        for name, deps in (("not declared", []), ("declared", [(0, 5)])):
            metal = found["metal"][0](k=2, verbose=False)
            metal.train_model(L + 1, deps=deps, n_epochs=EPOCHS, seed=seed, verbose=False)
            row = accuracy_errors(metal_accuracies(metal, L), true)
            try:
                predicted = metal.predict_proba(L + 1).argmax(axis=1)
                row["accuracy"] = float(np.mean(predicted[voted] == y[voted]))
            except KeyError as error:  # MeTaL 0.5.0 with deps: its junction tree lacks indices
                row["accuracy"] = None
                row["predict_error"] = f"{type(error).__name__}: {error}"
            rows[f"MeTaL LabelModel, pair {name}"] = row
    return {"seed": seed, "true_accuracies": list(map(float, true)), "models": rows}


def speed(n_items, n_sources, found) -> dict:
    rng = np.random.RandomState(0)
    accuracies = rng.uniform(0.55, 0.9, n_sources)
    L, _ = make_weak_labels(n_items, accuracies, propensity=0.1, random_state=0)
    L = L[:, :, 0]
    rows = {}
    model, seconds = timed(lambda: MultiTaskLabelModel().fit(L))
    rows["MultiTaskLabelModel"] = {
        "fit_seconds": seconds,
        **accuracy_errors(model.source_accuracies_[:, 0], accuracies),
    }
    _, seconds = timed(lambda: model.predict_proba(L))
    rows["MultiTaskLabelModel"]["predict_proba_seconds"] = seconds
    if not isinstance(found["snorkel"], str):
        snorkel, seconds = timed(lambda: snorkel_model(found["snorkel"], L, 0))
        rows["Snorkel LabelModel"] = {
            "fit_seconds": seconds,
            **accuracy_errors(snorkel.get_weights(), accuracies),
        }
    return {"n_items": n_items, "n_sources": n_sources, "models": rows}


def run(args) -> dict:
    found = peers()
    warnings.filterwarnings("ignore", module="metal")  # MeTaL's deprecated uint8 masks
    warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8")
    report = {
        "benchmark": "weak_supervision",
        "config": {k: (v.name if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": environment(peers={name: value if isinstance(value, str) else "ran"
                                          for name, value in found.items()}),
        "one_task": [one_task(seed, balance, args.items, found)
                     for balance in ([0.5, 0.5], [0.7, 0.3]) for seed in range(args.seeds)],
        "hierarchy": [task_hierarchy(seed, args.items, found) for seed in range(args.seeds)],
        "dependent_pair": [dependent_pair(seed, args.items, found) for seed in range(args.seeds)],
    }  # fmt: skip
    if args.speed_items:
        report["speed"] = speed(args.speed_items, args.speed_sources, found)
    if args.adult_epochs:
        report["adult"] = adult(args, found)
    return report


def _mean(runs, model, key):
    values = [r["models"][model][key] for r in runs if key in r["models"].get(model, {})]
    return np.mean(values, axis=0) if values else None


def format_table(report) -> str:
    lines = []
    for balance in ([0.5, 0.5], [0.7, 0.3]):
        runs = [r for r in report["one_task"] if r["balance"] == balance]
        lines += [f"**One task, class balance {balance}** (mean over {len(runs)} seeds)", "",
                  "| model | label accuracy | max accuracy error | mean accuracy error | fit s |",
                  "|---|---:|---:|---:|---:|"]  # fmt: skip
        for model in runs[0]["models"]:
            err = _mean(runs, model, "max_error")
            mean_err = _mean(runs, model, "mean_error")
            lines.append(f"| {model} | {_mean(runs, model, 'accuracy'):.4f} | "
                         f"{'' if err is None else f'{err:.3f}'} | "
                         f"{'' if mean_err is None else f'{mean_err:.3f}'} | "
                         f"{_mean(runs, model, 'seconds'):.2f} |")  # fmt: skip
        lines.append("")
    runs = report["hierarchy"]
    lines += ["**Hierarchy** (degree ⊃ postgraduate; income), per-task label accuracy", "",
              "| model | degree | postgraduate | income | infeasible | fit s |",
              "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for model in runs[0]["models"]:
        accuracy = _mean(runs, model, "per_task_accuracy")
        lines.append(f"| {model} | " + " | ".join(f"{a:.4f}" for a in accuracy)
                     + f" | {_mean(runs, model, 'infeasible'):.0f} | "
                     f"{_mean(runs, model, 'seconds'):.2f} |")  # fmt: skip
    lines += [
        "",
        "**A dependent pair** (source 5 repeats source 0 on 90 % of items)",
        "",
        "| model | label accuracy | max accuracy error | mean accuracy error |",
        "|---|---:|---:|---:|",
    ]
    runs = report["dependent_pair"]
    for model in runs[0]["models"]:
        failed = runs[0]["models"][model].get("predict_error")
        accuracy = f"fails: {failed}" if failed else f"{_mean(runs, model, 'accuracy'):.4f}"
        lines.append(f"| {model} | {accuracy} | {_mean(runs, model, 'max_error'):.3f} | "
                     f"{_mean(runs, model, 'mean_error'):.3f} |")  # fmt: skip
    if "speed" in report:
        s = report["speed"]
        lines += [
            "",
            f"**Speed**: {s['n_items']:,} items x {s['n_sources']} sources",
            "",
            "| model | fit s | max accuracy error |",
            "|---|---:|---:|",
        ]
        for model, row in s["models"].items():
            lines.append(f"| {model} | {row['fit_seconds']:.1f} | {row['max_error']:.3f} |")
    if "adult" in report:
        a = report["adult"]
        tasks = " | ".join(a["tasks"])
        lines += [
            "",
            "**Adult, 15 hand-written rules** (the training file; gold labels only evaluate)",
            "",
            "Rule coverage per task: "
            + ", ".join(f"{t} {c:.0%}" for t, c in zip(a["tasks"], a["coverage"])),
            "",
            f"| labels | {tasks} (accuracy on the rows with a vote) |",
            "|---|---:|---:|---:|",
        ]
        for name, row in a["label_models"].items():
            lines.append(
                f"| {name} | " + " | ".join(f"{v:.4f}" for v in row["label_accuracy"]) + " |"
            )
        lines += [
            "",
            f"| MMoE trained on | {tasks} (test ROC AUC) | fit s |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in a["end_models"].items():
            lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" for v in row["test_auc"])
                         + f" | {row['fit_seconds']:.0f} |")  # fmt: skip
    peers_line = ", ".join(f"{k}: {v}" for k, v in report["environment"]["peers"].items())
    lines += ["", f"Peer libraries: {peers_line}.", ""]
    return "\n".join(lines)


def plot(report, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = next(r for r in report["one_task"] if r["balance"] == [0.7, 0.3])
    fig, ax = plt.subplots(figsize=(5.5, 5))
    true = np.array(run["true_accuracies"])
    for marker, (model, row) in zip("osD^v", ((m, r) for m, r in run["models"].items()
                                              if "estimated" in r)):  # fmt: skip
        ax.scatter(true, row["estimated"], marker=marker, label=model, alpha=0.8)
    ax.plot([0.5, 1], [0.5, 1], color="0.5", lw=1)
    ax.set_xlabel("true source accuracy")
    ax.set_ylabel("estimated source accuracy")
    ax.set_title(f"8 sources, class balance 70/30 (seed {run['seed']})")
    ax.legend(fontsize=8)
    save_figure(fig, f"{stem}-accuracies.png")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--speed-items", type=int, default=1_000_000, help="0: no speed run")
    parser.add_argument("--speed-sources", type=int, default=50)
    parser.add_argument("--adult-epochs", type=int, default=15, help="0: no Adult run")
    parser.add_argument("--adult-rows", type=int, default=0, help="0: the whole training file")
    parser.add_argument("--output", type=Path, default=RESULTS / "weak_supervision.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(
        argv, parse_args, run, format_table, plot=lambda r, out: plot(r, out.with_suffix(""))
    )


if __name__ == "__main__":
    main()
