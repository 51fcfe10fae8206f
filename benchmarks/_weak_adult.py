"""Weak supervision on Adult: fifteen hand-written rules, the label models, an MMoE on each."""

from __future__ import annotations

import numpy as np

from sklearn_mtl.weak import MajorityVoter, MultiTaskLabelModel, hierarchy

try:
    from ._weak_peers import metal_multitask, snorkel_model, timed
except ImportError:  # run as a script
    from _weak_peers import metal_multitask, snorkel_model, timed

__all__ = ["ADULT_LABEL_MODELS", "adult", "adult_rules"]


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
    from sklearn_mtl.architectures import MMoE
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
        model, seconds = timed(MultiTaskLabelModel(task_graph=graph, **settings).fit, L)
        soft = np.column_stack([p[:, 1] for p in model.predict_proba(L)])
        soft[~covered] = np.nan
        labels[name] = soft
        rows[name] = {"label_accuracy": _covered_accuracy(model.predict(L), Y, covered),
                      "fit_seconds": seconds}  # fmt: skip
    if not isinstance(found["snorkel"], str):  # one single-task model per task
        models = [snorkel_model(found["snorkel"], L[:, :, t], 0) for t in range(3)]
        predicted = np.stack([m.predict_proba(L[:, :, t]).argmax(axis=1)
                              for t, m in enumerate(models)], axis=1)  # fmt: skip
        rows["Snorkel LabelModel, per task"] = {
            "label_accuracy": _covered_accuracy(predicted, Y, covered)}  # fmt: skip
    if not isinstance(found["metal"], str):
        predicted = metal_multitask(found["metal"], L, graph, 0)
        rows["MeTaL MTLabelModel"] = {"label_accuracy": _covered_accuracy(predicted, Y, covered)}
    lowest = MajorityVoter(tie_break="lowest").fit(L).predict(L)  # ties: class 0, the majority
    rows["majority vote"] = {"label_accuracy": _covered_accuracy(lowest, Y, covered)}
    labels["gold labels"] = Y.astype(float)
    end = {}
    for name, target in labels.items():
        kinds = ["probabilistic" if "LabelModel" in name else "binary"] * 3
        network = MultiTaskNet(MMoE(n_ensemble=1), task_types=kinds,  # one network, as stored
                               max_epochs=args.adult_epochs, lr=3e-3, batch_size=512,
                               early_stopping=False, random_state=0)  # fmt: skip
        _, seconds = timed(network.fit, X, target)
        probas = network.predict_proba(X_test)
        end[name] = {"test_auc": [float(roc_auc_score(Y_test[:, t], probas[t][:, 1]))
                                  for t in range(3)], "fit_seconds": seconds}  # fmt: skip
    return {"tasks": tasks, "coverage": covered.mean(axis=0).tolist(),
            "rules": summary.assign(polarity=summary.polarity.astype(str)).to_dict("records"),
            "label_models": rows, "end_models": end}  # fmt: skip
