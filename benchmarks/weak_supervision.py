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
  or not;
- **speed**: 1,000,000 items by 50 sources.

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
import platform
import time
import warnings
from pathlib import Path

import numpy as np

import sklearn_mtl
from sklearn_mtl.datasets import make_weak_labels
from sklearn_mtl.weak import MajorityVoter, MultiTaskLabelModel, hierarchy

try:
    from ._report import write_report
except ImportError:  # run as a script
    from _report import write_report

RESULTS = Path(__file__).resolve().parent / "results"
ACCURACIES = np.array([0.9, 0.8, 0.75, 0.7, 0.65, 0.6, 0.85, 0.55])
HIERARCHY_ACCURACIES = np.array([[0.85, 0.8, 0.75], [0.7, 0.7, 0.7], [0.8, 0.65, 0.8],
                                 [0.75, 0.85, 0.6], [0.65, 0.75, 0.85]])  # fmt: skip
HIERARCHY_COVERAGE = [[0, 1, 2], [0, 2], [1], [0, 1], [1, 2]]
EPOCHS = 500
"""Training epochs of Snorkel's and MeTaL's label models (their default is 100)."""


def _timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def peers() -> dict:
    """The peer libraries that import here, or the reason each does not."""
    found = {}
    try:
        from snorkel.labeling.model import LabelModel

        found["snorkel"] = LabelModel
    except Exception as error:  # noqa: BLE001 - any import failure is the finding
        found["snorkel"] = f"{type(error).__name__}: {error}"
    try:
        import networkx

        if not hasattr(networkx.Graph, "node"):  # removed in networkx 2.4; MeTaL 0.5 calls it
            networkx.Graph.node = property(lambda graph: graph.nodes)
        from metal.label_model import LabelModel as MetalLabelModel
        from metal.multitask import MTLabelModel, TaskGraph

        found["metal"] = (MetalLabelModel, MTLabelModel, TaskGraph)
    except Exception as error:  # noqa: BLE001
        found["metal"] = f"{type(error).__name__}: {error}"
    return found


def _accuracy_errors(estimated, true):
    error = np.abs(np.asarray(estimated) - np.asarray(true))
    return {"max_error": float(np.nanmax(error)), "mean_error": float(np.nanmean(error))}


