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


def _metal_multitask(metal, L, graph, seed) -> np.ndarray:
    """MeTaL's ``MTLabelModel`` over the feasible joint labels ``graph``: its hard labels."""
    _, MTLabelModel, TaskGraph = metal
    n_tasks = graph.shape[1]

    class Feasible(TaskGraph):
        def feasible_set(self):
            yield from (row + 1 for row in graph)  # MeTaL counts classes from 1

        def is_feasible(self, y):
            return any((row + 1 == y).all() for row in graph)

    model = MTLabelModel(task_graph=Feasible([2] * n_tasks), verbose=False)
    per_task = [L[:, :, t] + 1 for t in range(n_tasks)]
    model.train_model(per_task, n_epochs=EPOCHS, seed=seed, verbose=False)
    return np.stack([np.asarray(p).argmax(axis=1) for p in model.predict_proba(per_task)], axis=1)


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
    for balance, source in (("uniform", "coverage"), ("estimate", "coverage"),
                            ("uniform", "joint")):  # fmt: skip
        model = MultiTaskLabelModel(task_graph=graph, class_balance=balance, source_model=source)
        model, seconds = _timed(model.fit, L)
        suffix = ", joint source model" if source == "joint" else ""
        record(f"MultiTaskLabelModel ({balance} balance{suffix})", model.predict(L), seconds)
    if not isinstance(found["metal"], str):
        record("MeTaL MTLabelModel", *_timed(_metal_multitask, found["metal"], L, graph, seed))
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
            **_accuracy_errors(model.source_accuracies_[:, 0], true),
            "accuracy": float(np.mean(model.predict(L)[voted] == y[voted]))}  # fmt: skip
    if not isinstance(found["metal"], str):
        for name, deps in (("not declared", []), ("declared", [(0, 5)])):
            metal = found["metal"][0](k=2, verbose=False)
            metal.train_model(L + 1, deps=deps, n_epochs=EPOCHS, seed=seed, verbose=False)
            row = _accuracy_errors(_metal_accuracies(metal, L), true)
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


def adult_rules():
    """Fifteen rules an analyst might write for Adult's degree, postgraduate and income tasks."""
    from sklearn_mtl.weak import LabelingFunction as Rule

    manual = ["Handlers-cleaners", "Machine-op-inspct", "Farming-fishing", "Transport-moving",
              "Craft-repair", "Other-service", "Priv-house-serv"]  # fmt: skip
    professional = ["Prof-specialty", "Exec-managerial"]

    def among(column, values, label):
        return lambda frame: np.where(frame[column].isin(values), label, -1)

    return [
        # task 0: Bachelors or more
        Rule("professional", query="occupation == 'Prof-specialty'", label=1, task=0),
        Rule("executive", query="occupation == 'Exec-managerial'", label=1, task=0),
        Rule("manual work", among("occupation", manual, 0), vectorized=True, task=0),
        Rule("young", query="age < 23", label=0, task=0),
        Rule(
            "government office",
            lambda f: np.where(
                f["workclass"].isin(["Federal-gov", "State-gov"])
                & f["occupation"].isin([*professional, "Tech-support"]),
                1,
                -1,
            ),
            vectorized=True,
            task=0,
        ),  # fmt: skip
        # task 1: postgraduate (Masters, Prof-school, Doctorate)
        Rule(
            "senior professional",
            query="occupation == 'Prof-specialty' and age >= 35",
            label=1,
            task=1,
        ),  # fmt: skip
        Rule(
            "not a professional",
            lambda f: np.where(~f["occupation"].isin(professional), 0, -1),
            vectorized=True,
            task=1,
        ),  # fmt: skip
        Rule("under 28", query="age < 28", label=0, task=1),
        Rule(
            "state professional",
            query="workclass == 'State-gov' and occupation == 'Prof-specialty'",
            label=1,
            task=1,
        ),  # fmt: skip
        # task 2: income over 50K
        Rule("capital gains", query="`capital-gain` > 5000", label=1, task=2),
        Rule(
            "child or unmarried",
            among("relationship", ["Own-child", "Unmarried"], 0),
            vectorized=True,
            task=2,
        ),  # fmt: skip
        Rule("part time", query="`hours-per-week` < 35", label=0, task=2),
        Rule(
            "married manager",
            lambda f: np.where(
                (f["marital-status"] == "Married-civ-spouse") & f["occupation"].isin(professional),
                1,
                -1,
            ),
            vectorized=True,
            task=2,
        ),  # fmt: skip
        Rule("young earner", query="age < 25", label=0, task=2),
        Rule(
            "long-hours husband",
            query="relationship == 'Husband' and `hours-per-week` > 45",
            label=1,
            task=2,
        ),  # fmt: skip
    ]