def _snorkel(LabelModel, L, seed):
    model = LabelModel(cardinality=2, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(L, n_epochs=EPOCHS, seed=seed, progress_bar=False)
    return model


def _metal_accuracies(model, L):
    """MeTaL's per-source accuracy from its conditional probabilities (as Snorkel computes it)."""
    probs = model.get_conditional_probs()  # (m (k + 1), k); row 0 of a source: abstain
    k = probs.shape[1]
    balance = model.p
    coverage = (L != -1).mean(axis=0)
    return np.array([
        (np.diag(probs[i * (k + 1) + 1 : (i + 1) * (k + 1)]) * balance).sum() / coverage[i]
        for i in range(L.shape[1])
    ])  # fmt: skip


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
            row.update(_accuracy_errors(estimated, true), estimated=list(map(float, estimated)))
        rows[name] = row

    voter, seconds = _timed(lambda: MajorityVoter(tie_break="lowest").fit(L))
    record("majority vote", voter.predict(L), seconds)
    for balance_option in ("estimate", "uniform"):
        model, seconds = _timed(MultiTaskLabelModel(class_balance=balance_option).fit, L)
        record(f"MultiTaskLabelModel ({balance_option} balance)", model.predict(L), seconds,
               model.source_accuracies_[:, 0])  # fmt: skip
    if not isinstance(found["snorkel"], str):
        model, seconds = _timed(lambda: _snorkel(found["snorkel"], L, seed))
        record("Snorkel LabelModel", model.predict(L, tie_break_policy="abstain"), seconds,
               model.get_weights())  # fmt: skip
    if not isinstance(found["metal"], str):
        metal = found["metal"][0]

        def fit_metal():
            model = metal(k=2, verbose=False)
            model.train_model(L + 1, n_epochs=EPOCHS, seed=seed, verbose=False)
            return model

        model, seconds = _timed(fit_metal)
        record("MeTaL LabelModel", model.predict_proba(L + 1).argmax(axis=1), seconds,
               _metal_accuracies(model, L))  # fmt: skip
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

    voter, seconds = _timed(lambda: MajorityVoter(tie_break="lowest").fit(L))
    record("majority vote", voter.predict(L), seconds)
    for balance in ("uniform", "estimate"):
        model, seconds = _timed(MultiTaskLabelModel(task_graph=graph, class_balance=balance).fit, L)
        record(f"MultiTaskLabelModel ({balance} balance)", model.predict(L), seconds)
    if not isinstance(found["metal"], str):
        _, MTLabelModel, TaskGraph = found["metal"]

        class Feasible(TaskGraph):
            def feasible_set(self):
                yield from (row + 1 for row in graph)  # MeTaL counts classes from 1

            def is_feasible(self, y):
                return any((row + 1 == y).all() for row in graph)

        def fit_metal():
            metal = MTLabelModel(task_graph=Feasible([2, 2, 2]), verbose=False)
            metal.train_model([L[:, :, t] + 1 for t in range(3)], n_epochs=EPOCHS, seed=seed,
                              verbose=False)  # fmt: skip
            return metal

        metal, seconds = _timed(fit_metal)
        joint = metal.predict_proba([L[:, :, t] + 1 for t in range(3)])
        joint = np.asarray(joint[0] if isinstance(joint, list) else joint)
        if joint.ndim == 2 and joint.shape[1] == len(graph):
            record("MeTaL MTLabelModel", graph[joint.argmax(axis=1)], seconds)
        else:  # per-task marginals
            record("MeTaL MTLabelModel", np.stack([np.asarray(p).argmax(1) for p in
                                                   metal.predict_proba(
                                                       [L[:, :, t] + 1 for t in range(3)])],
                                                  axis=1), seconds)  # fmt: skip
    return {"seed": seed, "models": rows}


def dependent_pair(seed, n_items, found) -> dict:
    accuracies = np.array([0.6, 0.85, 0.8, 0.75, 0.7, 0.65])
    L, Y = make_weak_labels(n_items, accuracies, propensity=0.6, copies=[(0, 5, 0.9)],
                            random_state=seed)  # fmt: skip
    L, y = L[:, :, 0], Y[:, 0]
    true = [np.mean(L[L[:, i] != -1, i] == y[L[:, i] != -1]) for i in range(6)]
    rows = {}
    for name, deps in (("not declared", None), ("declared", [(0, 5)])):
        model = MultiTaskLabelModel(source_dependencies=deps).fit(L)
        rows[f"MultiTaskLabelModel, pair {name}"] = _accuracy_errors(model.source_accuracies_[:, 0],
                                                                     true)  # fmt: skip
    if not isinstance(found["metal"], str):
        for name, deps in (("not declared", []), ("declared", [(0, 5)])):
            metal = found["metal"][0](k=2, verbose=False)
            metal.train_model(L + 1, deps=deps, n_epochs=EPOCHS, seed=seed, verbose=False)
            rows[f"MeTaL LabelModel, pair {name}"] = _accuracy_errors(
                _metal_accuracies(metal, L), true)  # fmt: skip
    return {"seed": seed, "true_accuracies": list(map(float, true)), "models": rows}


def speed(n_items, n_sources, found) -> dict:
    rng = np.random.RandomState(0)
    accuracies = rng.uniform(0.55, 0.9, n_sources)
    L, _ = make_weak_labels(n_items, accuracies, propensity=0.1, random_state=0)
    L = L[:, :, 0]
    rows = {}
    model, seconds = _timed(lambda: MultiTaskLabelModel().fit(L))
    rows["MultiTaskLabelModel"] = {
        "fit_seconds": seconds,
        **_accuracy_errors(model.source_accuracies_[:, 0], accuracies),
    }
    _, seconds = _timed(lambda: model.predict_proba(L))
    rows["MultiTaskLabelModel"]["predict_proba_seconds"] = seconds
    if not isinstance(found["snorkel"], str):
        snorkel, seconds = _timed(lambda: _snorkel(found["snorkel"], L, 0))
        rows["Snorkel LabelModel"] = {
            "fit_seconds": seconds,
            **_accuracy_errors(snorkel.get_weights(), accuracies),
        }
    return {"n_items": n_items, "n_sources": n_sources, "models": rows}


def run(args) -> dict:
    found = peers()
    warnings.filterwarnings("ignore", module="metal")  # MeTaL's deprecated uint8 masks
    warnings.filterwarnings("ignore", message="indexing with dtype torch.uint8")
    report = {
        "benchmark": "weak_supervision",
        "config": {k: (v.name if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "environment": {"python": platform.python_version(), "sklearn_mtl": sklearn_mtl.__version__,
                        "peers": {name: value if isinstance(value, str) else "ran"
                                  for name, value in found.items()}},
        "one_task": [one_task(seed, balance, args.items, found)
                     for balance in ([0.5, 0.5], [0.7, 0.3]) for seed in range(args.seeds)],
        "hierarchy": [task_hierarchy(seed, args.items, found) for seed in range(args.seeds)],
        "dependent_pair": [dependent_pair(seed, args.items, found) for seed in range(args.seeds)],
    }  # fmt: skip
    if args.speed_items:
        report["speed"] = speed(args.speed_items, args.speed_sources, found)
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
        "| model | max accuracy error | mean accuracy error |",
        "|---|---:|---:|",
    ]
    runs = report["dependent_pair"]
    for model in runs[0]["models"]:
        lines.append(f"| {model} | {_mean(runs, model, 'max_error'):.3f} | "
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
    fig.tight_layout()
    fig.savefig(f"{stem}-accuracies.png", dpi=90)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--speed-items", type=int, default=1_000_000, help="0: no speed run")
    parser.add_argument("--speed-sources", type=int, default=50)
    parser.add_argument("--output", type=Path, default=RESULTS / "weak_supervision.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = run(args)
    write_report(report, args.output, format_table(report),
                 plot=lambda r, out: plot(r, out.with_suffix("")))  # fmt: skip
    return report


if __name__ == "__main__":
    main()