ADULT_LABEL_MODELS = {
    "MultiTaskLabelModel (uniform balance)": {},
    "MultiTaskLabelModel (estimate balance)": {"class_balance": "estimate"},
    "MultiTaskLabelModel (uniform balance, l2=1)": {"l2": 1.0},
    "MultiTaskLabelModel (uniform balance, joint source model)": {"source_model": "joint"},
}
"""The label models whose soft labels train the MMoE on Adult: name and parameters."""


def _covered_accuracy(predicted, Y, covered) -> list[float]:
    """Per task, the share of the rows with a vote that are labelled right."""
    return [float(np.mean(predicted[covered[:, t], t] == Y[covered[:, t], t]))
            for t in range(Y.shape[1])]  # fmt: skip


def adult(args, found) -> dict:
    """Rules on Adult's training rows; label models against the gold labels; MMoE on each."""
    from sklearn.metrics import roc_auc_score

    from sklearn_mtl import MultiTaskNet
    from sklearn_mtl.datasets import load_adult
    from sklearn_mtl.weak import apply_labeling_functions, label_matrix_summary

    X, Y = load_adult(task_group="degrees", return_X_y=True)
    X_test, Y_test = load_adult(task_group="degrees", subset="test", return_X_y=True)
    if args.adult_rows:
        X, Y = X.iloc[: args.adult_rows], Y.iloc[: args.adult_rows]
    tasks = list(Y.columns)
    Y, Y_test = Y.to_numpy(), Y_test.to_numpy()
    rules = adult_rules()
    L = apply_labeling_functions(X, rules)
    summary = label_matrix_summary(L, [r.name for r in rules], Y)
    graph = hierarchy([(1, 0)], 3)
    voted = L != -1  # (n, m, T)
    covered = voted.any(axis=1)  # (n, T)
    labels = {}
    rows = {}
    voter = MajorityVoter().fit(L)
    vote = voter.predict(L).astype(float)
    vote[vote == -1] = np.nan  # ties and rows without a vote: missing labels
    labels["majority vote"] = vote
    for name, settings in ADULT_LABEL_MODELS.items():
        model, seconds = _timed(MultiTaskLabelModel(task_graph=graph, **settings).fit, L)
        soft = np.column_stack([p[:, 1] for p in model.predict_proba(L)])
        soft[~covered] = np.nan
        labels[name] = soft
        rows[name] = {"label_accuracy": _covered_accuracy(model.predict(L), Y, covered),
                      "fit_seconds": seconds}  # fmt: skip
    if not isinstance(found["snorkel"], str):  # one single-task model per task
        models = [_snorkel(found["snorkel"], L[:, :, t], 0) for t in range(3)]
        predicted = np.stack([m.predict_proba(L[:, :, t]).argmax(axis=1)
                              for t, m in enumerate(models)], axis=1)  # fmt: skip
        rows["Snorkel LabelModel, per task"] = {
            "label_accuracy": _covered_accuracy(predicted, Y, covered)}  # fmt: skip
    if not isinstance(found["metal"], str):
        predicted = _metal_multitask(found["metal"], L, graph, 0)
        rows["MeTaL MTLabelModel"] = {"label_accuracy": _covered_accuracy(predicted, Y, covered)}
    lowest = MajorityVoter(tie_break="lowest").fit(L).predict(L)  # ties: class 0, the majority
    rows["majority vote"] = {"label_accuracy": _covered_accuracy(lowest, Y, covered)}
    labels["gold labels"] = Y.astype(float)
    end = {}
    for name, target in labels.items():
        kinds = ["probabilistic" if "LabelModel" in name else "binary"] * 3
        network = MultiTaskNet("mmoe", task_types=kinds, max_epochs=args.adult_epochs, lr=3e-3,
                               batch_size=512, early_stopping=False,
                               random_state=0)  # fmt: skip
        _, seconds = _timed(network.fit, X, target)
        probas = network.predict_proba(X_test)
        end[name] = {"test_auc": [float(roc_auc_score(Y_test[:, t], probas[t][:, 1]))
                                  for t in range(3)], "fit_seconds": seconds}  # fmt: skip
    return {"tasks": tasks, "coverage": covered.mean(axis=0).tolist(),
            "rules": summary.assign(polarity=summary.polarity.astype(str)).to_dict("records"),
            "label_models": rows, "end_models": end}  # fmt: skip


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
    fig.tight_layout()
    fig.savefig(f"{stem}-accuracies.png", dpi=90)
    plt.close(fig)


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
    args = parse_args(argv)
    report = run(args)
    write_report(report, args.output, format_table(report),
                 plot=lambda r, out: plot(r, out.with_suffix("")))  # fmt: skip
    return report


if __name__ == "__main__":
    main()
